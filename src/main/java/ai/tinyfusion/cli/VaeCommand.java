package ai.tinyfusion.cli;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import ai.tinyfusion.data.ImageFiles;
import ai.tinyfusion.data.ImageFolderDataset;
import ai.tinyfusion.eval.ImageGrid;
import ai.tinyfusion.io.AtomicFiles;
import ai.tinyfusion.io.DType;
import ai.tinyfusion.io.HostTensor;
import ai.tinyfusion.io.Npy;
import ai.tinyfusion.io.Npz;
import ai.tinyfusion.io.NpzWriter;
import ai.tinyfusion.model.vae.AutoencoderKL;
import ai.tinyfusion.model.vae.LatentExtraction;
import ai.tinyfusion.model.vae.VaeImages;
import ai.tinyfusion.util.ProgressBars;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import me.tongfei.progressbar.ProgressBar;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code tinyfusion vae encode|decode}: images ↔ diffusion latents through a KL autoencoder. */
@Command(
        name = "vae",
        mixinStandardHelpOptions = true,
        description = "Encode images to diffusion latents or decode latents to images with a KL VAE "
                + "(the Stable Diffusion VAE, KL-16), with the pixel conventions of DiT's scripts.",
        subcommands = {VaeCommand.Encode.class, VaeCommand.Decode.class, VaeCommand.Extract.class})
public final class VaeCommand implements Runnable {
    @Override
    public void run() {
        CommandLine.usage(this, System.out);
    }

    /** Options both subcommands take. */
    static final class Common {
        @Mixin
        VaeOptions vae;

        @Option(names = "--batch", defaultValue = "8", description = "Images per batch (${DEFAULT-VALUE}).")
        int batch;

        @Option(
                names = "--device",
                defaultValue = "cpu",
                description = "cpu, or gpu / gpu:N with a CUDA libtorch (${DEFAULT-VALUE}).")
        String device;

        NDManager manager() {
            if (batch < 1) {
                throw new IllegalArgumentException("--batch must be at least 1, got " + batch);
            }
            return NDManager.newBaseManager(Device.fromName(device));
        }
    }

    @Command(
            name = "encode",
            mixinStandardHelpOptions = true,
            description = "Images (a folder of image files, or an ADM .npz with arr_0 uint8 NHWC RGB) → latents "
                    + "(N×z×h×w float32) as .npy, or .npz (arr_0 latents; arr_1 the input .npz's labels). Pixels go "
                    + "to [-1, 1] as x/127.5 - 1; latents are (posterior mean - shift)·scale.")
    static final class Encode implements Callable<Integer> {
        @Mixin
        Common common;

        @Parameters(index = "0", paramLabel = "IMAGES", description = "Image folder or ADM-style .npz.")
        Path input;

        @Option(
                names = "--out",
                required = true,
                description = "Latents file: .npy (latents only) or .npz (arr_0 latents, arr_1 labels).")
        Path out;

        @Option(
                names = "--sample",
                description = "Draw the latents from the posterior (batch b seeded with --seed + b), not its mean.")
        boolean sample;

        @Option(names = "--seed", defaultValue = "0", description = "Seed of --sample (${DEFAULT-VALUE}).")
        int seed;

        @Option(
                names = "--image-size",
                description = "Folder images: centre-crop each to this size as ADM's center_crop_arr (default: "
                        + "none; every image must then have the same size).")
        Integer imageSize;

        @Override
        public Integer call() throws Exception {
            String name = out.getFileName().toString().toLowerCase(Locale.ROOT);
            if (!name.endsWith(".npy") && !name.endsWith(".npz")) {
                throw new IllegalArgumentException("--out must end in .npy or .npz, got " + out);
            }
            Images images = Files.isDirectory(input) ? folder(input, imageSize) : npz(input);
            try (NDManager manager = common.manager()) {
                AutoencoderKL vae = common.vae.load(manager);
                double scale = common.vae.scale(vae);
                int f = vae.config().downsampleFactor();
                long[] shape = {images.n(), vae.config().latentChannels(), images.h() / f, images.w() / f};
                // latents go to the file batch by batch: any number of images in bounded memory
                try (LatentsFile file = new LatentsFile(out, name.endsWith(".npy"), shape);
                        ProgressBar bar =
                                ProgressBars.builder("encode", images.n(), true).build()) {
                    VaeImages.encode(
                            vae,
                            manager,
                            images.source(),
                            images.n(),
                            images.h(),
                            images.w(),
                            common.batch,
                            scale,
                            sample,
                            seed,
                            file::write,
                            bar::stepTo);
                    file.finish(images.labels());
                } catch (UncheckedIOException e) {
                    throw e.getCause();
                }
                System.out.printf(
                        Locale.ROOT,
                        "%d images %dx%d -> latents %s (scale %s, %s) -> %s%n",
                        images.n(),
                        images.h(),
                        images.w(),
                        Arrays.toString(shape),
                        scale,
                        sample ? "posterior samples, seed " + seed : "posterior mean",
                        out.toAbsolutePath());
            }
            return 0;
        }
    }

    /** Latents written as they are encoded: a {@code .npy}, or an {@code .npz} with arr_0 (and arr_1 labels). */
    static final class LatentsFile implements AutoCloseable {
        private final AtomicFiles.Pending npy;
        private final NpzWriter npz;
        private final Path path;

        LatentsFile(Path path, boolean asNpy, long[] shape) throws IOException {
            this.path = path;
            if (asNpy) {
                npy = Npy.begin(path, DType.F32, shape);
                npz = null;
            } else {
                npy = null;
                npz = NpzWriter.create(path);
                npz.begin("arr_0", DType.F32, shape);
            }
        }

        /** One batch's latents, in order. */
        void write(int start, int n, float[] latents) {
            ByteBuffer b = ByteBuffer.allocate(latents.length * 4).order(ByteOrder.LITTLE_ENDIAN);
            b.asFloatBuffer().put(latents);
            try {
                if (npy != null) {
                    AtomicFiles.writeFully(npy.channel(), b);
                } else {
                    npz.write(b);
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        /** Completes the file (the .npz with {@code labels} as arr_1 when given) and moves it into place. */
        void finish(HostTensor labels) throws IOException {
            if (npy != null) {
                npy.commit();
                return;
            }
            npz.end();
            if (labels != null) {
                npz.array("arr_1", labels);
            }
            npz.commit();
        }

        @Override
        public void close() throws IOException {
            if (npy != null) {
                npy.close();
            } else {
                npz.close();
            }
        }

        @Override
        public String toString() {
            return path.toString();
        }
    }

    @Command(
            name = "extract",
            mixinStandardHelpOptions = true,
            description = "Training latents from an ImageNet-style folder (DATA/<class>/**.png|jpg...), as the "
                    + "original's extract_features.py: ADM centre crop to --image-size, [-1, 1], VAE posterior sample "
                    + "times the scale -> <out>/<prefix>_features/<i>.npy (float32 (1, C, h, w), or (2, C, h, w) with "
                    + "--flip copies) and <out>/<prefix>_labels/<i>.npy (int64 (1,)), readable by --data. Running "
                    + "it again resumes: images whose files exist are skipped; the result does not depend on --batch.")
    static final class Extract implements Callable<Integer> {
        @Mixin
        Common common;

        @Parameters(index = "0", paramLabel = "DATA", description = "Image folder with one sub-folder per class.")
        Path data;

        @Option(names = "--out", required = true, description = "Output root of the latent folders.")
        Path out;

        @Option(
                names = "--image-size",
                defaultValue = "256",
                description = "Centre-crop size, a multiple of the VAE's factor (${DEFAULT-VALUE}).")
        int imageSize;

        @Option(
                names = "--prefix",
                description = "Folder prefix: <prefix>_features, <prefix>_labels (default: imagenet<image-size>, "
                        + "as the original's train.py expects).")
        String prefix;

        @Option(
                names = "--flip",
                defaultValue = "random",
                description = "none, random (mirror with probability 1/2 per image, as the original's "
                        + "RandomHorizontalFlip, seeded by --seed and the index) or copies (store image and mirror) "
                        + "(${DEFAULT-VALUE}).")
        String flip;

        @Option(names = "--mean", description = "Store the posterior mean instead of a posterior sample.")
        boolean mean;

        @Option(
                names = "--seed",
                defaultValue = "0",
                description = "Seed of the flips and the posterior noise (${DEFAULT-VALUE}).")
        long seed;

        @Override
        public Integer call() throws Exception {
            LatentExtraction.Flip f;
            try {
                f = LatentExtraction.Flip.valueOf(flip.toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("unknown --flip '" + flip + "' (none, random, copies)", e);
            }
            ImageFolderDataset images = new ImageFolderDataset(data, imageSize);
            try (NDManager manager = common.manager()) {
                AutoencoderKL vae = common.vae.load(manager);
                LatentExtraction.Options options = new LatentExtraction.Options(
                        prefix != null ? prefix : "imagenet" + imageSize,
                        f,
                        mean,
                        seed,
                        common.vae.scale(vae),
                        common.batch);
                LatentExtraction run = new LatentExtraction(vae, images, out, options);
                int before = run.done();
                try (ProgressBar bar = ProgressBars.builder("extract", images.size(), true)
                        .startsFrom(before, Duration.ZERO)
                        .build()) {
                    run.run(manager, bar::stepTo);
                }
                System.out.printf(
                        Locale.ROOT,
                        "%d images of %d classes (%d encoded now) -> %s/%s_features, %s_labels (scale %s, flip %s, %s)%n",
                        images.size(),
                        images.numClasses(),
                        images.size() - before,
                        out.toAbsolutePath(),
                        options.prefix(),
                        options.prefix(),
                        options.scale(),
                        flip,
                        mean ? "posterior mean" : "posterior samples, seed " + seed);
            }
            return 0;
        }
    }

    /** Input images: n of h×w RGB, read a batch at a time, and labels (or null). */
    record Images(int n, int h, int w, VaeImages.ImageSource source, HostTensor labels) {}

    /** Every image file of a folder (sorted by relative path), read when its batch is encoded. */
    static Images folder(Path dir, Integer size) throws IOException {
        List<Path> files = ImageFiles.list(dir);
        int crop = size == null ? 0 : size;
        ImageFiles.Rgb first = ImageFiles.read(files.get(0), crop);
        int h = first.height();
        int w = first.width();
        VaeImages.ImageSource source = (start, k) -> {
            byte[] out = new byte[k * h * w * 3];
            for (int i = 0; i < k; i++) {
                Path file = files.get(start + i);
                try {
                    ImageFiles.Rgb im = ImageFiles.read(file, crop);
                    if (im.height() != h || im.width() != w) {
                        throw new IllegalArgumentException(file + " is " + im.width() + "x" + im.height() + ", not " + w
                                + "x" + h + " as " + files.get(0) + ": give --image-size to centre-crop them all");
                    }
                    System.arraycopy(im.pixels(), 0, out, i * h * w * 3, h * w * 3);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }
            return out;
        };
        return new Images(files.size(), h, w, source, null);
    }

    /** An ADM-style .npz: arr_0 uint8 (N, H, W, 3), arr_1 labels if present. */
    static Images npz(Path file) throws IOException {
        try (Npz.Archive archive = Npz.open(file)) {
            HostTensor images = archive.get("arr_0");
            long[] s = images.shape();
            if (images.dtype() != DType.U8 || s.length != 4 || s[3] != 3) {
                throw new IOException(
                        file + ": arr_0 must be uint8 N×H×W×3 (RGB), got " + images.dtype() + " " + Arrays.toString(s));
            }
            int h = (int) s[1];
            int w = (int) s[2];
            int per = h * w * 3;
            VaeImages.ImageSource source = (start, k) -> {
                byte[] out = new byte[k * per];
                images.data().duplicate().position(start * per).get(out);
                return out;
            };
            HostTensor labels = archive.contains("arr_1") ? archive.get("arr_1") : null;
            return new Images((int) s[0], h, w, source, labels);
        }
    }

    @Command(
            name = "decode",
            mixinStandardHelpOptions = true,
            description = "Latents (.npy, or .npz member --key; N×z×h×w float) → samples.npz (arr_0 uint8 NHWC RGB; "
                    + "arr_1 the input .npz's labels), PNG files and a grid: decode(latents/scale + shift), then "
                    + "clamp(127.5·x + 128, 0, 255) truncated to uint8, as DiT's sample_ddp.py.")
    static final class Decode implements Callable<Integer> {
        @Mixin
        Common common;

        @Parameters(index = "0", paramLabel = "LATENTS", description = "Latents .npy or .npz.")
        Path input;

        @Option(
                names = "--key",
                description = "The .npz member holding the latents (default: arr_0, else the only member).")
        String key;

        @Option(names = "--out", defaultValue = "decoded", description = "Output directory (${DEFAULT-VALUE}).")
        Path out;

        @Option(
                names = "--png",
                negatable = true,
                defaultValue = "true",
                fallbackValue = "true",
                description = "Write every image as <out>/images/NNNNNN.png (default: on).")
        boolean png;

        @Option(
                names = "--grid-max",
                defaultValue = "100",
                description = "At most this many images in <out>/grid.png; 0 = no grid (${DEFAULT-VALUE}).")
        int gridMax;

        @Override
        public Integer call() throws Exception {
            HostTensor labels = null;
            HostTensor latents;
            if (input.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".npz")) {
                try (Npz.Archive archive = Npz.open(input)) {
                    String k = key != null
                            ? key
                            : archive.contains("arr_0") || archive.keys().size() != 1
                                    ? "arr_0"
                                    : archive.keys().get(0);
                    latents = archive.get(k);
                    if (!k.equals("arr_1") && archive.contains("arr_1")) {
                        labels = archive.get("arr_1");
                    }
                }
            } else {
                latents = Npy.read(input);
            }
            long[] shape = latents.shape();
            if (shape.length != 4 || !latents.dtype().isFloating()) {
                throw new IllegalArgumentException(input + ": latents must be floats N×C×h×w, got " + latents.dtype()
                        + " " + Arrays.toString(shape));
            }
            int n = (int) shape[0];
            try (NDManager manager = common.manager()) {
                AutoencoderKL vae = common.vae.load(manager);
                VaeImages.checkLatentChannels(vae.config(), shape[1], input.toString());
                double scale = common.vae.scale(vae);
                int f = vae.config().downsampleFactor();
                int h = (int) shape[2] * f;
                int w = (int) shape[3] * f;
                int per = h * w * 3;
                int g = Math.min(gridMax, n);
                byte[] head = new byte[Math.multiplyExact(g, per)];
                Files.createDirectories(out);
                VaeImages.LatentSource source = slicer(latents);
                // images go to samples.npz batch by batch: bounded memory at any n and --batch
                try (NpzWriter npz = NpzWriter.create(out.resolve("samples.npz"));
                        ProgressBar bar =
                                ProgressBars.builder("decode", n, true).build()) {
                    npz.begin("arr_0", DType.U8, n, h, w, 3);
                    VaeImages.decode(
                            vae,
                            manager,
                            source,
                            shape,
                            common.batch,
                            scale,
                            (start, k, nhwc) -> {
                                try {
                                    npz.write(nhwc);
                                } catch (IOException e) {
                                    throw new UncheckedIOException(e);
                                }
                                if (start < g) {
                                    System.arraycopy(nhwc, 0, head, start * per, Math.min(k, g - start) * per);
                                }
                                if (png) {
                                    writePngs(out.resolve("images"), nhwc, start, k, h, w);
                                }
                            },
                            bar::stepTo);
                    npz.end();
                    if (labels != null && labels.shape().length == 1 && labels.shape()[0] == n) {
                        npz.array("arr_1", labels);
                    }
                    npz.commit();
                } catch (UncheckedIOException e) {
                    throw e.getCause();
                }
                if (g > 0) {
                    ImageGrid.write(out.resolve("grid.png"), head, g, h, w, 3, null, 10, h < 64 ? 3 : 1);
                }
                System.out.printf(
                        Locale.ROOT,
                        "%d latents %s -> images %dx%d (scale %s) -> %s%n",
                        n,
                        Arrays.toString(shape),
                        h,
                        w,
                        scale,
                        out.toAbsolutePath());
            }
            return 0;
        }
    }

    /** Batches of a latent tensor as floats: float32 sliced from its buffer, other float types converted once. */
    static VaeImages.LatentSource slicer(HostTensor latents) {
        long[] s = latents.shape();
        int per = (int) (s[1] * s[2] * s[3]);
        if (latents.dtype() == DType.F32) {
            FloatBuffer all =
                    latents.data().duplicate().order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer();
            return (start, k) -> {
                float[] out = new float[k * per];
                all.duplicate().position(start * per).get(out);
                return out;
            };
        }
        float[] all = latents.toFloatArray();
        return (start, k) -> Arrays.copyOfRange(all, start * per, (start + k) * per);
    }

    private static void writePngs(Path dir, byte[] nhwc, int start, int k, int h, int w) {
        try {
            Files.createDirectories(dir);
            for (int i = 0; i < k; i++) {
                ImageGrid.writeOne(dir.resolve(String.format(Locale.ROOT, "%06d.png", start + i)), nhwc, i, h, w, 3);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
