package ai.tinyfusion.diffusion.transport;

import java.util.Locale;

/**
 * Loss weighting of noise and score models (SiT's {@code --loss-weight}); a velocity model is never weighted.
 * With the plan's drift variance w_t and noise coefficient σ_t: VELOCITY weighs by (w_t / σ_t)², LIKELIHOOD by
 * w_t / σ_t².
 */
public enum WeightType {
    NONE,
    VELOCITY,
    LIKELIHOOD;

    /** {@code velocity}, {@code likelihood}; anything else (null, "None") is NONE, as create_transport. */
    public static WeightType parse(String lossWeight) {
        if (lossWeight == null) {
            return NONE;
        }
        return switch (lossWeight.toLowerCase(Locale.ROOT)) {
            case "velocity" -> VELOCITY;
            case "likelihood" -> LIKELIHOOD;
            default -> NONE;
        };
    }
}
