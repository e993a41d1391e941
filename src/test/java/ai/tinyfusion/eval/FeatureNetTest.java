package ai.tinyfusion.eval;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.tinyfusion.OneThread;
import ai.tinyfusion.data.Batcher;
import ai.tinyfusion.data.Dataset;
import ai.tinyfusion.data.Sample;
import ai.tinyfusion.io.Npz;
import ai.tinyfusion.train.LrSchedule;
import ai.tinyfusion.train.MetricsLog;
import ai.tinyfusion.train.TrainLoop;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** The feature network and its training task, on a randomly initialised network and synthetic data. */
@ExtendWith(OneThread.class)
class FeatureNetTest {

    private static FeatureNet seeded(NDManager m, int seed) {
        Engine.getInstance().setRandomSeed(seed);
        return new FeatureNet(m).initialize();
    }

    private static NDArray images(NDManager m, int n, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] x = new float[n * 28 * 28];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) (r.nextDouble() * 2 - 1);
        }
        return m.create(x, new Shape(n, 1, 28, 28));
    }

    /** uint8 images whose rows are random bytes. */
    private static byte[] bytes(int n, long seed) {
        byte[] b = new byte[n * 28 * 28];
        new SplittableRandom(seed).nextBytes(b);
        return b;
    }

    @Test
    void outputsHaveTheDocumentedShapes() {
        try (NDManager m = NDManager.newBaseManager()) {
            FeatureNet net = seeded(m, 1);
            assertEquals(458_570, net.parameterCount());
            assertEquals(
                    List.of(
                            "features.0.weight",
                            "features.0.bias",
                            "features.3.weight",
                            "features.3.bias",
                            "features.6.weight",
                            "features.6.bias",
                            "fc.weight",
                            "fc.bias",
                            "classifier.weight",
                            "classifier.bias"),
                    List.copyOf(net.stateDict().keySet()));
            assertEquals(
                    new Shape(32, 1, 3, 3),
                    net.stateDict().get("features.0.weight").getShape());
            assertEquals(new Shape(128, 3136), net.stateDict().get("fc.weight").getShape());
            FeatureNet.Features f = net.extract(images(m, 3, 7));
            assertEquals(new Shape(3, FeatureNet.POOLED_DIM), f.pooled().getShape());
            assertEquals(new Shape(3, FeatureNet.SPATIAL_DIM), f.spatial().getShape());
            assertEquals(new Shape(3, FeatureNet.NUM_CLASSES), f.logits().getShape());
            assertEquals(392, FeatureNet.SPATIAL_DIM);
            // Pooled features are read before the ReLU (some are negative); logits() computes the same logits.
            assertTrue(f.pooled().min().getFloat() < 0);
            assertArrayEquals(
                    f.logits().toFloatArray(), net.logits(images(m, 3, 7)).toFloatArray(), 1e-6f);
            assertThrows(IllegalArgumentException.class, () -> net.extract(m.zeros(new Shape(2, 3, 28, 28))));
            assertThrows(IllegalArgumentException.class, () -> net.extract(m.zeros(new Shape(2, 1, 32, 32))));
        }
    }

    @Test
    void outputIsDeterministic() {
        try (NDManager m = NDManager.newBaseManager()) {
            FeatureNet a = seeded(m, 3);
            FeatureNet b = seeded(m, 3);
            for (Map.Entry<String, NDArray> e : a.stateDict().entrySet()) {
                assertArrayEquals(
                        e.getValue().toFloatArray(),
                        b.stateDict().get(e.getKey()).toFloatArray(),
                        e.getKey());
            }
            NDArray x = images(m, 4, 11);
            FeatureNet.Features f1 = a.extract(x);
            FeatureNet.Features f2 = a.extract(x);
            FeatureNet.Features f3 = b.extract(x);
            assertArrayEquals(f1.pooled().toFloatArray(), f2.pooled().toFloatArray());
            assertArrayEquals(f1.spatial().toFloatArray(), f2.spatial().toFloatArray());
            assertArrayEquals(f1.logits().toFloatArray(), f2.logits().toFloatArray());
            assertArrayEquals(f1.logits().toFloatArray(), f3.logits().toFloatArray());
            // Batching does not change per-image results beyond float rounding.
            byte[] imgs = bytes(40, 5);
            FeatureNet.Summary s1 = a.summarize(imgs, 0, 40, 28, 28, 1, 40, true);
            FeatureNet.Summary s2 = a.summarize(imgs, 0, 40, 28, 28, 1, 7, true);
            assertArrayEquals(s1.predicted(), s2.predicted());
            for (int i = 0; i < 40; i++) {
                assertArrayEquals(s1.pooled()[i], s2.pooled()[i], 1e-4);
                assertArrayEquals(s1.probs()[i], s2.probs()[i], 1e-6);
            }
            assertArrayEquals(s1.pooledStats().mean(), s2.pooledStats().mean(), 1e-4);
            assertArrayEquals(s1.spatialStats().mean(), s2.spatialStats().mean(), 1e-4);
        }
    }

    /** Summaries of consecutive parts (one of a single image) concatenate to the summary of the whole. */
    @Test
    void partsConcatenateToTheWhole() throws Exception {
        try (NDManager m = NDManager.newBaseManager()) {
            FeatureNet net = seeded(m, 6);
            byte[] imgs = bytes(21, 13);
            FeatureNet.Summary whole = net.summarize(imgs, 0, 21, 28, 28, 1, 5, true);
            FeatureNet.Summary a = net.summarize(imgs, 0, 10, 28, 28, 1, 5, true, 1);
            FeatureNet.Summary b = net.summarize(imgs, 10, 10, 28, 28, 1, 5, true, 1);
            FeatureNet.Summary c = net.summarize(imgs, 20, 1, 28, 28, 1, 5, true, 1);
            // through Java serialization, as statistics computed in another process arrive
            java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
            try (java.io.ObjectOutputStream out = new java.io.ObjectOutputStream(bytes)) {
                out.writeObject(c);
            }
            FeatureNet.Summary c2;
            try (java.io.ObjectInputStream in =
                    new java.io.ObjectInputStream(new java.io.ByteArrayInputStream(bytes.toByteArray()))) {
                c2 = (FeatureNet.Summary) in.readObject();
            }
            FeatureNet.Summary joined = FeatureNet.Summary.concat(java.util.List.of(a, b, c2));
            assertEquals(21, joined.count());
            assertArrayEquals(whole.predicted(), joined.predicted());
            for (int i = 0; i < 21; i++) {
                assertArrayEquals(whole.pooled()[i], joined.pooled()[i], 1e-5);
                assertArrayEquals(whole.probs()[i], joined.probs()[i], 1e-6);
            }
            assertArrayEquals(whole.pooledStats().mean(), joined.pooledStats().mean(), 1e-5);
            double[][] cw = whole.spatialStats().covariance();
            double[][] cj = joined.spatialStats().covariance();
            for (int i = 0; i < cw.length; i++) {
                assertArrayEquals(cw[i], cj[i], 1e-4);
            }
            assertThrows(IllegalArgumentException.class, () -> net.summarize(imgs, 0, 1, 28, 28, 1, 5, true));
        }
    }

    @Test
    void summaryMatchesDirectExtraction() {
        try (NDManager m = NDManager.newBaseManager()) {
            FeatureNet net = seeded(m, 4);
            int n = 12;
            byte[] imgs = bytes(n + 3, 9);
            FeatureNet.Summary s = net.summarize(imgs, 3, n, 28, 28, 1, 5, true);
            float[] x = new float[n * 784];
            for (int i = 0; i < x.length; i++) {
                x[i] = ((imgs[3 * 784 + i] & 0xff) / 255f - 0.5f) / 0.5f;
            }
            FeatureNet.Features f = net.extract(m.create(x, new Shape(n, 1, 28, 28)));
            float[] pooled = f.pooled().toFloatArray();
            float[] spatial = f.spatial().toFloatArray();
            float[] logits = f.logits().toFloatArray();
            double[][] pooledRows = new double[n][128];
            double[][] spatialRows = new double[n][392];
            for (int i = 0; i < n; i++) {
                for (int k = 0; k < 128; k++) {
                    pooledRows[i][k] = pooled[i * 128 + k];
                }
                for (int k = 0; k < 392; k++) {
                    spatialRows[i][k] = spatial[i * 392 + k];
                }
                double[] row = new double[10];
                for (int k = 0; k < 10; k++) {
                    row[k] = logits[i * 10 + k];
                }
                assertEquals(ClassAccuracy.argmax(row), s.predicted()[i]);
                assertArrayEquals(InceptionScore.softmax(new double[][] {row})[0], s.probs()[i], 1e-6);
                assertArrayEquals(pooledRows[i], s.pooled()[i], 1e-5);
            }
            assertArrayEquals(
                    FeatureStats.of(pooledRows).mean(), s.pooledStats().mean(), 1e-5);
            assertArrayEquals(
                    FeatureStats.of(spatialRows).covariance()[5],
                    s.spatialStats().covariance()[5],
                    1e-4);
            assertEquals(n, s.spatialStats().count());
            // The HostTensor (ADM arr_0, N×H×W×1) entry point gives the same result.
            byte[] sub = java.util.Arrays.copyOfRange(imgs, 3 * 784, (3 + n) * 784);
            FeatureNet.Summary h = net.summarize(
                    ai.tinyfusion.io.HostTensor.ofBytes(ai.tinyfusion.io.DType.U8, sub, n, 28, 28, 1), 4, false);
            assertArrayEquals(s.predicted(), h.predicted());
            assertThrows(
                    IllegalArgumentException.class,
                    () -> net.summarize(new byte[2 * 32 * 32 * 3], 0, 2, 32, 32, 3, 4, false));
        }
    }

    @Test
    void saveAndLoadRoundTrip(@TempDir Path dir) throws IOException {
        try (NDManager m = NDManager.newBaseManager()) {
            FeatureNet net = seeded(m, 5);
            Path file = dir.resolve("net.safetensors");
            net.save(file, Map.of(FeatureNet.TEST_ACCURACY_KEY, "0.5"));
            FeatureNet back = FeatureNet.load(file, m);
            NDArray x = images(m, 2, 3);
            assertArrayEquals(net.logits(x).toFloatArray(), back.logits(x).toFloatArray());
            Map<String, String> meta = FeatureNet.metadata(file);
            assertEquals(FeatureNet.ARCHITECTURE, meta.get(FeatureNet.ARCHITECTURE_KEY));
            assertEquals("0.5", meta.get(FeatureNet.TEST_ACCURACY_KEY));
            Path other = dir.resolve("other.safetensors");
            ai.tinyfusion.io.Safetensors.write(
                    other,
                    Map.of("x", ai.tinyfusion.io.HostTensor.ofFloats(new float[1], 1)),
                    Map.of(FeatureNet.ARCHITECTURE_KEY, "something-else"));
            IOException e = assertThrows(IOException.class, () -> FeatureNet.load(other, m));
            assertTrue(e.getMessage().contains("something-else"), e.getMessage());
            assertThrows(
                    java.io.FileNotFoundException.class, () -> FeatureNet.load(dir.resolve("missing.safetensors"), m));
        }
    }

    @Test
    void referenceStatsNpzUsesAdmKeys(@TempDir Path dir) throws IOException {
        SplittableRandom r = new SplittableRandom(2);
        double[][] a = new double[20][3];
        double[][] b = new double[20][4];
        for (int i = 0; i < 20; i++) {
            for (int k = 0; k < 3; k++) {
                a[i][k] = r.nextGaussian();
            }
            for (int k = 0; k < 4; k++) {
                b[i][k] = r.nextGaussian();
            }
        }
        ReferenceStats stats = new ReferenceStats(FeatureStats.of(a), FeatureStats.of(b));
        Path file = dir.resolve("ref.npz");
        stats.save(file);
        try (Npz.Archive npz = Npz.open(file)) {
            assertEquals(List.of("mu", "sigma", "mu_s", "sigma_s", "count"), npz.keys());
        }
        ReferenceStats back = ReferenceStats.load(file);
        assertEquals(20, back.count());
        assertArrayEquals(stats.spatial().covariance()[2], back.spatial().covariance()[2], 1e-15);
        assertArrayEquals(stats.pooled().mean(), FeatureStats.loadNpz(file).mean(), 0);
        assertArrayEquals(
                stats.spatial().mean(),
                FeatureStats.loadNpz(file, "mu_s", "sigma_s").mean(),
                0);
        assertEquals(0, back.fid(FeatureStats.of(a)), 1e-9);
        assertEquals(0, back.sfid(FeatureStats.of(b)), 1e-9);
    }

    @Test
    void locateShippedHonoursTheHomeProperty(@TempDir Path dir) throws IOException {
        String old = System.getProperty(FeatureNet.HOME_PROPERTY);
        try {
            System.setProperty(FeatureNet.HOME_PROPERTY, dir.toString());
            java.io.FileNotFoundException e = assertThrows(
                    java.io.FileNotFoundException.class, () -> FeatureNet.locateShipped(FeatureNet.SHIPPED_MODEL));
            assertTrue(e.getMessage().contains(FeatureNet.HOME_PROPERTY), e.getMessage());
            Files.createDirectories(dir.resolve("models"));
            Files.write(dir.resolve("models").resolve(FeatureNet.SHIPPED_STATS), new byte[0]);
            assertEquals(
                    dir.resolve("models").resolve(FeatureNet.SHIPPED_STATS),
                    FeatureNet.locateShipped(FeatureNet.SHIPPED_STATS));
        } finally {
            if (old == null) {
                System.clearProperty(FeatureNet.HOME_PROPERTY);
            } else {
                System.setProperty(FeatureNet.HOME_PROPERTY, old);
            }
        }
    }

    @Test
    void crossEntropyMatchesDirectComputation() {
        try (NDManager m = NDManager.newBaseManager()) {
            float[] logits = {1f, 2f, 0.5f, -1f, 0f, 3f};
            long[] labels = {1, 0};
            double expected = 0;
            for (int i = 0; i < 2; i++) {
                double max = Double.NEGATIVE_INFINITY;
                for (int k = 0; k < 3; k++) {
                    max = Math.max(max, logits[i * 3 + k]);
                }
                double sum = 0;
                for (int k = 0; k < 3; k++) {
                    sum += Math.exp(logits[i * 3 + k] - max);
                }
                expected += -(logits[i * 3 + (int) labels[i]] - max - Math.log(sum)) / 2;
            }
            NDArray ce = ClassifierTask.crossEntropy(m.create(logits, new Shape(2, 3)), m.create(labels));
            assertEquals(expected, ce.getFloat(), 1e-6);
        }
    }

    @Test
    void shiftAugmentationMovesWholeImagesAndIsSeeded() {
        try (NDManager m = NDManager.newBaseManager()) {
            ClassifierTask task = new ClassifierTask(seeded(m, 6), 0, 2);
            int n = 16;
            NDArray x = images(m, n, 8);
            float[] src = x.toFloatArray();
            Engine.getInstance().setRandomSeed(42);
            float[] out = task.shift(x, m).toFloatArray();
            Engine.getInstance().setRandomSeed(42);
            assertArrayEquals(out, task.shift(x, m).toFloatArray(), "same engine seed, same shifts");
            int moved = 0;
            for (int i = 0; i < n; i++) {
                int found = 0;
                for (int dy = -2; dy <= 2; dy++) {
                    for (int dx = -2; dx <= 2; dx++) {
                        if (isShift(src, out, i, dy, dx)) {
                            found++;
                            moved += dy != 0 || dx != 0 ? 1 : 0;
                        }
                    }
                }
                assertEquals(1, found, "image " + i + " is exactly one shift of its input");
            }
            assertTrue(moved > n / 2, moved + " of " + n + " moved");
            assertArrayEquals(src, x.toFloatArray(), "the input is not modified");
        }
    }

    /** Whether image i of out is image i of src moved by (dy, dx) with −1 filling the uncovered border. */
    private static boolean isShift(float[] src, float[] out, int i, int dy, int dx) {
        for (int y = 0; y < 28; y++) {
            for (int x = 0; x < 28; x++) {
                int sy = y - dy;
                int sx = x - dx;
                float expected = sy >= 0 && sy < 28 && sx >= 0 && sx < 28 ? src[i * 784 + sy * 28 + sx] : -1f;
                if (out[i * 784 + y * 28 + x] != expected) {
                    return false;
                }
            }
        }
        return true;
    }

    /** n images of random pixels in [-1, 1] with labels i mod 10. */
    private static Dataset syntheticDataset(int n) {
        float[][] px = new float[n][784];
        SplittableRandom r = new SplittableRandom(17);
        for (float[] p : px) {
            for (int i = 0; i < p.length; i++) {
                p[i] = (float) (r.nextDouble() * 2 - 1);
            }
        }
        return new Dataset() {
            @Override
            public int size() {
                return n;
            }

            @Override
            public int channels() {
                return 1;
            }

            @Override
            public int height() {
                return 28;
            }

            @Override
            public int width() {
                return 28;
            }

            @Override
            public int numClasses() {
                return 10;
            }

            @Override
            public Sample get(int index, boolean hflip) {
                return new Sample(hflip ? Dataset.flipHorizontal(px[index], 1, 28, 28) : px[index].clone(), index % 10);
            }
        };
    }

    @Test
    void lossDecreasesOverTwentyStepsOnOneBatch(@TempDir Path run) throws IOException {
        try (NDManager m = NDManager.newBaseManager()) {
            FeatureNet net = seeded(m, 7);
            // One batch that repeats: the whole (16-image) dataset, in fixed order.
            Batcher batcher =
                    Batcher.builder(syntheticDataset(16), 16).shuffle(false).build();
            TrainLoop.Settings settings =
                    new TrainLoop.Settings(20, LrSchedule.constant(1e-3), 5.0, 0.0, 0, 1, 1, 0, false);
            TrainLoop loop = new TrainLoop(new ClassifierTask(net, 1e-4, 0), batcher, settings, run);
            TrainLoop.Result r = loop.run(null);
            loop.ema().close();
            assertEquals(20, r.steps());
            assertEquals(0, r.skippedNonFinite());
            LinkedHashMap<String, double[]> metrics = MetricsLog.read(run.resolve("metrics.csv"));
            double[] loss = metrics.get("loss");
            assertEquals(20, loss.length);
            for (double l : loss) {
                assertTrue(Double.isFinite(l));
            }
            assertTrue(loss[0] > 1.5, "initial loss near log(10): " + loss[0]);
            assertTrue(loss[19] < 0.5 * loss[0], "loss " + loss[0] + " → " + loss[19]);
            assertTrue(metrics.get("grad_norm")[0] > 0);
            assertTrue(Files.exists(run.resolve("checkpoints").resolve("step-0000020.safetensors")));
        }
    }
}
