package ai.tinyfusion.diffusion;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.tinyfusion.model.dit.DiT;
import ai.tinyfusion.model.dit.DiTConfig;
import java.util.Locale;
import java.util.function.Function;
import java.util.function.IntConsumer;

/**
 * Class-conditional sampling from a DiT as the original sample.py: z ~ N(0, I); with guidance the
 * batch is doubled with null labels and denoised through {@code forward_with_cfg}; the
 * conditional half is kept.
 */
public final class Sampler {
    /** Sampling settings. {@code steps} respaces the 1000-step process ("250" or "ddim50"). */
    public record Settings(
            String method, int steps, double cfgScale, int guidedChannels, double eta, boolean clipDenoised) {
        public Settings {
            String m = method.toLowerCase(Locale.ROOT);
            if (!m.equals("ddpm") && !m.equals("ddim")) {
                throw new IllegalArgumentException("unknown sampler '" + method + "' (ddpm, ddim)");
            }
            if (steps < 1 || steps > 1000) {
                throw new IllegalArgumentException("sampling steps must be in 1..1000, got " + steps);
            }
            if (cfgScale < 1) {
                throw new IllegalArgumentException("CFG scale must be >= 1 (1 = no guidance), got " + cfgScale);
            }
            method = m;
        }

        /**
         * The original guides the first 3 output channels (3 of the 4 latent eps channels); never more
         * than the eps channels, so a 1-channel pixel model guides its one eps channel and not the
         * variance channel.
         */
        public static int originalGuidedChannels(DiTConfig c) {
            return Math.min(3, c.inChannels());
        }

        public String respacing() {
            return method.equals("ddim") ? "ddim" + steps : Integer.toString(steps);
        }

        /** Pixel models clip x0 to [-1, 1]; latent models (4 channels) do not, as the original. */
        public static Settings defaults(DiTConfig c) {
            return new Settings("ddim", 50, 1.5, originalGuidedChannels(c), 0.0, c.inChannels() != 4);
        }
    }

    private final DiT model;
    private final Settings settings;
    private final SpacedDiffusion diffusion;

    /** A sampler for {@code model}; its diffusion is the 1000-step process respaced to {@code settings}' steps. */
    public Sampler(DiT model, Settings settings) {
        this.model = model;
        this.settings = settings;
        this.diffusion = DiffusionFactory.create(settings.respacing());
    }

    /** The respaced diffusion the sampler steps through. */
    public SpacedDiffusion diffusion() {
        return diffusion;
    }

    /**
     * Samples one batch for {@code labels}. Returns images in the model's space, (N, C, H, W); the
     * arrays belong to {@code m}.
     *
     * @param onStep called with the number of finished denoising steps (may be null)
     */
    public NDArray sample(NDManager m, long[] labels, int seed, IntConsumer onStep) {
        Engine.getInstance().setRandomSeed(seed);
        return sample(m, labels, NoiseSource.standardNormal(), onStep);
    }

    /**
     * As {@link #sample(NDManager, long[], int, IntConsumer)} with {@link IndexedNoise}: {@code labels[j]} is image
     * {@code firstIndex + j} of a run seeded with {@code seed}, and its noise depends on nothing else.
     */
    public NDArray sampleIndexed(NDManager m, long[] labels, long firstIndex, long seed, IntConsumer onStep) {
        return sample(m, labels, new IndexedNoise(seed, firstIndex, labels.length), onStep);
    }

    private NDArray sample(NDManager m, long[] labels, NoiseSource noise, IntConsumer onStep) {
        DiTConfig c = model.config();
        int n = labels.length;
        Shape shape = new Shape(n, c.inChannels(), c.inputSize(), c.inputSize());
        NDArray z = noise.next(m, shape, DataType.FLOAT32);
        NDArray y = m.create(labels).duplicate();
        boolean cfg = settings.cfgScale() > 1;
        DenoiserFn fn;
        if (cfg) {
            z = z.concat(z, 0);
            y = y.concat(m.full(new Shape(n), c.numClasses(), DataType.INT64), 0);
            fn = (x, t, yy) -> model.forwardWithCfg(x, t, yy, settings.cfgScale(), settings.guidedChannels());
        } else {
            fn = model::forward;
        }
        int[] done = {0};
        SamplingOptions opts = SamplingOptions.defaults()
                .initialNoise(z)
                .clipDenoised(settings.clipDenoised())
                .eta(settings.eta())
                .noiseSource(noise);
        if (onStep != null) {
            opts = opts.listener((i, x, x0) -> onStep.accept(++done[0]));
        }
        NDArray out = settings.method().equals("ddim")
                ? diffusion.ddimSampleLoop(fn, m, z.getShape(), y, opts)
                : diffusion.pSampleLoop(fn, m, z.getShape(), y, opts);
        return cfg ? out.get("0:" + n) : out;
    }

    /**
     * Samples {@code labels.length} images in batches of {@code batch} (batch i seeded with seed + i) and
     * returns them as uint8 NHWC.
     *
     * @param onImages called with the number of images finished so far (may be null)
     */
    public byte[] generateUint8(NDManager parent, long[] labels, int batch, int seed, IntConsumer onImages) {
        return generate(parent, labels, batch, seed, Sampler::toUint8Nhwc, onImages);
    }

    /**
     * Samples {@code labels.length} images in batches of {@code batch} (batch i seeded with seed + i); each batch's
     * samples (N, C, H, W) in the model's space are turned into bytes by {@code toBytes} (the same number of bytes
     * per image in every batch) inside the batch's sub-manager, so only one batch of floats is alive at a time.
     * Returns the bytes of all batches in order.
     *
     * @param toBytes e.g. {@link #toUint8Nhwc}, or a VAE decode for latent models
     * @param onImages called with the number of images finished so far (may be null)
     */
    public byte[] generate(
            NDManager parent,
            long[] labels,
            int batch,
            int seed,
            Function<NDArray, byte[]> toBytes,
            IntConsumer onImages) {
        return inBatches(parent, labels, batch, (m, ys, start, b) -> sample(m, ys, seed + b, null), toBytes, onImages);
    }

    /**
     * As {@link #generate} with {@link IndexedNoise}: {@code labels[j]} is image {@code firstIndex + j} of a run seeded
     * with {@code seed}, so the result does not depend on {@code batch} or on which images were generated together.
     */
    public byte[] generateIndexed(
            NDManager parent,
            long[] labels,
            long firstIndex,
            int batch,
            long seed,
            Function<NDArray, byte[]> toBytes,
            IntConsumer onImages) {
        return inBatches(
                parent,
                labels,
                batch,
                (m, ys, start, b) -> sampleIndexed(m, ys, firstIndex + start, seed, null),
                toBytes,
                onImages);
    }

    /** One batch's samples (N, C, H, W): images {@code start ..} of the request, batch number {@code b}. */
    private interface BatchSampling {
        NDArray sample(NDManager m, long[] labels, int start, int b);
    }

    private byte[] inBatches(
            NDManager parent,
            long[] labels,
            int batch,
            BatchSampling sampling,
            Function<NDArray, byte[]> toBytes,
            IntConsumer onImages) {
        if (batch < 1) {
            throw new IllegalArgumentException("batch must be at least 1, got " + batch);
        }
        byte[] out = null;
        int per = 0;
        for (int start = 0, b = 0; start < labels.length; start += batch, b++) {
            int n = Math.min(batch, labels.length - start);
            long[] ys = java.util.Arrays.copyOfRange(labels, start, start + n);
            try (NDManager m = parent.newSubManager()) {
                model.useIn(m);
                byte[] bytes = toBytes.apply(sampling.sample(m, ys, start, b));
                if (out == null) {
                    per = bytes.length / n;
                    out = new byte[Math.multiplyExact(labels.length, per)];
                }
                if (bytes.length != n * per) {
                    throw new IllegalStateException(
                            "batch at " + start + " gave " + bytes.length + " bytes, not " + n + " x " + per);
                }
                System.arraycopy(bytes, 0, out, start * per, bytes.length);
            }
            if (onImages != null) {
                onImages.accept(start + n);
            }
        }
        return out == null ? new byte[0] : out;
    }

    /** Labels 0, 1, ..., K−1, 0, 1, ... (n of them): uniform classes as the evaluation protocol uses. */
    public static long[] uniformLabels(int n, int numClasses) {
        long[] y = new long[n];
        for (int i = 0; i < n; i++) {
            y[i] = i % numClasses;
        }
        return y;
    }

    /** [-1, 1] floats (N, C, H, W) to uint8 NHWC as the ADM evaluator expects: clamp((x+1)·127.5) truncated. */
    public static byte[] toUint8Nhwc(NDArray images) {
        NDArray u = images.add(1)
                .mul(127.5)
                .clip(0, 255)
                .toType(DataType.UINT8, false)
                .transpose(0, 2, 3, 1);
        return u.toByteArray();
    }
}
