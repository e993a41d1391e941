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
 * Class-conditional sampling from a DiT as the original sample.py: z ~ N(0, I) per batch from its seed, then the
 * objective's {@link Method} (DDPM/DDIM, or SiT's ODE/SDE); with guidance the batch is doubled with null labels and
 * denoised through {@code forward_with_cfg}; the conditional half is kept.
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

        /** The defaults of {@link #defaults}: DDIM, 50 steps, guidance 1.5, eta 0. */
        public static final String DEFAULT_METHOD = "ddim";

        public static final int DEFAULT_STEPS = 50;
        public static final double DEFAULT_CFG = 1.5;
        public static final double DEFAULT_ETA = 0.0;

        /** Pixel models clip x0 to [-1, 1]; latent models (4 channels) do not, as the original. */
        public static Settings defaults(DiTConfig c) {
            return new Settings(
                    DEFAULT_METHOD,
                    DEFAULT_STEPS,
                    DEFAULT_CFG,
                    originalGuidedChannels(c),
                    DEFAULT_ETA,
                    c.inChannels() != 4);
        }
    }

    /**
     * How one batch is sampled from its initial noise: an objective's sampler with its guidance ({@link
     * DdpmObjective#sampling}, {@code transport.TransportObjective#sampling}).
     */
    public interface Method {
        /**
         * Samples for labels {@code y} (N,) from the initial noise {@code z} (N, C, H, W), both owned by {@code m};
         * with guidance the method doubles the batch with null labels and returns the conditional half.
         *
         * @param noise where stochastic steps draw their noise; {@code null}: the method's own (the engine's
         *     generator, as the original)
         * @param onStep called with the number of finished steps where the method has steps (may be null)
         */
        NDArray sample(NDManager m, DiT model, NDArray z, NDArray y, NoiseSource noise, IntConsumer onStep);

        /** A short description for logs (method, steps, guidance). */
        String describe();

        /** The respaced diffusion a DDPM/DDIM method steps through. */
        default SpacedDiffusion diffusion() {
            throw new UnsupportedOperationException(describe() + " has no Gaussian diffusion");
        }
    }

    private final DiT model;
    private final Method method;

    /** A DDPM/DDIM sampler for {@code model}: the 1000-step process respaced to {@code settings}' steps. */
    public Sampler(DiT model, Settings settings) {
        this(model, DdpmObjective.sampling(settings));
    }

    /** A sampler for {@code model} with any objective's method. */
    public Sampler(DiT model, Method method) {
        this.model = model;
        this.method = method;
    }

    public Method method() {
        return method;
    }

    /** The respaced diffusion the sampler steps through (DDPM/DDIM only). */
    public SpacedDiffusion diffusion() {
        return method.diffusion();
    }

    /**
     * Samples one batch for {@code labels}: after {@code Engine.setRandomSeed(seed)} the initial noise z ~ N(0, I),
     * then the method. Returns samples in the model's space, (N, C, H, W); the arrays belong to {@code m}.
     *
     * @param onStep called with the number of finished denoising steps (may be null)
     */
    public NDArray sample(NDManager m, long[] labels, int seed, IntConsumer onStep) {
        DiTConfig c = model.config();
        Engine.getInstance().setRandomSeed(seed);
        NDArray z = m.randomNormal(new Shape(labels.length, c.inChannels(), c.inputSize(), c.inputSize()));
        return method.sample(m, model, z, m.create(labels).duplicate(), null, onStep);
    }

    /**
     * As {@link #sample(NDManager, long[], int, IntConsumer)} with {@link IndexedNoise}: {@code labels[j]} is image
     * {@code firstIndex + j} of a run seeded with {@code seed}, and its initial and step noise depend on nothing else.
     */
    public NDArray sampleIndexed(NDManager m, long[] labels, long firstIndex, long seed, IntConsumer onStep) {
        DiTConfig c = model.config();
        IndexedNoise noise = new IndexedNoise(seed, firstIndex, labels.length);
        NDArray z =
                noise.next(m, new Shape(labels.length, c.inChannels(), c.inputSize(), c.inputSize()), DataType.FLOAT32);
        return method.sample(m, model, z, m.create(labels).duplicate(), noise, onStep);
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
