package ai.tinyfusion.data;

import java.io.FileNotFoundException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.List;
import java.util.Objects;

/**
 * Fashion-MNIST (Xiao, Rasul and Vollgraf 2017): 28×28 grayscale images of 10 clothing classes,
 * 60,000 for training and 10,000 for testing.
 *
 * <p>By default the files come from Debian's {@code dataset-fashion-mnist} package, which installs
 * {@code /usr/share/datasets/fashion-mnist/{train,t10k}-{images-idx3,labels-idx1}-ubyte.gz}; any
 * other directory with the same file names (gzip-compressed or not) can be given instead.
 *
 * <p>As a {@link Dataset}: one channel, 28×28, values {@code (v/255 − 0.5)/0.5} in [-1, 1]
 * computed in float32 exactly as torchvision's {@code ToTensor} + {@code Normalize(0.5, 0.5)}.
 * Everything is held in memory (47 MB for the training split).
 */
public final class FashionMnist implements Dataset {
    /** Where {@code apt-get install dataset-fashion-mnist} puts the files. */
    public static final Path DEFAULT_DIR = Paths.get("/usr/share/datasets/fashion-mnist");

    /** Class names in label order 0..9. */
    public static final List<String> CLASS_NAMES = List.of(
            "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot");

    /** The two splits and their file-name prefixes. */
    public enum Split {
        TRAIN("train"),
        TEST("t10k");

        private final String prefix;

        Split(String prefix) {
            this.prefix = prefix;
        }

        public String prefix() {
            return prefix;
        }
    }

    private final Split split;
    private final IdxReader.Images images;
    private final int[] labels;

    private FashionMnist(Split split, IdxReader.Images images, int[] labels) {
        this.split = split;
        this.images = images;
        this.labels = labels;
    }

    /** Loads a split from {@link #DEFAULT_DIR}. */
    public static FashionMnist load(Split split) throws IOException {
        return load(null, split);
    }

    /** Loads a split from {@code dir}, or from {@link #DEFAULT_DIR} when {@code dir} is null. */
    public static FashionMnist load(Path dir, Split split) throws IOException {
        Path images = locate(dir, split.prefix() + "-images-idx3-ubyte");
        Path labelsFile = locate(dir, split.prefix() + "-labels-idx1-ubyte");
        IdxReader.Images im = IdxReader.readImages(images);
        int[] labels = IdxReader.readLabels(labelsFile);
        if (im.count() != labels.length) {
            throw new IOException(images + " holds " + im.count() + " images but " + labelsFile + " holds "
                    + labels.length + " labels");
        }
        for (int i = 0; i < labels.length; i++) {
            if (labels[i] >= CLASS_NAMES.size()) {
                throw new IOException(
                        labelsFile + ": label " + labels[i] + " at index " + i + " is not a Fashion-MNIST class");
            }
        }
        return new FashionMnist(split, im, labels);
    }

    /**
     * The path of {@code name.gz} or {@code name} in {@code dir} (default dir when null); a
     * FileNotFoundException that says how to install the data when neither exists.
     */
    public static Path locate(Path dir, String name) throws FileNotFoundException {
        Path d = dir == null ? DEFAULT_DIR : dir;
        for (String candidate : new String[] {name + ".gz", name}) {
            Path p = d.resolve(candidate);
            if (Files.isRegularFile(p)) {
                return p;
            }
        }
        throw new FileNotFoundException("Fashion-MNIST file " + name + ".gz (or " + name + ") not found in " + d
                + (dir == null
                        ? ". Install the Debian package with `apt-get install dataset-fashion-mnist` (it provides "
                                + DEFAULT_DIR
                                + "/{train,t10k}-{images-idx3,labels-idx1}-ubyte.gz), or pass the directory that "
                                + "holds these files."
                        : ". The directory must hold {train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz]; on Debian, "
                                + "`apt-get install dataset-fashion-mnist` installs them in " + DEFAULT_DIR + "."));
    }

    public Split split() {
        return split;
    }

    /** The raw images (unsigned bytes). */
    public IdxReader.Images images() {
        return images;
    }

    /** The labels (a copy). */
    public int[] labels() {
        return labels.clone();
    }

    @Override
    public int size() {
        return labels.length;
    }

    @Override
    public int channels() {
        return 1;
    }

    @Override
    public int height() {
        return images.rows();
    }

    @Override
    public int width() {
        return images.cols();
    }

    @Override
    public int numClasses() {
        return CLASS_NAMES.size();
    }

    @Override
    public List<String> classNames() {
        return CLASS_NAMES;
    }

    @Override
    public Sample get(int index, boolean hflip) {
        Objects.checkIndex(index, labels.length);
        int h = images.rows();
        int w = images.cols();
        float[] out = new float[h * w];
        byte[] px = images.pixels();
        int base = index * h * w;
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                int src = base + y * w + (hflip ? w - 1 - x : x);
                out[y * w + x] = normalize(px[src] & 0xff);
            }
        }
        return new Sample(out, labels[index]);
    }

    /** {@code (v/255 - 0.5)/0.5} in float32, the torchvision ToTensor + Normalize(0.5, 0.5) value of byte v. */
    static float normalize(int v) {
        return (v / 255f - 0.5f) / 0.5f;
    }
}
