package ai.tinyfusion.diffusion;

/** What the denoiser's first C output channels predict. */
public enum ModelMeanType {
    /** The previous sample x_{t-1} (training target only; sampling reads the output as epsilon, as DiT does). */
    PREVIOUS_X,
    /** The clean sample x_0. */
    START_X,
    /** The added noise epsilon. */
    EPSILON
}
