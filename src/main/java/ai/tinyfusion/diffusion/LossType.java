package ai.tinyfusion.diffusion;

/** The training objective. */
public enum LossType {
    /** Mean squared error of the mean prediction, plus the VB term (in bits/dim) when the variance is learned. */
    MSE,
    /** Like {@link #MSE}, with the VB term scaled by num_timesteps / 1000. */
    RESCALED_MSE,
    /** The variational bound term alone. */
    KL,
    /** The variational bound term times num_timesteps (an estimate of the full bound). */
    RESCALED_KL;

    /** Whether the loss is a variational-bound loss. */
    public boolean isVb() {
        return this == KL || this == RESCALED_KL;
    }
}
