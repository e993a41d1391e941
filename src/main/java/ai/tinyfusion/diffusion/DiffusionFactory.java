package ai.tinyfusion.diffusion;

/**
 * Builds the respaced diffusion process DiT uses, from the same settings as its {@code create_diffusion}: a named
 * beta schedule over {@code diffusionSteps}, a learned-range variance unless told otherwise, epsilon prediction
 * unless {@code predictXstart}, and the loss chosen by {@code useKl} / {@code rescaleLearnedSigmas}.
 */
public final class DiffusionFactory {
    private DiffusionFactory() {}

    /**
     * The DiT defaults ("linear" schedule, 1000 steps, learned-range sigma, epsilon prediction, MSE + VB loss) with
     * the given respacing: {@code ""} or {@code null} keeps all steps (training), {@code "250"} or {@code "ddim10"}
     * for sampling.
     */
    public static SpacedDiffusion create(String timestepRespacing) {
        return builder().timestepRespacing(timestepRespacing).build();
    }

    /** Every setting of {@code create_diffusion}, positionally. */
    public static SpacedDiffusion create(
            String timestepRespacing,
            String noiseSchedule,
            boolean useKl,
            boolean sigmaSmall,
            boolean predictXstart,
            boolean learnSigma,
            boolean rescaleLearnedSigmas,
            int diffusionSteps) {
        double[] betas = BetaSchedules.named(noiseSchedule, diffusionSteps);
        LossType lossType = useKl ? LossType.RESCALED_KL : rescaleLearnedSigmas ? LossType.RESCALED_MSE : LossType.MSE;
        int[] kept = timestepRespacing == null || timestepRespacing.isEmpty()
                ? Respacing.spaceTimesteps(diffusionSteps, diffusionSteps)
                : Respacing.spaceTimesteps(diffusionSteps, timestepRespacing);
        ModelMeanType meanType = predictXstart ? ModelMeanType.START_X : ModelMeanType.EPSILON;
        ModelVarType varType = learnSigma
                ? ModelVarType.LEARNED_RANGE
                : sigmaSmall ? ModelVarType.FIXED_SMALL : ModelVarType.FIXED_LARGE;
        return new SpacedDiffusion(kept, betas, meanType, varType, lossType);
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Named settings with the DiT defaults. */
    public static final class Builder {
        private String timestepRespacing = "";
        private String noiseSchedule = "linear";
        private boolean useKl;
        private boolean sigmaSmall;
        private boolean predictXstart;
        private boolean learnSigma = true;
        private boolean rescaleLearnedSigmas;
        private int diffusionSteps = 1000;

        private Builder() {}

        public Builder timestepRespacing(String respacing) {
            this.timestepRespacing = respacing;
            return this;
        }

        public Builder noiseSchedule(String schedule) {
            this.noiseSchedule = schedule;
            return this;
        }

        public Builder useKl(boolean useKl) {
            this.useKl = useKl;
            return this;
        }

        public Builder sigmaSmall(boolean sigmaSmall) {
            this.sigmaSmall = sigmaSmall;
            return this;
        }

        public Builder predictXstart(boolean predictXstart) {
            this.predictXstart = predictXstart;
            return this;
        }

        public Builder learnSigma(boolean learnSigma) {
            this.learnSigma = learnSigma;
            return this;
        }

        public Builder rescaleLearnedSigmas(boolean rescale) {
            this.rescaleLearnedSigmas = rescale;
            return this;
        }

        public Builder diffusionSteps(int steps) {
            this.diffusionSteps = steps;
            return this;
        }

        public SpacedDiffusion build() {
            return create(
                    timestepRespacing,
                    noiseSchedule,
                    useKl,
                    sigmaSmall,
                    predictXstart,
                    learnSigma,
                    rescaleLearnedSigmas,
                    diffusionSteps);
        }
    }
}
