package ai.tinyfusion.diffusion;

import java.util.Locale;
import java.util.function.DoubleUnaryOperator;

/**
 * Beta schedules as float64 host arrays, computed with the same IEEE operations (and in the same
 * order) as numpy, so that every entry is bit-identical to the Python reference (up to the last-ulp
 * behaviour of {@code cos}, which is taken from {@link StrictMath}).
 */
public final class BetaSchedules {
    private BetaSchedules() {}

    /**
     * A schedule by its registered name, for any number of steps.
     *
     * <ul>
     *   <li>{@code linear}: betas from {@code 1e-4 * 1000 / n} to {@code 0.02 * 1000 / n}, evenly spaced;
     *   <li>{@code squaredcos_cap_v2}: the cosine alpha-bar of Nichol &amp; Dhariwal, betas capped at 0.999.
     * </ul>
     */
    public static double[] named(String name, int numSteps) {
        checkSteps(numSteps);
        switch (name) {
            case "linear": {
                double scale = 1000.0 / numSteps;
                return linspace(scale * 0.0001, scale * 0.02, numSteps);
            }
            case "squaredcos_cap_v2":
                return betasForAlphaBar(numSteps, BetaSchedules::cosineAlphaBar, 0.999);
            default:
                throw new IllegalArgumentException("unknown beta schedule: " + name);
        }
    }

    /**
     * The older parametrised schedules: {@code quad}, {@code linear}, {@code warmup10}, {@code warmup50},
     * {@code const} and {@code jsd}.
     */
    public static double[] legacy(String kind, double betaStart, double betaEnd, int numSteps) {
        checkSteps(numSteps);
        switch (kind.toLowerCase(Locale.ROOT)) {
            case "quad": {
                double[] roots = linspace(Math.sqrt(betaStart), Math.sqrt(betaEnd), numSteps);
                for (int i = 0; i < roots.length; i++) {
                    roots[i] = roots[i] * roots[i];
                }
                return roots;
            }
            case "linear":
                return linspace(betaStart, betaEnd, numSteps);
            case "warmup10":
                return warmup(betaStart, betaEnd, numSteps, 0.1);
            case "warmup50":
                return warmup(betaStart, betaEnd, numSteps, 0.5);
            case "const": {
                double[] betas = new double[numSteps];
                java.util.Arrays.fill(betas, betaEnd);
                return betas;
            }
            case "jsd": {
                double[] denominators = linspace(numSteps, 1, numSteps);
                double[] betas = new double[numSteps];
                for (int i = 0; i < numSteps; i++) {
                    betas[i] = 1.0 / denominators[i];
                }
                return betas;
            }
            default:
                throw new IllegalArgumentException("unknown beta schedule: " + kind);
        }
    }

    /** Linear schedule: {@code betaStart} to {@code betaEnd} over {@code numSteps}. */
    public static double[] linear(double betaStart, double betaEnd, int numSteps) {
        return legacy("linear", betaStart, betaEnd, numSteps);
    }

    /** Warm-up schedule: a ramp from start to end over the first fraction, then constant at end. */
    public static double[] warmup(double betaStart, double betaEnd, int numSteps, double warmupFraction) {
        double[] betas = new double[numSteps];
        java.util.Arrays.fill(betas, betaEnd);
        int warmupSteps = (int) (numSteps * warmupFraction);
        double[] ramp = linspace(betaStart, betaEnd, warmupSteps);
        System.arraycopy(ramp, 0, betas, 0, warmupSteps);
        return betas;
    }

    /**
     * Discretises a cumulative alpha-bar function on {@code [0, 1]}: beta_i = min(1 - abar((i+1)/n) / abar(i/n),
     * maxBeta).
     */
    public static double[] betasForAlphaBar(int numSteps, DoubleUnaryOperator alphaBar, double maxBeta) {
        checkSteps(numSteps);
        double[] betas = new double[numSteps];
        for (int i = 0; i < numSteps; i++) {
            double lo = (double) i / numSteps;
            double hi = (double) (i + 1) / numSteps;
            betas[i] = Math.min(1 - alphaBar.applyAsDouble(hi) / alphaBar.applyAsDouble(lo), maxBeta);
        }
        return betas;
    }

    /** The cosine alpha-bar with offset 0.008 used by {@code squaredcos_cap_v2}. */
    public static double cosineAlphaBar(double t) {
        double c = StrictMath.cos((t + 0.008) / 1.008 * Math.PI / 2);
        return c * c;
    }

    /**
     * numpy's {@code linspace(start, stop, num)} for float64 with the end point included: {@code i * step + start}
     * with {@code step = (stop - start) / (num - 1)}, and the last entry set to {@code stop} exactly.
     */
    public static double[] linspace(double start, double stop, int num) {
        if (num < 0) {
            throw new IllegalArgumentException("number of samples must be non-negative, got " + num);
        }
        double[] out = new double[num];
        if (num == 0) {
            return out;
        }
        if (num == 1) {
            out[0] = start;
            return out;
        }
        int div = num - 1;
        double delta = stop - start;
        double step = delta / div;
        for (int i = 0; i < num; i++) {
            out[i] = step == 0 ? (i / (double) div) * delta + start : i * step + start;
        }
        out[num - 1] = stop;
        return out;
    }

    private static void checkSteps(int numSteps) {
        if (numSteps <= 0) {
            throw new IllegalArgumentException("number of diffusion steps must be positive, got " + numSteps);
        }
    }
}
