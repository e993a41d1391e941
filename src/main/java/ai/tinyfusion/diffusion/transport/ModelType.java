package ai.tinyfusion.diffusion.transport;

import java.util.Locale;

/** What the network predicts (SiT's {@code --prediction}). */
public enum ModelType {
    VELOCITY,
    NOISE,
    SCORE;

    /** SiT's names: {@code velocity} (the default, also for anything unknown, as create_transport), noise, score. */
    public static ModelType parse(String prediction) {
        if (prediction == null) {
            return VELOCITY;
        }
        return switch (prediction.toLowerCase(Locale.ROOT)) {
            case "noise" -> NOISE;
            case "score" -> SCORE;
            default -> VELOCITY;
        };
    }
}
