package ai.tinyfusion.diffusion.transport;

/**
 * The diffusion coefficient w(t) of the sampling SDE dx = [v + w·score] dt + sqrt(2w) dW (SiT's
 * {@code --diffusion-form}), scaled by the {@code diffusion_norm} n.
 */
public enum DiffusionForm {
    /**
     * w = n. The original returns the bare number, which its samplers then pass to {@code th.sqrt} and fail with a
     * TypeError; here it is the constant it evidently means.
     */
    CONSTANT("constant"),
    /** w = n · (the plan's drift variance), matching the score-based diffusion model's SDE. */
    SBDM("SBDM"),
    /** w = n · σ_t (SiT's CLI default). */
    SIGMA("sigma"),
    /** w = n · (1 − t). */
    LINEAR("linear"),
    /** w = ¼ (n·cos πt + 1)². */
    DECREASING("decreasing"),
    /**
     * w = n · sin²(πt). The original's table spells the key {@code inccreasing-decreasing} while its CLI offers
     * {@code increasing-decreasing}, so choosing it there raises NotImplementedError; both spellings work here.
     */
    INCREASING_DECREASING("increasing-decreasing");

    private final String cliName;

    DiffusionForm(String cliName) {
        this.cliName = cliName;
    }

    public String cliName() {
        return cliName;
    }

    public static DiffusionForm parse(String name) {
        if ("inccreasing-decreasing".equals(name)) {
            return INCREASING_DECREASING;
        }
        return Names.parse(values(), DiffusionForm::cliName, name, "diffusion form");
    }
}
