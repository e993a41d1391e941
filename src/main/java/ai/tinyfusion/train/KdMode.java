package ai.tinyfusion.train;

import java.util.Locale;

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
        try {
            return valueOf(s.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("unknown KD mode '" + s + "' (none, logits, rep, masked)");
        }
    }

    /** Whether the mode has a representation term (and so needs a layer map). */
    public boolean usesHidden() {
        return this == REP || this == MASKED;
    }

    @Override
    public String toString() {
        return name().toLowerCase(Locale.ROOT);
    }
}
