package ai.tinyfusion.prune;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.tinyfusion.data.Batcher;
import ai.tinyfusion.data.Dataset;
import ai.tinyfusion.data.SplitMix64;
import ai.tinyfusion.diffusion.DiffusionFactory;
import ai.tinyfusion.diffusion.GaussianDiffusion;
import com.google.gson.JsonObject;
import java.io.IOException;
import java.nio.FloatBuffer;
import java.util.Arrays;

/**
 * A fixed calibration set for the score-based pruning methods and the calibration-loss study: {@code n}
 * real images drawn without replacement from a dataset (seeded shuffle, no flips, true labels), and per
 * image a fixed timestep t (uniform over the 1,000 training steps) and fixed Gaussian noise ε, all
 * derived from one seed on the host (SplitMix64; independent of the engine RNG). The "calibration loss"
 * of a model is its mean training loss (MSE + VB, no label dropout) on x_t = q(x_t | x_0, t, ε).
 *
 * <p>Everything lives in Java memory; {@link #forEachBatch} turns one batch at a time into arrays in a
 * sub-manager that is closed after the batch.
 */
public final class CalibrationSet {
    private final int size;
    private final int batch;
    private final long seed;
    private final String data;
    private final int c;
    private final int h;
    private final int w;
    private final float[] images; // (n, C, H, W)
    private final long[] labels; // (n)
    private final long[] timesteps; // (n)
    private final float[] noise; // (n, C, H, W)
    private final GaussianDiffusion diffusion = DiffusionFactory.create("");

    private CalibrationSet(
            int size,
            int batch,
            long seed,
            String data,
            int c,
            int h,
            int w,
            float[] images,
            long[] labels,
            long[] timesteps,
            float[] noise) {
        this.size = size;
        this.batch = batch;
        this.seed = seed;
        this.data = data;
        this.c = c;
        this.h = h;
        this.w = w;
        this.images = images;
        this.labels = labels;
        this.timesteps = timesteps;
        this.noise = noise;
    }

    /**
     * Draws {@code samples} items of {@code dataset} (the first {@code samples} of a Batcher's seeded shuffle) and
     * their fixed t and ε.
     *
     * @param batch batch size of {@link #forEachBatch}
     * @param description the data's name, for the decision records
     */
    public static CalibrationSet draw(Dataset dataset, int samples, int batch, long seed, String description) {
        if (samples < 1) {
            throw new IllegalArgumentException("--calib-samples must be at least 1, got " + samples);
        }
        if (batch < 1) {
            throw new IllegalArgumentException("--calib-batch must be at least 1, got " + batch);
        }
        if (samples > dataset.size()) {
            throw new IllegalArgumentException(
                    "--calib-samples " + samples + ": the data has only " + dataset.size() + " items");
        }
        int c = dataset.channels();
        int h = dataset.height();
        int w = dataset.width();
        int per = c * h * w;
        float[] images = new float[samples * per];
        long[] labels = new long[samples];
        Batcher b = Batcher.builder(dataset, Math.min(samples, 256))
                .seed(seed)
                .shuffle(true)
                .dropLast(false)
                .build();
        for (int done = 0; done < samples; ) {
            Batcher.HostBatch hb = b.nextHost();
            int take = Math.min(hb.labels().length, samples - done);
            System.arraycopy(hb.images(), 0, images, done * per, take * per);
            System.arraycopy(hb.labels(), 0, labels, done, take);
            done += take;
        }
        GaussianDiffusion diff = DiffusionFactory.create("");
        SplitMix64 rng = new SplitMix64(SplitMix64.derive(seed, 1));
        long[] t = new long[samples];
        for (int i = 0; i < samples; i++) {
            t[i] = rng.nextInt(diff.numTimesteps());
        }
        float[] eps = new float[samples * per];
        for (int i = 0; i < eps.length; i += 2) {
            // Box–Muller: two standard normals from two uniforms in (0, 1].
            double u1 = 1.0 - rng.nextDouble();
            double u2 = rng.nextDouble();
            double r = Math.sqrt(-2 * Math.log(u1));
            eps[i] = (float) (r * Math.cos(2 * Math.PI * u2));
            if (i + 1 < eps.length) {
                eps[i + 1] = (float) (r * Math.sin(2 * Math.PI * u2));
            }
        }
        return new CalibrationSet(samples, batch, seed, description, c, h, w, images, labels, t, eps);
    }

    /**
     * One calibration batch, owned by the batch's sub-manager.
     *
     * @param x0 clean images (B, C, H, W)
     * @param y true labels (B) int64
     * @param t timesteps (B) int64
     * @param noise ε (B, C, H, W)
     * @param xt noisy images q(x_t | x_0, t, ε) (B, C, H, W)
     */
    public record Batch(int index, int offset, NDArray x0, NDArray y, NDArray t, NDArray noise, NDArray xt) {
        public int size() {
            return Math.toIntExact(y.getShape().get(0));
        }

        /** Every array of the batch (for attaching to a sub-manager). */
        public NDArray[] arrays() {
            return new NDArray[] {x0, y, t, noise, xt};
        }
    }

    /** What to do with one batch; {@code scope} owns the batch and is closed afterwards. */
    @FunctionalInterface
    public interface BatchWork {
        void accept(Batch batch, NDManager scope) throws IOException;
    }

    /** Runs {@code work} on every batch in order, each in its own sub-manager of {@code parent}. */
    public void forEachBatch(NDManager parent, BatchWork work) throws IOException {
        int per = c * h * w;
        for (int b = 0, off = 0; off < size; b++, off += batch) {
            int n = Math.min(batch, size - off);
            try (NDManager scope = parent.newSubManager()) {
                Shape shape = new Shape(n, c, h, w);
                NDArray x0 = fromHost(scope, Arrays.copyOfRange(images, off * per, (off + n) * per), shape);
                NDArray eps = fromHost(scope, Arrays.copyOfRange(noise, off * per, (off + n) * per), shape);
                NDArray y;
                NDArray t;
                try (NDArray tmp = scope.create(Arrays.copyOfRange(labels, off, off + n))) {
                    y = tmp.duplicate();
                }
                try (NDArray tmp = scope.create(Arrays.copyOfRange(timesteps, off, off + n))) {
                    t = tmp.duplicate();
                }
                NDArray xt = diffusion.qSample(x0, t, eps);
                work.accept(new Batch(b, off, x0, y, t, eps, xt), scope);
            }
        }
    }

    /** Java data → a libtorch-owned array (djl-notes, rule 1). */
    private static NDArray fromHost(NDManager m, float[] v, Shape shape) {
        try (NDArray tmp = m.create(FloatBuffer.wrap(v), shape)) {
            return tmp.duplicate();
        }
    }

    /** The diffusion process whose training loss is the calibration loss (DiT's defaults, 1,000 steps). */
    public GaussianDiffusion diffusion() {
        return diffusion;
    }

    public int size() {
        return size;
    }

    public int batchSize() {
        return batch;
    }

    public long seed() {
        return seed;
    }

    /** Number of batches. */
    public int batches() {
        return (size + batch - 1) / batch;
    }

    /** Checks that images of this set fit the model (channels and size). */
    public void checkFits(ai.tinyfusion.model.dit.DiTConfig config) {
        if (config.inChannels() != c || config.inputSize() != h || config.inputSize() != w) {
            throw new IllegalArgumentException(
                    "model " + config + " does not fit calibration data of " + c + "x" + h + "x" + w);
        }
        long maxLabel = Arrays.stream(labels).max().orElse(0);
        if (maxLabel >= config.numClasses()) {
            throw new IllegalArgumentException(
                    "calibration data has label " + maxLabel + ", the model only " + config.numClasses() + " classes");
        }
    }

    /** The settings, for decision records: samples, batch, seed, data, how t and ε were drawn. */
    public JsonObject describe() {
        JsonObject o = new JsonObject();
        o.addProperty("samples", size);
        o.addProperty("batch", batch);
        o.addProperty("seed", seed);
        o.addProperty("data", data);
        o.addProperty("timesteps", "fixed per sample, uniform over 0.." + (diffusion.numTimesteps() - 1));
        o.addProperty("noise", "fixed per sample, standard normal (host SplitMix64, Box-Muller)");
        o.addProperty("labels", "true labels, no label dropout");
        return o;
    }
}
