package ai.tinyfusion.prune;

import ai.tinyfusion.util.Enums;

/**
 * How the weights may move while the gates are learned (the paper's ΔΦ, "recoverability"):
 * LoRA adapters on every Linear with the base frozen, every weight trainable, or none (gates only).
 * The pruned model always takes the chosen layers from the original weights; ΔΦ is discarded.
 */
public enum DeltaMode {
    LORA,
    FULL,
    NONE;

    public static DeltaMode parse(String s) {
        return Enums.parse(DeltaMode.class, s, "weight-update mode");
    }

    public String label() {
        return Enums.label(this);
    }
}
