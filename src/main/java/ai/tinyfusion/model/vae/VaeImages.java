package ai.tinyfusion.model.vae;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.tinyfusion.nn.Scalars;
import java.nio.ByteBuffer;
import java.util.function.IntConsumer;

/**
 * Images ↔ diffusion latents through an {@link AutoencoderKL}, with the pixel conventions of the
 * original DiT scripts, batch by batch:
 *
 * <ul>
 *   <li>encoding: uint8 RGB → {@code x/127.5 − 1} → posterior mean (or a sample) → {@code (z − shift)·scale};</li>
 *   <li>decoding: {@code decode(latents/scale + shift)} → {@code clamp(127.5·x + 128, 0, 255)} truncated to
 *       uint8, NHWC (DiT {@code sample_ddp.py}; torchvision's {@code save_image(normalize=True,
 *       value_range=(-1, 1))} in {@code sample.py} rounds the same way).</li>
 * </ul>
 *
 * Only one batch of float images exists at a time; each batch runs in a sub-manager.
 */
public final class VaeImages {
    private VaeImages() {}

    /** Supplies uint8 NHWC RGB images {@code [start, start + n)}. */
    @FunctionalInterface
    public interface ImageSource {
        byte[] images(int start, int n);
    }

    /** Supplies diffusion latents {@code [start, start + n)}, float32 C order. */
    @FunctionalInterface
    public interface LatentSource {
        float[] latents(int start, int n);
    }

    /** Receives the latents (float32, C order) of one encoded batch starting at {@code start}. */
    @FunctionalInterface
    public interface LatentSink {
        void accept(int start, int n, float[] latents);
    }

    /** Receives the uint8 NHWC images of one decoded batch starting at {@code start}. */
    @FunctionalInterface
    public interface ImageSink {
        void accept(int start, int n, byte[] nhwc);
    }

    /** uint8 NHWC RGB images → floats (N, 3, H, W) in [−1, 1] as {@code x/127.5 − 1}, in {@code m}. */
    public static NDArray toUnitRange(NDManager m, byte[] nhwc, int n, int h, int w) {
        NDArray u = m.create(ByteBuffer.wrap(nhwc), new Shape(n, h, w, 3), DataType.UINT8);
        return Scalars.div(u.toType(DataType.FLOAT32, false), 127.5).sub(1).transpose(0, 3, 1, 2);
    }

    /** Decoded images (N, 3, H, W) → uint8 NHWC: {@code clamp(127.5·x + 128, 0, 255)}, truncated (DiT sample_ddp.py). */
    public static byte[] toUint8Nhwc(NDArray images) {
        try (NDManager scope = images.getManager().newSubManager()) {
            scope.tempAttachAll(images);
            NDArray u = Scalars.mul(images, 127.5)
                    .add(128.0)
                    .clip(0, 255)
                    .toType(DataType.UINT8, false)
                    .transpose(0, 2, 3, 1);
            return u.toByteArray();
        }
    }

    /** Refuses latents whose channel count is not the VAE's z channels, in one clear sentence. */
    public static void checkLatentChannels(VaeConfig config, long channels, String source) {
        if (channels != config.latentChannels()) {
            throw new IllegalArgumentException(source + " has " + channels + " latent channels but the VAE's z has "
                    + config.latentChannels() + ": a model and a VAE must share the latent space");
        }
    }

    /**
     * Encodes {@code n} images of H×W (multiples of the VAE's downsampling factor) to latents (N, z, H/f, W/f)
     * float32, C order, batch by batch: each batch's latents go to {@code sink} before the next batch is read.
     *
     * @param sample draw from the posterior (batch b seeded with {@code seed + b}) instead of taking its mean
     */
    public static void encode(
            AutoencoderKL vae,
            NDManager parent,
            ImageSource source,
            int n,
            int h,
            int w,
            int batch,
            double scale,
            boolean sample,
            int seed,
            LatentSink sink,
            IntConsumer onImages) {
        int f = vae.config().downsampleFactor();
        if (h % f != 0 || w % f != 0) {
            throw new IllegalArgumentException(
                    "images of " + h + "x" + w + " are not a multiple of the VAE's downsampling factor " + f);
        }
        for (int start = 0, b = 0; start < n; start += batch, b++) {
            int k = Math.min(batch, n - start);
            try (NDManager m = parent.newSubManager()) {
                DiagonalGaussian posterior = vae.encode(toUnitRange(m, source.images(start, k), k, h, w));
                NDArray z;
                if (sample) {
                    Engine.getInstance().setRandomSeed(seed + b);
                    z = posterior.sample();
                } else {
                    z = posterior.mean();
                }
                sink.accept(start, k, vae.toDiffusionLatents(z, scale).toFloatArray());
            }
            if (onImages != null) {
                onImages.accept(start + k);
            }
        }
    }

    /**
     * Decodes diffusion latents of {@code shape} (N, z, h, w) batch by batch; each batch's uint8 NHWC images go to
     * {@code sink} before the next batch is read.
     */
    public static void decode(
            AutoencoderKL vae,
            NDManager parent,
            LatentSource latents,
            long[] shape,
            int batch,
            double scale,
            ImageSink sink,
            IntConsumer onImages) {
        if (shape.length != 4) {
            throw new IllegalArgumentException("latents must be N×C×h×w, got " + shape.length + " dimensions");
        }
        checkLatentChannels(vae.config(), shape[1], "the latents");
        int n = (int) shape[0];
        for (int start = 0; start < n; start += batch) {
            int k = Math.min(batch, n - start);
            float[] part = latents.latents(start, k);
            try (NDManager m = parent.newSubManager()) {
                NDArray z = m.create(part, new Shape(k, shape[1], shape[2], shape[3]));
                sink.accept(start, k, decodeUint8(vae, z, scale));
            }
            if (onImages != null) {
                onImages.accept(start + k);
            }
        }
    }

    /** One batch of diffusion latents (N, z, h, w) → uint8 NHWC images. */
    public static byte[] decodeUint8(AutoencoderKL vae, NDArray latents, double scale) {
        checkLatentChannels(vae.config(), latents.getShape().get(1), "the latents");
        return toUint8Nhwc(vae.decode(vae.fromDiffusionLatents(latents, scale)));
    }

    /**
     * As {@link #decodeUint8(AutoencoderKL, NDArray, double)}, {@code chunk} images at a time (each chunk's float
     * images freed before the next is decoded), for batches whose decoded floats would not fit at once.
     */
    public static byte[] decodeUint8(AutoencoderKL vae, NDArray latents, double scale, int chunk) {
        int n = (int) latents.getShape().get(0);
        if (n <= chunk) {
            return decodeUint8(vae, latents, scale);
        }
        byte[] out = null;
        for (int start = 0; start < n; start += chunk) {
            int k = Math.min(chunk, n - start);
            try (NDManager m = latents.getManager().newSubManager()) {
                NDArray part = latents.get(start + ":" + (start + k));
                part.attach(m);
                byte[] bytes = decodeUint8(vae, part, scale);
                if (out == null) {
                    out = new byte[bytes.length / k * n];
                }
                System.arraycopy(bytes, 0, out, bytes.length / k * start, bytes.length);
            }
        }
        return out;
    }
}
