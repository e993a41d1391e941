package ai.tinyfusion.diffusion;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;

/**
 * A distribution over a process's timesteps for training, with importance weights that keep the expected loss
 * unbiased.
 */
public interface ScheduleSampler {
    /** Unnormalised positive weight of each timestep. */
    double[] weights();

    /**
     * Draws {@code batchSize} timesteps with probability proportional to {@link #weights()} (inverse CDF over
     * uniform draws from the engine's generator) and weights 1 / (T p_t).
     */
    default TimestepSample sample(NDManager manager, int batchSize) {
        double[] w = weights();
        double total = 0;
        for (double v : w) {
            total += v;
        }
        double[] cdf = new double[w.length];
        double acc = 0;
        for (int i = 0; i < w.length; i++) {
            acc += w[i] / total;
            cdf[i] = acc;
        }
        double[] u;
        try (NDArray draws = manager.randomUniform(0f, 1f, new Shape(batchSize), DataType.FLOAT64)) {
            u = draws.toDoubleArray();
        }
        long[] idx = new long[batchSize];
        float[] weights = new float[batchSize];
        for (int b = 0; b < batchSize; b++) {
            int k = 0;
            while (k < w.length - 1 && cdf[k] <= u[b] * acc) {
                k++;
            }
            idx[b] = k;
            weights[b] = (float) (1.0 / (w.length * (w[k] / total)));
        }
        return new TimestepSample(HostArrays.ownedLongs(manager, idx, new Shape(batchSize), DataType.INT64),
                HostArrays.ownedFloats(manager, weights, new Shape(batchSize), DataType.FLOAT32));
    }
}
