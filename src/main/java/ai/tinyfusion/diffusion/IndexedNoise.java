package ai.tinyfusion.diffusion;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.tinyfusion.data.IndexedGaussians;

/**
 * Noise that belongs to the image, not to the batch: row r of every draw is image {@code first + r mod count}'s, and
 * image i's k-th draw (k = 0 is x_T, then one per sampling step) comes from its own generator seeded by (seed, i, k).
 * A sample therefore depends only on the run's seed and its index: not on the batch size, on which batch it fell in,
 * or on where a sharded run was interrupted. Rows past {@code count} (the null-label half of a guided batch) repeat
 * the first {@code count} rows; the guided sampler only reads the conditional half.
 *
 * <p>The draws are {@link IndexedGaussians}: reproducible on every platform and engine, but not the stream
 * {@code torch.randn} gives (the batch-seeded default, {@link NoiseSource#standardNormal()}, follows that one).
 */
public final class IndexedNoise implements NoiseSource {
    private final long seed;
    private final long first;
    private final int count;
    private int draw;

    /** Noise for images {@code first .. first + count - 1} of a run seeded with {@code seed}. */
    public IndexedNoise(long seed, long first, int count) {
        if (count < 1 || first < 0) {
            throw new IllegalArgumentException(
                    "indexed noise needs first >= 0 and count >= 1, got " + first + ", " + count);
        }
        this.seed = seed;
        this.first = first;
        this.count = count;
    }

    @Override
    public NDArray next(NDManager manager, Shape shape, DataType dataType) {
        long rows = shape.get(0);
        long per = shape.size() / Math.max(rows, 1);
        if (rows % count != 0) {
            throw new IllegalArgumentException(
                    "indexed noise for " + count + " images cannot fill " + rows + " rows of " + shape);
        }
        float[] values = new float[Math.toIntExact(shape.size())];
        for (int r = 0; r < count && r < rows; r++) {
            fill(values, r * (int) per, (int) per, first + r, draw);
        }
        for (long r = count; r < rows; r++) {
            System.arraycopy(values, (int) ((r % count) * per), values, (int) (r * per), (int) per);
        }
        draw++;
        NDArray out = manager.create(values, shape);
        return dataType == DataType.FLOAT32 ? out : out.toType(dataType, false);
    }

    /** Image {@code index}'s draw number {@code k}: {@code n} standard normals into {@code out[at..]}. */
    void fill(float[] out, int at, int n, long index, int k) {
        IndexedGaussians.fill(seed, index, k, out, at, n);
    }
}
