package ai.tinyfusion.prune;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.tinyfusion.data.Batcher;
import ai.tinyfusion.data.Dataset;
import ai.tinyfusion.data.SplitMix64;
import ai.tinyfusion.diffusion.DdpmObjective;
import ai.tinyfusion.diffusion.Objective;
import com.google.gson.JsonObject;
import java.io.IOException;
import java.nio.FloatBuffer;
import java.util.Arrays;

/**
 * A fixed calibration set for the score-based pruning methods and the calibration-loss study: {@code n}
 * real images drawn without replacement from a dataset (seeded shuffle, no flips, true labels), and per
 * image a fixed time draw and fixed Gaussian noise, all derived from one seed on the host (SplitMix64;
 * independent of the engine RNG). The "calibration loss" of a model is its mean training loss under the
 * set's {@link Objective} (no label dropout) for those draws: DDPM's MSE + VB on x_t = q(x_t | x_0, t, ε), or
 * SiT's transport loss on the interpolant x_t.
 *
 * <p>Time draws: sample i gets a DDPM timestep k_i uniform over 0..999 and, from a second stream, a position
 * v_i inside that timestep's bin; u_i = (k_i + 0.001 + 0.998·v_i) / 1000 ∈ [0, 1) is what the objective turns into
 * its time ({@link Objective#fixedDraw}): DDPM's ⌊u·1000⌋ is exactly k_i (the timesteps of sets drawn before
 * objectives existed), a continuous-time objective gets a time spread over the whole interval.
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
    private final double[] timeDraws; // (n) u ∈ [0, 1)
    private final float[] noise; // (n, C, H, W)
    private final Objective objective;

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
            double[] timeDraws,
            float[] noise,
            Objective objective) {
        this.size = size;
        this.batch = batch;
        this.seed = seed;
        this.data = data;
        this.c = c;
        this.h = h;
        this.w = w;
        this.images = images;
        this.labels = labels;
        this.timeDraws = timeDraws;
        this.noise = noise;
        this.objective = objective;
    }

    /** {@link #draw(Dataset, int, int, long, String, Objective)} under DiT's DDPM objective. */
    public static CalibrationSet draw(Dataset dataset, int samples, int batch, long seed, String description) {
        return draw(dataset, samples, batch, seed, description, DdpmObjective.standard());
    }

    /**
     * Draws {@code samples} items of {@code dataset} (the first {@code samples} of a Batcher's seeded shuffle) and
     * their fixed time draws and noise.
     *
     * @param batch batch size of {@link #forEachBatch}
     * @param description the data's name, for the decision records
     * @param objective whose training loss is the calibration loss
     */
    public static CalibrationSet draw(
            Dataset dataset, int samples, int batch, long seed, String description, Objective objective) {
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
        SplitMix64 rng = new SplitMix64(SplitMix64.derive(seed, 1));
        long[] k = new long[samples];
        for (int i = 0; i < samples; i++) {
            k[i] = rng.nextInt(TIME_BINS);
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
        SplitMix64 within = new SplitMix64(SplitMix64.derive(seed, 2));
        double[] u = new double[samples];
        for (int i = 0; i < samples; i++) {
            u[i] = (k[i] + 0.001 + 0.998 * within.nextDouble()) / TIME_BINS;
        }
        return new CalibrationSet(samples, batch, seed, description, c, h, w, images, labels, u, eps, objective);
    }

    /** The timestep bins of the time draws: DiT's 1,000 training steps. */
    private static final int TIME_BINS = 1000;

    /**
     * One calibration batch, owned by the batch's sub-manager.
     *
     * @param x0 clean images (B, C, H, W)
     * @param y true labels (B) int64
     * @param draw the objective's fixed draw: its t() (B) is the network's time input (DDPM: int64 timesteps;
     *     SiT: float32 t), its noise() (B, C, H, W) the fixed noise, no label drops
     * @param xt what the network sees: {@link Objective#networkInput} (B, C, H, W)
     */
    public record Batch(int index, int offset, NDArray x0, NDArray y, Objective.Draw draw, NDArray xt) {
        /** The network's time input (B). */
        public NDArray t() {
            return draw.t();
        }

        public int size() {
            return Math.toIntExact(y.getShape().get(0));
        }

        /** Every array of the batch (for attaching to a sub-manager). */
        public NDArray[] arrays() {
            return new NDArray[] {x0, y, draw.t(), draw.noise(), draw.dropIds(), xt};
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
                try (NDArray tmp = scope.create(Arrays.copyOfRange(labels, off, off + n))) {
                    y = tmp.duplicate();
                }
                Objective.Draw draw = objective.fixedDraw(scope, Arrays.copyOfRange(timeDraws, off, off + n), eps);
                NDArray xt = objective.networkInput(x0, draw);
                work.accept(new Batch(b, off, x0, y, draw, xt), scope);
            }
        }
    }

    /** Java data → a libtorch-owned array (djl-notes, rule 1). */
    private static NDArray fromHost(NDManager m, float[] v, Shape shape) {
        try (NDArray tmp = m.create(FloatBuffer.wrap(v), shape)) {
            return tmp.duplicate();
        }
    }

    /** The calibration loss in words: {@code MSE + VB} for DDPM, else the objective's summary. */
    public String lossName() {
        return objective instanceof DdpmObjective ? "MSE + VB" : objective.summary() + " loss";
    }

    /** The objective whose training loss is the calibration loss. */
    public Objective objective() {
        return objective;
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
        o.add("objective", objective.metadata());
        o.addProperty(
                "timesteps",
                objective instanceof DdpmObjective
                        ? "fixed per sample, uniform over 0.." + (TIME_BINS - 1)
                        : "fixed per sample, uniform over the training interval (one per 1/" + TIME_BINS + " bin)");
        o.addProperty("noise", "fixed per sample, standard normal (host SplitMix64, Box-Muller)");
        o.addProperty("labels", "true labels, no label dropout");
        return o;
    }
}
