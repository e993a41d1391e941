package ai.tinyfusion.data;

import ai.tinyfusion.io.DType;
import ai.tinyfusion.io.HostTensor;
import ai.tinyfusion.io.Npy;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.stream.Stream;

/**
 * Pre-extracted VAE latents in the layout of the original repository's {@code extract_features.py}
 * / {@code train.py} ({@code CustomDataset}):
 *
 * <pre>
 *   &lt;root&gt;/&lt;prefix&gt;_features/N.npy   float32 (2, C, H, W): latent of the image and of its mirror image
 *                                  (or (1, C, H, W) when no mirrored latent was stored)
 *   &lt;root&gt;/&lt;prefix&gt;_labels/N.npy     int64 (1,): the class
 * </pre>
 *
 * e.g. {@code imagenet256_features/} and {@code imagenet256_labels/} (C = 4, H = W = 32 for 256-pixel
 * images). As in the original, both directories are listed and sorted by file name (string order,
 * like Python's {@code sorted(os.listdir())}) and paired by position; here only {@code *.npy} files
 * count and the two listings must hold the same names.
 *
 * <p>The original picks the mirrored latent with probability {@code flip} (0.5) using Python's
 * global {@code random}; here {@link #get(int, boolean)} takes that choice as an argument: the
 * {@link Batcher} draws it from its seeded, restorable generator ({@code randomFlip(0.5)}). A file
 * with a single latent has no mirrored version and always yields that latent. Files are read on
 * every access (no caching); items are C×H×W latents as stored (not confined to [-1, 1]).
 */
public final class LatentFolderDataset implements Dataset {
    /** ImageNet's class count, the default. */
    public static final int IMAGENET_CLASSES = 1000;

    private final Path featuresDir;
    private final Path labelsDir;
    private final List<String> files;
    private final int numClasses;
    private final int c;
    private final int h;
    private final int w;

    /** {@code <root>/<prefix>_features} and {@code <root>/<prefix>_labels}, 1000 classes. */
    public LatentFolderDataset(Path root, String prefix) throws IOException {
        this(root.resolve(prefix + "_features"), root.resolve(prefix + "_labels"), IMAGENET_CLASSES);
    }

    public LatentFolderDataset(Path featuresDir, Path labelsDir, int numClasses) throws IOException {
        if (numClasses <= 0) {
            throw new IllegalArgumentException("numClasses must be positive, got " + numClasses);
        }
        this.featuresDir = featuresDir;
        this.labelsDir = labelsDir;
        this.numClasses = numClasses;
        List<String> features = listNpy(featuresDir);
        List<String> labels = listNpy(labelsDir);
        if (features.size() != labels.size()) {
            throw new IOException("number of feature files (" + features.size() + " in " + featuresDir
                    + ") and label files (" + labels.size() + " in " + labelsDir + ") differ");
        }
        for (int i = 0; i < features.size(); i++) {
            if (!features.get(i).equals(labels.get(i))) {
                throw new IOException("feature file " + features.get(i) + " has no label file of the same name in "
                        + labelsDir + " (found " + labels.get(i) + ")");
            }
        }
        if (features.isEmpty()) {
            throw new IOException("no .npy files in " + featuresDir);
        }
        this.files = List.copyOf(features);
        long[] first = readFeatures(0).shape();
        this.c = (int) first[1];
        this.h = (int) first[2];
        this.w = (int) first[3];
    }

    private static List<String> listNpy(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            throw new IOException("latent directory " + dir + " does not exist");
        }
        List<String> names = new ArrayList<>();
        try (Stream<Path> s = Files.list(dir)) {
            s.map(p -> p.getFileName().toString())
                    .filter(n -> n.endsWith(".npy"))
                    .forEach(names::add);
        }
        names.sort(String::compareTo);
        return names;
    }

    private HostTensor readFeatures(int index) throws IOException {
        Path p = featuresDir.resolve(files.get(index));
        HostTensor a = Npy.read(p);
        long[] s = a.shape();
        if (a.dtype() != DType.F32 || s.length != 4 || (s[0] != 1 && s[0] != 2)) {
            throw new IOException(p + ": expected float32 (2, C, H, W) or (1, C, H, W), got "
                    + (a.dtype() != DType.F32 ? a.dtype() + " " : "") + Arrays.toString(s));
        }
        return a;
    }

    /** File names (shared by both directories) in item order. */
    public List<String> files() {
        return files;
    }

    @Override
    public int size() {
        return files.size();
    }

    @Override
    public int channels() {
        return c;
    }

    @Override
    public int height() {
        return h;
    }

    @Override
    public int width() {
        return w;
    }

    @Override
    public int numClasses() {
        return numClasses;
    }

    /** The latent of item {@code index}; {@code hflip} selects the mirrored image's latent when stored. */
    @Override
    public Sample get(int index, boolean hflip) {
        Objects.checkIndex(index, files.size());
        try {
            HostTensor f = readFeatures(index);
            long[] s = f.shape();
            if (s[1] != c || s[2] != h || s[3] != w) {
                throw new IOException(featuresDir.resolve(files.get(index)) + ": latent shape " + Arrays.toString(s)
                        + " differs from the first file's (" + c + ", " + h + ", " + w + ")");
            }
            int per = c * h * w;
            int which = hflip && s[0] == 2 ? 1 : 0;
            float[] latent = new float[per];
            f.data().asFloatBuffer().get(which * per, latent);
            Path lp = labelsDir.resolve(files.get(index));
            HostTensor l = Npy.read(lp);
            if (l.dtype() != DType.I64 || l.numel() != 1) {
                throw new IOException(
                        lp + ": expected one int64 label, got " + l.dtype() + " " + Arrays.toString(l.shape()));
            }
            long label = l.toLongArray()[0];
            if (label < 0 || label >= numClasses) {
                throw new IOException(lp + ": label " + label + " outside [0, " + numClasses + ")");
            }
            return new Sample(latent, (int) label);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
