package ai.tinyfusion.model.vae;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.tinyfusion.data.ImageFolderDataset;
import ai.tinyfusion.data.IndexedGaussians;
import ai.tinyfusion.io.AtomicFiles;
import ai.tinyfusion.io.HostTensor;
import ai.tinyfusion.io.Npy;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.LongConsumer;

/**
 * Training latents from an image folder, as the original's {@code extract_features.py}: each image (torchvision
 * {@code ImageFolder} order, ADM centre crop, [−1, 1]) is encoded by the VAE and a posterior sample times the scale is
 * saved as {@code <out>/<prefix>_features/<i>.npy} with its class in {@code <out>/<prefix>_labels/<i>.npy} (int64,
 * shape (1,)), the layout {@link ai.tinyfusion.data.LatentFolderDataset} and the original's {@code train.py} read.
 *
 * <p>Flips: {@link Flip#RANDOM} mirrors an image with probability ½ before encoding, as the original's
 * {@code RandomHorizontalFlip}, but decided by the image's index and the seed; {@link Flip#COPIES} stores the latents
 * of the image and of its mirror image, (2, C, h, w), so training can pick a flip per epoch; {@link Flip#NONE} never
 * flips. The posterior noise of image i is {@link IndexedGaussians} draw (seed, i, 0) (its mirror copy: draw 1), so
 * a resumed run writes the same files as an uninterrupted one with the same batch size: it re-encodes every batch
 * (a fixed group of indices) that misses a file (each file is written atomically). Another batch size gives the same
 * latents up to float rounding (the VAE's convolutions may sum in another order for another batch).
 */
public final class LatentExtraction {
    /** How horizontal flips are handled. */
    public enum Flip {
        NONE,
        RANDOM,
        COPIES
    }

    /** What to extract: the posterior mean instead of a sample when {@code mean}. */
    public record Options(String prefix, Flip flip, boolean mean, long seed, double scale, int batch) {
        public Options {
            if (prefix == null || prefix.isEmpty() || prefix.contains("/") || prefix.contains("\\")) {
                throw new IllegalArgumentException("bad latent folder prefix '" + prefix + "'");
            }
            if (batch < 1) {
                throw new IllegalArgumentException("batch must be at least 1, got " + batch);
            }
        }
    }

    private final AutoencoderKL vae;
    private final ImageFolderDataset images;
    private final Path features;
    private final Path labels;
    private final Options options;

    public LatentExtraction(AutoencoderKL vae, ImageFolderDataset images, Path out, Options options)
            throws IOException {
        int f = vae.config().downsampleFactor();
        if (images.height() % f != 0) {
            throw new IllegalArgumentException(
                    "image size " + images.height() + " is not a multiple of the VAE's downsampling factor " + f);
        }
        this.vae = vae;
        this.images = images;
        this.options = options;
        this.features = out.resolve(options.prefix() + "_features");
        this.labels = out.resolve(options.prefix() + "_labels");
        Files.createDirectories(features);
        Files.createDirectories(labels);
        byte[] classes = (String.join("\n", images.classNames()) + "\n").getBytes(StandardCharsets.UTF_8);
        AtomicFiles.write(
                out.resolve(options.prefix() + "_classes.txt"),
                ch -> AtomicFiles.writeFully(ch, ByteBuffer.wrap(classes)));
    }

    /** Image {@code i}'s latent file. */
    public Path featureFile(int i) {
        return features.resolve(i + ".npy");
    }

    /** Image {@code i}'s label file. */
    public Path labelFile(int i) {
        return labels.resolve(i + ".npy");
    }

    /** Images whose latent and label files both exist. */
    public int done() {
        int n = 0;
        for (int i = 0; i < images.size(); i++) {
            if (Files.exists(featureFile(i)) && Files.exists(labelFile(i))) {
                n++;
            }
        }
        return n;
    }

    /**
     * Encodes every image that has no files yet, {@code batch} at a time.
     *
     * @param onImages called with the number of images done in all
     */
    public void run(NDManager parent, LongConsumer onImages) throws IOException {
        // Batches are fixed groups of indices [g·batch, (g+1)·batch): a resume re-encodes whole groups, so every file
        // comes from the same batch composition as in an uninterrupted run (convolutions may round differently in
        // another composition).
        int b = options.batch();
        long finished = done();
        int s = images.height();
        int copies = options.flip() == Flip.COPIES ? 2 : 1;
        for (int from = 0; from < images.size(); from += b) {
            List<Integer> part = new ArrayList<>();
            boolean missing = false;
            for (int i = from; i < Math.min(images.size(), from + b); i++) {
                part.add(i);
                missing |= !Files.exists(featureFile(i)) || !Files.exists(labelFile(i));
            }
            if (!missing) {
                continue;
            }
            long already = part.stream()
                    .filter(i -> Files.exists(featureFile(i)) && Files.exists(labelFile(i)))
                    .count();
            int k = part.size();
            float[] pixels = new float[k * copies * 3 * s * s];
            for (int j = 0; j < k; j++) {
                int i = part.get(j);
                for (int c = 0; c < copies; c++) {
                    float[] chw = images.get(i, flipped(i, c)).image();
                    System.arraycopy(chw, 0, pixels, (j * copies + c) * chw.length, chw.length);
                }
            }
            try (NDManager m = parent.newSubManager()) {
                DiagonalGaussian posterior = vae.encode(m.create(pixels, new Shape((long) k * copies, 3, s, s)));
                NDArray z = options.mean() ? posterior.mean() : posterior.sample(noise(m, part, copies, posterior));
                NDArray latents = vae.toDiffusionLatents(z, options.scale());
                long[] shape = latents.getShape().getShape();
                float[] all = latents.toFloatArray();
                int per = all.length / k;
                for (int j = 0; j < k; j++) {
                    int i = part.get(j);
                    float[] one = new float[per];
                    System.arraycopy(all, j * per, one, 0, per);
                    Npy.write(featureFile(i), HostTensor.ofFloats(one, copies, shape[1], shape[2], shape[3]));
                    Npy.write(labelFile(i), HostTensor.ofLongs(new long[] {images.label(i)}, 1));
                }
            }
            finished += k - already;
            onImages.accept(finished);
        }
    }

    /** Whether copy {@code c} of image {@code i} is mirrored. */
    boolean flipped(int i, int c) {
        return switch (options.flip()) {
            case NONE -> false;
            case COPIES -> c == 1;
            case RANDOM -> IndexedGaussians.generator(options.seed(), i, -1).nextDouble() < 0.5;
        };
    }

    /** The posterior noise of a batch: image i's copy c is draw (seed, i, c). */
    private NDArray noise(NDManager m, List<Integer> part, int copies, DiagonalGaussian posterior) {
        Shape shape = posterior.mean().getShape();
        int per = (int) (shape.size() / shape.get(0));
        float[] eps = new float[(int) shape.size()];
        for (int j = 0; j < part.size(); j++) {
            for (int c = 0; c < copies; c++) {
                IndexedGaussians.fill(options.seed(), part.get(j), c, eps, (j * copies + c) * per, per);
            }
        }
        return m.create(eps, shape);
    }

    @Override
    public String toString() {
        return String.format(Locale.ROOT, "LatentExtraction[%s -> %s, %s]", images.root(), features, options);
    }
}
