package ai.tinyfusion.diffusion;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.Arrays;

/**
 * Timesteps drawn uniformly, one per sample, with unit weights. Draws come from the engine's generator as
 * {@code torch.randint(0, T, (N,))} would (DiT's training loop), so a seeded run reproduces the reference's
 * timesteps.
 */
public final class UniformSampler implements ScheduleSampler {
    private final int numTimesteps;

    public UniformSampler(GaussianDiffusion diffusion) {
        this(diffusion.numTimesteps());
    }

    public UniformSampler(int numTimesteps) {
        if (numTimesteps <= 0) {
            throw new IllegalArgumentException("number of timesteps must be positive, got " + numTimesteps);
        }
        this.numTimesteps = numTimesteps;
    }

    @Override
    public double[] weights() {
        double[] w = new double[numTimesteps];
        Arrays.fill(w, 1.0);
        return w;
    }

    @Override
    public TimestepSample sample(NDManager manager, int batchSize) {
        NDArray t = manager.randomInteger(0, numTimesteps, new Shape(batchSize), DataType.INT64);
        NDArray w = manager.ones(new Shape(batchSize), DataType.FLOAT32);
        return new TimestepSample(t, w);
    }
}
