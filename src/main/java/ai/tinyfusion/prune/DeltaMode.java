package ai.tinyfusion.prune;

import java.util.Locale;

/**
 * How the weights may move while the gates are learned (the paper's ΔΦ, "recoverability"):
 * LoRA adapters on every Linear with the base frozen, every weight trainable, or none (gates only).
 * The pruned model always takes the chosen layers from the original weights; ΔΦ is discarded.
 */
public enum DeltaMode {
    LORA, FULL, NONE;

    public static DeltaMode parse(String s) {
        try {
            return valueOf(s.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("unknown weight-update mode '" + s + "' (lora, full, none)");
        }
    }

    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }
}
