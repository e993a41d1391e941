package ai.tinyfusion.bench;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.tinyfusion.model.vae.AutoencoderKL;
import ai.tinyfusion.model.vae.VaeImages;
import java.util.Random;

/**
 * Encode and decode speed of {@link AutoencoderKL} as {@code vae encode}/{@code decode} and {@code sample --vae} use
 * it: uint8 NHWC images → [−1, 1] → posterior mean × scale on the host, and latents → decoder → uint8 NHWC on the
 * host. {@code tools/bench/vae_bench.py} times the same two paths with latent-diffusion's own code.
 */
public final class VaeBench {
    private VaeBench() {}

    /** Seconds of each timed call: {@code encode} and {@code decode} of one batch. */
    public record Times(double[] encode, double[] decode) {}

    /** Times {@code iters} encodes and decodes of a batch of {@code batch} random size² images, after warm-up. */
    public static Times time(AutoencoderKL vae, NDManager parent, int batch, int size, int warmup, int iters) {
        int f = vae.config().downsampleFactor();
        if (size % f != 0) {
            throw new IllegalArgumentException("image size " + size + " is not a multiple of the VAE's factor " + f);
        }
        Random r = new Random(0);
        byte[] images = new byte[batch * size * size * 3];
        r.nextBytes(images);
        float[] latents = new float[batch * vae.config().latentChannels() * (size / f) * (size / f)];
        for (int i = 0; i < latents.length; i++) {
            latents[i] = (float) r.nextGaussian();
        }
        double scale = vae.config().scalingFactor();
        double[] enc = new double[iters];
        double[] dec = new double[iters];
        for (int i = 0; i < warmup + iters; i++) {
            try (NDManager m = parent.newSubManager()) {
                long t0 = System.nanoTime();
                NDArray x = VaeImages.toUnitRange(m, images, batch, size, size);
                vae.toDiffusionLatents(vae.encode(x).mean(), scale).toFloatArray();
                long t1 = System.nanoTime();
                NDArray z = m.create(latents, new Shape(batch, vae.config().latentChannels(), size / f, size / f));
                VaeImages.decodeUint8(vae, z, scale);
                long t2 = System.nanoTime();
                if (i >= warmup) {
                    enc[i - warmup] = (t1 - t0) / 1e9;
                    dec[i - warmup] = (t2 - t1) / 1e9;
                }
            }
        }
        return new Times(enc, dec);
    }
}
