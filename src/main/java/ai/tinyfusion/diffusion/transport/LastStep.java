package ai.tinyfusion.diffusion.transport;

/** The final, noise-free step of SiT's SDE sampler from t1 to the end ({@code --last-step}). */
public enum LastStep {
    /** Keep the last stochastic state (the step size is then 0, so the SDE runs to 1 − eps). */
    NONE,
    /** x + sde_drift(x, t1) · size (SiT's CLI default). */
    MEAN,
    /** x / α_t1 + σ_t1² / α_t1 · score(x, t1), with the first sample's α and σ. */
    TWEEDIE,
    /** x + drift(x, t1) · size, the probability-flow drift. */
    EULER;

    /** SiT's names: null or "None", Mean, Tweedie, Euler. */
    public static LastStep parse(String name) {
        if (name == null || name.equals("None")) {
            return NONE;
        }
        return switch (name) {
            case "Mean" -> MEAN;
            case "Tweedie" -> TWEEDIE;
            case "Euler" -> EULER;
            default -> throw new IllegalArgumentException(
                    "unknown last step '" + name + "' (None, Mean, Tweedie, Euler)");
        };
    }
}
