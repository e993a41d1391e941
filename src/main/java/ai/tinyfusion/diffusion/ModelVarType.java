package ai.tinyfusion.diffusion;

/** Where the reverse-process variance comes from. */
public enum ModelVarType {
    /**
     * Learned from the second half of the output channels. DiT's code interprets these channels exactly like
     * {@link #LEARNED_RANGE}, and so does this implementation.
     */
    LEARNED,
    /** The posterior variance beta-tilde_t (log clipped at t = 0). */
    FIXED_SMALL,
    /** beta_t, with the posterior variance at t = 0 for a better decoder likelihood. */
    FIXED_LARGE,
    /** A learned interpolation, in log space, between {@link #FIXED_SMALL} and {@link #FIXED_LARGE}. */
    LEARNED_RANGE;

    /** Whether the model outputs 2C channels, the second C holding variance values. */
    public boolean isLearned() {
        return this == LEARNED || this == LEARNED_RANGE;
    }
}
