package ai.tinyfusion.train;

import ai.tinyfusion.util.Enums;

/** What the recovery after pruning distils from the teacher. */
public enum KdMode {
    /** Plain fine-tuning with the diffusion loss (no teacher). */
    NONE,
    /** α_KD·L_KD + α_GT·L_GT: output (ε and variance-head) distillation plus the diffusion loss. */
    LOGITS,
    /** {@link #LOGITS} plus β·L_Rep on matched block outputs, without masks (ablation). */
    REP,
    /** {@link #LOGITS} plus β·L_Rep with the outlier masks of {@link HiddenMask} (Masked KD). */
    MASKED;

    public static KdMode parse(String s) {
        return Enums.parse(KdMode.class, s, "KD mode");
    }

    /** Whether the mode has a representation term (and so needs a layer map). */
    public boolean usesHidden() {
        return this == REP || this == MASKED;
    }

    @Override
    public String toString() {
        return Enums.label(this);
    }
}
