package ai.tinyfusion.eval;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.pooling.Pool;
import ai.tinyfusion.io.DType;
import ai.tinyfusion.io.HostTensor;
import ai.tinyfusion.io.Npz;
import ai.tinyfusion.io.Safetensors;
import ai.tinyfusion.nn.Conv2d;
import ai.tinyfusion.nn.Linear;
import ai.tinyfusion.nn.LoadReport;
import ai.tinyfusion.nn.Module;
import ai.tinyfusion.nn.ModuleList;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The evaluation feature network: a small CNN trained on Fashion-MNIST that stands in for
 * Inception-v3 when generated 28×28 grayscale images are scored (FID, sFID, IS, precision/recall,
 * class accuracy).
 *
 * <p>Architecture ({@value #ARCHITECTURE}), in PyTorch terms, on (N, 1, 28, 28) inputs in [-1, 1]:
 * <pre>
 * features = nn.Sequential(
 *     Conv2d(1, 32, 3, padding=1), ReLU(), MaxPool2d(2),     # 0..2 → 32×14×14
 *     Conv2d(32, 64, 3, padding=1), ReLU(), MaxPool2d(2),    # 3..5 → 64×7×7
 *     Conv2d(64, 64, 3, padding=1), ReLU())                  # 6, 7 → 64×7×7
 * fc = Linear(64·7·7, 128); classifier = Linear(128, 10)
 * pooled  = fc(features(x).flatten(1))          # (N, 128) FID, precision/recall
 * logits  = classifier(relu(pooled))            # (N, 10)  IS, class accuracy
 * spatial = features[:7](x)[:, :8].flatten(1)   # (N, 392) sFID
 * </pre>
 * State-dict keys are {@code features.0.*}, {@code features.3.*}, {@code features.6.*},
 * {@code fc.*}, {@code classifier.*} ({@code weight}, {@code bias}): 458,570 parameters, 1.8 MB
 * as float32.
 *
 * <p><b>Pooled features.</b> Inception's pool_3 is the 2048-d input of its classifier; here the
 * 128-d embedding in front of the classifier plays that part, read before its ReLU. After the
 * ReLU a quarter of the units are zero on every test image (the shipped network: 33 of 128), which
 * would leave the covariance rank-deficient and the features far from Gaussian; before it every
 * unit varies, and the ReLU output is a function of these values, so nothing the classifier
 * uses is lost. The name "pooled" follows the ADM evaluator's. A head that global-average-pools a 128-channel
 * map (as pool_3 does) was tried first: on this machine it needed several times more steps to
 * reach the same accuracy (79% vs 88% test accuracy after 300 steps of 128), and a second
 * convolution at full 28×28 resolution tripled the cost of a step. This network has one
 * convolution at 28×28 and one at 14×14, a second one at 7×7 (where convolutions are cheap; it
 * added about one point of accuracy after one epoch) and a fully connected embedding.
 *
 * <p><b>Spatial features.</b> ADM's sFID takes the first 7 channels of Inception's
 * {@code mixed_6/conv} (a convolution output before batch norm and ReLU, 7×17×17 = 2023
 * values). The analogue here is the first {@value #SPATIAL_CHANNELS} channels of the last
 * convolution's output ({@code features.6}, 7×7, before its ReLU), at full resolution, flattened in
 * (channel, row, column) order: 8·7·7 = {@value #SPATIAL_DIM} values. Keeping the grid keeps the
 * features sensitive to where things are in the image, which is what sFID is for; the
 * pre-activation avoids ReLU's exact zeros (a channel that is zero everywhere would make the
 * covariance singular); a channel subset keeps the covariance small (392² instead of 3136²).
 *
 * <p>Pixels: uint8 values v become {@code (v/255 − 0.5)/0.5} in float32, exactly as the
 * Fashion-MNIST dataset class delivers training images, so generated samples (uint8 NHWC as in
 * ADM's {@code arr_0}) and the real data go through identical arithmetic.
 */
public final class FeatureNet extends Module {
    /** Architecture name stored in the safetensors metadata and checked when loading. */
    public static final String ARCHITECTURE = "fmnist-cnn-v1";
    /** Metadata keys of saved networks. */
    public static final String ARCHITECTURE_KEY = "architecture";

    public static final String TEST_ACCURACY_KEY = "test_accuracy";
    public static final int IMAGE_SIZE = 28;
    public static final int NUM_CLASSES = 10;
    public static final int POOLED_DIM = 128;
    public static final int CONV_CHANNELS = 64;
    public static final int SPATIAL_CHANNELS = 8;
    public static final int SPATIAL_SIZE = 7;
    public static final int SPATIAL_DIM = SPATIAL_CHANNELS * SPATIAL_SIZE * SPATIAL_SIZE;
    /** Default evaluation batch (activations of a batch take about 25 MB; memory stays flat). */
    public static final int DEFAULT_BATCH = 250;

    /** The shipped files under {@code <home>/models}. */
    public static final String SHIPPED_MODEL = "fmnist-classifier.safetensors";

    public static final String SHIPPED_STATS = "fmnist-test-stats.npz";
    /** System property naming the project directory that holds {@code models/}. */
    public static final String HOME_PROPERTY = "tinyfusion.home";

    private final ModuleList<Conv2d> features;
    private final Linear fc;
    private final Linear classifier;

    /** The three outputs of {@link #extract}: pooled (N, 128), spatial (N, 392), logits (N, 10). */
    public record Features(NDArray pooled, NDArray spatial, NDArray logits) {}

    /** A network with all parameters zero; use {@link #initialize()} or {@link #load}. */
    public FeatureNet(NDManager manager) {
        super(manager);
        features = child("features", new ModuleList<>(manager));
        features.put(0, new Conv2d(manager, 1, 32, 3, 1, 1, true));
        features.put(3, new Conv2d(manager, 32, CONV_CHANNELS, 3, 1, 1, true));
        features.put(6, new Conv2d(manager, CONV_CHANNELS, CONV_CHANNELS, 3, 1, 1, true));
        fc = child("fc", new Linear(manager, (long) CONV_CHANNELS * SPATIAL_SIZE * SPATIAL_SIZE, POOLED_DIM, true));
        classifier = child("classifier", new Linear(manager, POOLED_DIM, NUM_CLASSES, true));
    }

    /**
     * Random initialisation from the engine RNG (set {@code Engine.setRandomSeed} first): Kaiming
     * normal (fan-in, ReLU gain √2) for the convolutions and {@code fc}, which feed ReLUs, and
     * N(0, 1/128) for the classifier (fan-in, gain 1: no ReLU follows); zero biases.
     */
    public FeatureNet initialize() {
        for (Conv2d c : features.items()) {
            c.kaimingNormal();
        }
        try (NDManager tmp = manager.newSubManager()) {
            normal(tmp, fc, Math.sqrt(2.0 / fc.inFeatures()));
            normal(tmp, classifier, Math.sqrt(1.0 / classifier.inFeatures()));
        }
        return this;
    }

    private static void normal(NDManager tmp, Linear l, double std) {
        l.weight().set(tmp.randomNormal(0f, (float) std, l.weight().value().getShape(), DataType.FLOAT32));
        l.bias().set(tmp.zeros(l.bias().value().getShape(), DataType.FLOAT32));
    }

    /** The last convolution's output before its ReLU: (N, 64, 7, 7). */
    private NDArray trunk(NDArray x) {
        checkInput(x);
        List<Conv2d> c = features.items();
        NDArray h = maxPool(Activation.relu(c.get(0).forward(x)));
        h = maxPool(Activation.relu(c.get(1).forward(h)));
        return c.get(2).forward(h);
    }

    /** The 128-d embedding before its ReLU, from the trunk's output. */
    private NDArray embed(NDArray pre) {
        long n = pre.getShape().get(0);
        return fc.forward(Activation.relu(pre).reshape(n, -1));
    }

    private static NDArray maxPool(NDArray x) {
        return Pool.maxPool2d(x, new Shape(2, 2), new Shape(2, 2), new Shape(0, 0), false);
    }

    private static void checkInput(NDArray x) {
        Shape s = x.getShape();
        if (s.dimension() != 4 || s.get(1) != 1 || s.get(2) != IMAGE_SIZE || s.get(3) != IMAGE_SIZE) {
            throw new IllegalArgumentException("FeatureNet takes (N, 1, 28, 28) images in [-1, 1], got " + s);
        }
        if (x.getDataType() != DataType.FLOAT32) {
            throw new IllegalArgumentException("FeatureNet takes float32 images, got " + x.getDataType());
        }
    }

    /** Class logits (N, 10) of images (N, 1, 28, 28) in [-1, 1]; differentiable (used for training). */
    public NDArray logits(NDArray images) {
        return classifier.forward(Activation.relu(embed(trunk(images))));
    }

    /** All three feature sets of images (N, 1, 28, 28) in [-1, 1]. */
    public Features extract(NDArray images) {
        NDArray pre = trunk(images);
        long n = pre.getShape().get(0);
        NDArray pooled = embed(pre);
        NDArray spatial = pre.get(":, 0:" + SPATIAL_CHANNELS).reshape(n, SPATIAL_DIM);
        return new Features(pooled, spatial, classifier.forward(Activation.relu(pooled)));
    }

    // ------------------------------------------------------------------------------------------
    // Batched evaluation of uint8 images.

    /**
     * What {@link #summarize} computes for a set of images: statistics of the pooled and spatial
     * features (FID, sFID), the pooled features themselves (precision/recall), the softmax
     * probabilities (Inception Score) and the argmax class of each image (class accuracy).
     */
    public record Summary(
            FeatureStats pooledStats, FeatureStats spatialStats, double[][] pooled, double[][] probs, int[] predicted)
            implements java.io.Serializable {
        public int count() {
            return predicted.length;
        }

        /**
         * The summary of the images of {@code parts} taken in order, as if they had been summarised together: the
         * statistics merged exactly ({@link FeatureStats#merge}), the per-image rows concatenated. Pooled features
         * are kept only if every part kept them.
         */
        public static Summary concat(List<Summary> parts) {
            if (parts.isEmpty()) {
                throw new IllegalArgumentException("no summaries to concatenate");
            }
            FeatureStats pooledStats = new FeatureStats(POOLED_DIM);
            FeatureStats spatialStats = new FeatureStats(SPATIAL_DIM);
            boolean keep = parts.stream().allMatch(p -> p.pooled() != null);
            List<double[]> pooled = new ArrayList<>();
            List<double[]> probs = new ArrayList<>();
            int n = parts.stream().mapToInt(Summary::count).sum();
            int[] predicted = new int[n];
            int at = 0;
            for (Summary p : parts) {
                pooledStats.merge(p.pooledStats());
                spatialStats.merge(p.spatialStats());
                if (keep) {
                    pooled.addAll(List.of(p.pooled()));
                }
                probs.addAll(List.of(p.probs()));
                System.arraycopy(p.predicted(), 0, predicted, at, p.count());
                at += p.count();
            }
            return new Summary(
                    pooledStats,
                    spatialStats,
                    keep ? pooled.toArray(double[][]::new) : null,
                    probs.toArray(double[][]::new),
                    predicted);
        }

        /** Fraction of images whose predicted class equals {@code labels[i]}. */
        public double accuracy(int[] labels) {
            if (labels.length != predicted.length) {
                throw new IllegalArgumentException(predicted.length + " predictions for " + labels.length + " labels");
            }
            if (labels.length == 0) {
                throw new IllegalArgumentException("no samples");
            }
            int c = 0;
            for (int i = 0; i < labels.length; i++) {
                if (predicted[i] == labels[i]) {
                    c++;
                }
            }
            return (double) c / labels.length;
        }

        /** The statistics as a reference set (to cache with {@link ReferenceStats#save}). */
        public ReferenceStats referenceStats() {
            return new ReferenceStats(pooledStats, spatialStats);
        }
    }

    /**
     * Runs the network over {@code count} uint8 images stored N·H·W·C (C order, as ADM's
     * {@code arr_0}; for one channel this is also N·C·H·W), starting at image {@code first},
     * {@code batchSize} images at a time. Each batch runs in its own sub-manager, so memory stays
     * flat however many images there are.
     *
     * @param keepPooled whether to return the pooled feature matrix (N × 128 doubles)
     */
    public Summary summarize(
            byte[] nhwc, int first, int count, int height, int width, int channels, int batchSize, boolean keepPooled) {
        return summarize(nhwc, first, count, height, width, channels, batchSize, keepPooled, 2);
    }

    /**
     * As {@link #summarize(byte[], int, int, int, int, int, int, boolean)}.
     *
     * @param minCount the fewest images accepted: 2 for statistics used on their own, 1 for a part of a larger set
     *     (one shard of many, see {@link Summary#concat})
     */
    public Summary summarize(
            byte[] nhwc,
            int first,
            int count,
            int height,
            int width,
            int channels,
            int batchSize,
            boolean keepPooled,
            int minCount) {
        if (height != IMAGE_SIZE || width != IMAGE_SIZE || channels != 1) {
            throw new IllegalArgumentException("FeatureNet evaluates 28×28 grayscale images (H, W, C = 28, 28, 1), got "
                    + height + "×" + width + "×" + channels);
        }
        int per = height * width * channels;
        if (first < 0 || count < 0 || ((long) first + count) * per > nhwc.length) {
            throw new IllegalArgumentException(
                    "images " + first + ".." + (first + count) + " exceed the " + nhwc.length / per + " given");
        }
        if (count < Math.max(1, minCount)) {
            throw new IllegalArgumentException(
                    "need at least " + Math.max(1, minCount) + " images for feature statistics, got " + count);
        }
        if (batchSize <= 0) {
            throw new IllegalArgumentException("batch size must be positive, got " + batchSize);
        }
        FeatureStats pooledStats = new FeatureStats(POOLED_DIM);
        FeatureStats spatialStats = new FeatureStats(SPATIAL_DIM);
        double[][] pooledAll = keepPooled ? new double[count][] : null;
        double[][] probs = new double[count][];
        int[] predicted = new int[count];
        float[] lut = new float[256];
        for (int v = 0; v < 256; v++) {
            lut[v] = (v / 255f - 0.5f) / 0.5f;
        }
        for (int start = 0; start < count; start += batchSize) {
            int b = Math.min(batchSize, count - start);
            float[] x = new float[b * per];
            int base = (first + start) * per;
            for (int i = 0; i < x.length; i++) {
                x[i] = lut[nhwc[base + i] & 0xff];
            }
            float[] pooled;
            float[] spatial;
            float[] logits;
            try (NDManager scope = manager.newSubManager()) {
                useIn(scope);
                NDArray input = scope.create(FloatBuffer.wrap(x), new Shape(b, 1, IMAGE_SIZE, IMAGE_SIZE));
                Features f = extract(input);
                pooled = f.pooled().toFloatArray();
                spatial = f.spatial().toFloatArray();
                logits = f.logits().toFloatArray();
            }
            pooledStats.update(pooled, b);
            spatialStats.update(spatial, b);
            for (int i = 0; i < b; i++) {
                double[] row = new double[NUM_CLASSES];
                for (int k = 0; k < NUM_CLASSES; k++) {
                    row[k] = logits[i * NUM_CLASSES + k];
                }
                predicted[start + i] = ClassAccuracy.argmax(row);
                probs[start + i] = InceptionScore.softmax(new double[][] {row})[0];
                if (keepPooled) {
                    double[] p = new double[POOLED_DIM];
                    for (int k = 0; k < POOLED_DIM; k++) {
                        p[k] = pooled[i * POOLED_DIM + k];
                    }
                    pooledAll[start + i] = p;
                }
            }
        }
        return new Summary(pooledStats, spatialStats, pooledAll, probs, predicted);
    }

    /**
     * {@link #summarize(byte[], int, int, int, int, int, int, boolean)} over a uint8 image tensor
     * of shape (N, H, W, C) (ADM's {@code arr_0}) or (N, H, W).
     */
    public Summary summarize(HostTensor images, int batchSize, boolean keepPooled) {
        if (images.dtype() != DType.U8) {
            throw new IllegalArgumentException("images must be uint8, got " + images.dtype());
        }
        long[] s = images.shape();
        if (s.length != 3 && s.length != 4) {
            throw new IllegalArgumentException(
                    "images must be (N, H, W, C) or (N, H, W), got shape " + java.util.Arrays.toString(s));
        }
        byte[] raw = new byte[Math.toIntExact(images.numel())];
        images.data().duplicate().get(raw);
        int channels = s.length == 4 ? (int) s[3] : 1;
        return summarize(raw, 0, (int) s[0], (int) s[1], (int) s[2], channels, batchSize, keepPooled);
    }

    /** Summarises the {@code arr_0} images of an ADM-style sample {@code .npz}. */
    public Summary summarizeNpz(Path npz, int batchSize, boolean keepPooled) throws IOException {
        LinkedHashMap<String, HostTensor> arrays = Npz.read(npz);
        HostTensor images = arrays.get("arr_0");
        if (images == null) {
            throw new IOException(npz + " has no arr_0 (uint8 NHWC images); it holds " + arrays.keySet());
        }
        try {
            return summarize(images, batchSize, keepPooled);
        } catch (IllegalArgumentException e) {
            throw new IOException(npz + ": " + e.getMessage(), e);
        }
    }

    private String fingerprint;

    /** The first 16 hex digits of a SHA-256 over the parameter names and values (keys reference caches). */
    public synchronized String fingerprint() {
        if (fingerprint == null) {
            fingerprint = stateFingerprint();
        }
        return fingerprint;
    }

    // ------------------------------------------------------------------------------------------
    // Files.

    /** Writes the parameters as safetensors with the architecture (and {@code extraMetadata}) in the header. */
    public void save(Path file, Map<String, String> extraMetadata) throws IOException {
        LinkedHashMap<String, HostTensor> tensors = new LinkedHashMap<>();
        stateDict().forEach((k, v) -> tensors.put(k, HostTensor.fromNDArray(v)));
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("format", "pt");
        meta.put(ARCHITECTURE_KEY, ARCHITECTURE);
        meta.put("input", "(N, 1, 28, 28) float32, (v/255 - 0.5)/0.5");
        meta.put(
                "outputs",
                "pooled 128 (fc, before its ReLU), spatial 392 (features.6 before ReLU, channels 0-7, 7x7), logits 10 (classifier)");
        meta.putAll(extraMetadata);
        Path parent = file.toAbsolutePath().getParent();
        if (parent != null) {
            Files.createDirectories(parent);
        }
        Safetensors.write(file, tensors, meta);
    }

    /** Loads a network saved by {@link #save} (strict: every key, shape and the architecture must match). */
    public static FeatureNet load(Path file, NDManager manager) throws IOException {
        if (!Files.isRegularFile(file)) {
            throw new FileNotFoundException("feature network not found: " + file);
        }
        Map<String, String> meta = Safetensors.readMetadata(file);
        String arch = meta.get(ARCHITECTURE_KEY);
        if (!ARCHITECTURE.equals(arch)) {
            throw new IOException(file + " is not a " + ARCHITECTURE + " feature network (architecture: " + arch + ")");
        }
        LinkedHashMap<String, HostTensor> tensors = Safetensors.read(file);
        FeatureNet net = new FeatureNet(manager);
        try (NDManager tmp = manager.newSubManager()) {
            LinkedHashMap<String, NDArray> arrays = new LinkedHashMap<>();
            tensors.forEach((k, v) -> arrays.put(k, v.toNDArray(tmp)));
            LoadReport report = net.loadStateDict(arrays, false);
            if (!report.isClean()) {
                throw new IOException(file + " does not match " + ARCHITECTURE + ":\n" + report.describe());
            }
        }
        return net;
    }

    /** The metadata of a saved network (e.g. {@value #TEST_ACCURACY_KEY}). */
    public static Map<String, String> metadata(Path file) throws IOException {
        return Safetensors.readMetadata(file);
    }

    /** The shipped network, {@code models/}{@value #SHIPPED_MODEL} (see {@link #locateShipped}). */
    public static FeatureNet loadShipped(NDManager manager) throws IOException {
        return load(locateShipped(SHIPPED_MODEL), manager);
    }

    /**
     * The shipped reference statistics of the Fashion-MNIST test set under the shipped network,
     * {@code models/}{@value #SHIPPED_STATS}.
     */
    public static ReferenceStats loadShippedStats() throws IOException {
        return ReferenceStats.load(locateShipped(SHIPPED_STATS));
    }

    /**
     * Finds {@code models/<fileName>}: under the directory named by the system property
     * {@value #HOME_PROPERTY} when it is set (the launcher sets it to the project root), otherwise
     * relative to the working directory. Fails with the paths tried and how to fix it.
     */
    public static Path locateShipped(String fileName) throws FileNotFoundException {
        List<Path> tried = new ArrayList<>();
        String home = System.getProperty(HOME_PROPERTY);
        if (home != null && !home.isBlank()) {
            tried.add(Path.of(home).resolve("models").resolve(fileName));
        } else {
            tried.add(Path.of("models").resolve(fileName).toAbsolutePath());
        }
        for (Path p : tried) {
            if (Files.isRegularFile(p)) {
                return p;
            }
        }
        throw new FileNotFoundException("shipped file models/" + fileName + " not found (looked at " + tried
                + "). Run from the tinyfusion-java checkout, or pass -D" + HOME_PROPERTY + "=<checkout directory>"
                + " (bin/tinyfusion does this); to rebuild it, see docs/classifier.md.");
    }
}
