package ai.tinyfusion.diffusion;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.tinyfusion.nn.Scalars;

/**
 * Gaussian helpers for the variational bound: KL divergence between diagonal Gaussians and the discretised
 * Gaussian likelihood of 8-bit data scaled to [-1, 1]. All constant products go through {@link Scalars}, so
 * everything here may run under a {@code GradientCollector}.
 */
public final class DiffusionUtils {
    /** Half-width of one 8-bit bin in [-1, 1] units. */
    private static final double HALF_BIN = 1.0 / 255.0;
    /** Data values beyond this magnitude sit in the outermost bin, which extends to infinity. */
    private static final double EDGE = 0.999;
    /** Floor for probabilities before taking logs. */
    private static final double MIN_PROB = 1e-12;

    private DiffusionUtils() {}

    /**
     * KL(N(mean1, exp(logvar1)) || N(mean2, exp(logvar2))) elementwise, in nats; the arguments broadcast.
     */
    public static NDArray normalKl(NDArray mean1, NDArray logvar1, NDArray mean2, NDArray logvar2) {
        NDArray diff = mean1.sub(mean2);
        NDArray inner = logvar2.add(-1.0)
                .sub(logvar1)
                .add(logvar1.sub(logvar2).exp())
                .add(diff.mul(diff).mul(logvar2.neg().exp()));
        return Scalars.mul(inner, 0.5);
    }

    /** {@link #normalKl(NDArray, NDArray, NDArray, NDArray)} against a fixed Gaussian N(mean2, exp(logvar2)). */
    public static NDArray normalKl(NDArray mean1, NDArray logvar1, double mean2, double logvar2) {
        NDArray diff = mean1.sub(mean2);
        NDArray lv2 = Scalars.of(logvar1, logvar2);
        NDArray inner = lv2.add(-1.0)
                .sub(logvar1)
                .add(logvar1.sub(lv2).exp())
                .add(diff.mul(diff).mul(lv2.neg().exp()));
        return Scalars.mul(inner, 0.5);
    }

    /** The tanh approximation of the standard normal CDF: 0.5 (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))). */
    public static NDArray approxStandardNormalCdf(NDArray x) {
        NDArray cubic = Scalars.mul(x.mul(x).mul(x), 0.044715);
        NDArray arg = Scalars.mul(x.add(cubic), Math.sqrt(2.0 / Math.PI));
        return Scalars.mul(arg.tanh().add(1.0), 0.5);
    }

    /**
     * Log-likelihood (nats, elementwise) of data {@code x}, assumed to be 8-bit values rescaled to [-1, 1], under a
     * Gaussian with the given means and log standard deviations, integrated over each value's bin of width 2/255.
     * The two outermost bins extend to minus and plus infinity.
     */
    public static NDArray discretizedGaussianLogLikelihood(NDArray x, NDArray means, NDArray logScales) {
        if (!x.getShape().equals(means.getShape()) || !x.getShape().equals(logScales.getShape())) {
            throw new IllegalArgumentException("shapes differ: x " + x.getShape() + ", means " + means.getShape()
                    + ", log scales " + logScales.getShape());
        }
        NDArray centered = x.sub(means);
        NDArray invStd = logScales.neg().exp();
        NDArray cdfPlus = approxStandardNormalCdf(invStd.mul(centered.add(HALF_BIN)));
        NDArray cdfMin = approxStandardNormalCdf(invStd.mul(centered.sub(HALF_BIN)));
        NDArray logCdfPlus = clampMin(cdfPlus).log();
        NDArray logOneMinusCdfMin = clampMin(Scalars.rsub(1.0, cdfMin)).log();
        NDArray logCdfDelta = clampMin(cdfPlus.sub(cdfMin)).log();
        NDArray upperOrMiddle = NDArrays.where(x.gt(EDGE), logOneMinusCdfMin, logCdfDelta);
        return NDArrays.where(x.lt(-EDGE), logCdfPlus, upperOrMiddle);
    }

    /** Log-density (nats, elementwise) of {@code x} under N(means, exp(logScales)^2). */
    public static NDArray continuousGaussianLogLikelihood(NDArray x, NDArray means, NDArray logScales) {
        NDArray normalized = x.sub(means).mul(logScales.neg().exp());
        NDArray half = Scalars.mul(normalized.mul(normalized), 0.5).neg();
        return half.sub(Math.log(Math.sqrt(2 * Math.PI)));
    }

    /** Mean over every axis but the first: (N, ...) to (N,). */
    public static NDArray meanFlat(NDArray x) {
        long n = x.getShape().get(0);
        return x.reshape(n, -1).mean(new int[] {1});
    }

    private static NDArray clampMin(NDArray x) {
        return x.clip(MIN_PROB, Double.POSITIVE_INFINITY);
    }
}
