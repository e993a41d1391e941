package ai.tinyfusion.model.vae;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.tinyfusion.nn.Scalars;

/**
 * The encoder's posterior N(mean, exp(logvar)) per latent element, as LDM's, MAR's and diffusers'
 * {@code DiagonalGaussianDistribution}: the moments (N, 2z, h, w) split in half along channels, logvar
 * clamped to [−30, 20]. Its four arrays (moments, mean, logvar, std) live in the moments' manager.
 */
public final class DiagonalGaussian {
    public static final double LOGVAR_MIN = -30.0;
    public static final double LOGVAR_MAX = 20.0;

    private final NDArray moments;
    private final NDArray mean;
    private final NDArray logvar;
    private final NDArray std;

    /** moments: (N, 2z, h, w) = mean ‖ raw logvar. */
    public DiagonalGaussian(NDArray moments) {
        long channels = moments.getShape().get(1);
        if (moments.getShape().dimension() < 2 || channels % 2 != 0) {
            throw new IllegalArgumentException(
                    "posterior moments need an even channel count, got " + moments.getShape());
        }
        this.moments = moments;
        NDList halves = moments.split(2, 1);
        this.mean = halves.get(0);
        try (NDArray raw = halves.get(1)) {
            this.logvar = VaeBlocks.scoped(raw, r -> r.clip(LOGVAR_MIN, LOGVAR_MAX));
        }
        this.std = VaeBlocks.scoped(logvar, l -> Scalars.mul(l, 0.5).exp());
    }

    /** The encoder's raw output (N, 2z, h, w), logvar unclamped (what MAR caches). */
    public NDArray moments() {
        return moments;
    }

    /** (N, z, h, w). */
    public NDArray mean() {
        return mean;
    }

    /** Clamped log-variance (N, z, h, w). */
    public NDArray logvar() {
        return logvar;
    }

    /** exp(½·logvar) (N, z, h, w). */
    public NDArray std() {
        return std;
    }

    /** The mode (= mean). */
    public NDArray mode() {
        return mean;
    }

    /** {@code mean + std·noise} for standard-normal noise of the mean's shape. */
    public NDArray sample(NDArray noise) {
        if (!noise.getShape().equals(mean.getShape())) {
            throw new IllegalArgumentException(
                    "noise " + noise.getShape() + " does not match the posterior " + mean.getShape());
        }
        return mean.add(std.mul(noise));
    }

    /** A sample with noise from the engine RNG ({@code Engine.setRandomSeed} reproduces {@code torch.randn}). */
    public NDArray sample() {
        return sample(mean.getManager().randomNormal(0f, 1f, mean.getShape(), mean.getDataType()));
    }
}
