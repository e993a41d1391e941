package ai.tinyfusion.eval;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import ai.tinyfusion.io.DType;
import ai.tinyfusion.io.FileHashes;
import ai.tinyfusion.io.HostTensor;
import ai.tinyfusion.io.Npz;
import ai.tinyfusion.model.inception.FidInceptionV3;
import ai.tinyfusion.model.inception.InceptionFeatures;
import ai.tinyfusion.model.inception.RandomInceptionWeights;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link InceptionEvaluation} on the parity fixture's random-weight network (the real weights are
 * not available offline) and small image sets: the mechanics (streaming, ADM reference batches,
 * caching, errors), not the values of real Inception features.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class InceptionEvaluationTest {
    private static final int SIZE = 32;

    private final NDManager m = NDManager.newBaseManager();
    private FidInceptionV3 net;

    @TempDir
    Path tmp;

    @BeforeAll
    void buildNetwork() {
        net = RandomInceptionWeights.network(m);
    }

    @AfterAll
    void close() {
        m.close();
    }

    /** n random RGB (or 1-channel) images; {@code bright} shifts the distribution. */
    static byte[] images(long seed, int n, int channels, int bright) {
        SplittableRandom rng = new SplittableRandom(seed);
        byte[] out = new byte[n * SIZE * SIZE * channels];
        for (int i = 0; i < out.length; i++) {
            out[i] = (byte) Math.min(255, rng.nextInt(200) + bright);
        }
        return out;
    }

    static Path npz(Path file, byte[] images, int channels) throws IOException {
        int n = images.length / (SIZE * SIZE * channels);
        Map<String, HostTensor> a = new LinkedHashMap<>();
        a.put("arr_0", HostTensor.ofBytes(DType.U8, images, n, SIZE, SIZE, channels));
        a.put("arr_1", HostTensor.ofLongs(new long[n], n));
        Npz.write(file, a);
        return file;
    }

    @Test
    void batchesStreamToTheFeaturesOfOneExtraction() throws Exception {
        byte[] raw = images(1, 5, 3, 0);
        Path file = npz(tmp.resolve("five.npz"), raw, 3);
        InceptionEvaluation.Summary s = InceptionEvaluation.summarize(net, file, 2, true, false); // 2 + 2 + 1
        assertEquals(5, s.count());
        assertFalse(s.greyExpanded());
        float[] pool;
        float[] spatial;
        float[] logits;
        try (NDManager scope = m.newSubManager()) {
            InceptionFeatures f = net.extract(
                    HostTensor.ofBytes(DType.U8, raw, 5, SIZE, SIZE, 3).toNDArray(scope));
            pool = f.pool().toFloatArray();
            spatial = f.spatial().toFloatArray();
            logits = f.logits().toFloatArray();
        }
        FeatureStats poolStats = new FeatureStats(InceptionFeatures.POOL_DIM);
        poolStats.update(pool, 5);
        FeatureStats spatialStats = new FeatureStats(InceptionFeatures.SPATIAL_DIM);
        spatialStats.update(spatial, 5);
        assertArrayEquals(poolStats.mean(), s.pool().mean(), 1e-5);
        assertArrayEquals(spatialStats.mean(), s.spatial().mean(), 1e-5);
        assertEquals(poolStats.covariance()[7][100], s.pool().covariance()[7][100], 1e-5);
        for (int i = 0; i < 5; i++) {
            for (int j = 0; j < InceptionFeatures.POOL_DIM; j += 97) {
                assertEquals(pool[i * InceptionFeatures.POOL_DIM + j], s.pooled()[i][j], 1e-5);
            }
        }
        double[][] l = new double[5][InceptionFeatures.NUM_LOGITS];
        for (int i = 0; i < 5; i++) {
            for (int j = 0; j < InceptionFeatures.NUM_LOGITS; j++) {
                l[i][j] = logits[i * InceptionFeatures.NUM_LOGITS + j];
            }
        }
        double is = InceptionScore.computeWithSplitSize(InceptionScore.softmax(l), InceptionScore.ADM_SPLIT_SIZE);
        assertEquals(is, s.inceptionScore().mean(), 1e-6);
        assertTrue(is > 1.0001, "a score that depends on the images: " + is);
    }

    @Test
    void setAgainstItselfHasZeroFidAndFullPrecisionRecall() throws Exception {
        Path file = npz(tmp.resolve("self.npz"), images(2, 6, 3, 0), 3);
        ReferenceCache cache = ReferenceCache.nextTo(file);
        assertEquals(tmp.toAbsolutePath(), cache.dir());
        InceptionEvaluation.Reference ref = InceptionEvaluation.reference(net, file, 4, false, cache);
        InceptionEvaluation.Summary s = InceptionEvaluation.summarize(net, file, 4, true, false);
        MetricsReport r = InceptionEvaluation.evaluate(s, ref, "self", 3, 5);
        double scale = s.pool().covariance()[0][0] + 1; // features are O(1)
        assertEquals(0, r.fid(), 1e-6 * scale, "FID of a set against itself");
        assertEquals(0, r.sfid(), 1e-6 * scale, "sFID of a set against itself");
        assertEquals(1.0, r.precision());
        assertEquals(1.0, r.recall());
        assertNotNull(r.fidStd());
        assertTrue(r.fidStd() > 0, "bootstrap resamples differ from the set: " + r.fidStd());

        // The reference features were cached next to the file, keyed by its SHA-256 and the weights.
        String key = "self.npz.inception-" + FileHashes.sha256(file) + "-" + net.fingerprint();
        Path stats = tmp.resolve(key + ".stats.npz");
        assertTrue(Files.isRegularFile(stats), "cache file " + stats);
        assertTrue(Files.isRegularFile(tmp.resolve(key + ".pooled.npz")));
        try (Stream<Path> files = Files.list(tmp)) {
            assertTrue(files.noneMatch(p -> p.toString().contains(".tmp")), "no temporary files left");
        }
        // Second use reads the cache: same statistics, and a damaged stats file is recomputed, not trusted.
        InceptionEvaluation.Reference again = InceptionEvaluation.reference(net, file, 4, false, cache);
        assertArrayEquals(ref.pool().mean(), again.pool().mean(), 1e-6);
        Files.write(stats, new byte[] {1, 2, 3});
        InceptionEvaluation.Reference recomputed = InceptionEvaluation.reference(net, file, 4, false, cache);
        assertArrayEquals(ref.pool().mean(), recomputed.pool().mean(), 1e-6);
    }

    @Test
    void greyImagesAreReplicatedToRgb() throws Exception {
        byte[] grey = images(3, 3, 1, 20);
        byte[] rgb = new byte[grey.length * 3];
        for (int i = 0; i < grey.length; i++) {
            rgb[3 * i] = grey[i];
            rgb[3 * i + 1] = grey[i];
            rgb[3 * i + 2] = grey[i];
        }
        InceptionEvaluation.Summary g =
                InceptionEvaluation.summarize(net, npz(tmp.resolve("grey.npz"), grey, 1), 2, false, false);
        InceptionEvaluation.Summary c =
                InceptionEvaluation.summarize(net, npz(tmp.resolve("rgb.npz"), rgb, 3), 3, false, false);
        assertTrue(g.greyExpanded());
        assertNull(g.pooled());
        assertArrayEquals(c.pool().mean(), g.pool().mean(), 1e-5);
        assertArrayEquals(c.spatial().mean(), g.spatial().mean(), 1e-5);
    }

    @Test
    void admReferenceStatisticsAreUsedAsStoredAndMissingMetricsAreNamed() throws Exception {
        Path samplesFile = npz(tmp.resolve("samples.npz"), images(4, 5, 3, 0), 3);
        InceptionEvaluation.Summary samples = InceptionEvaluation.summarize(net, samplesFile, 5, true, false);
        // Statistics of another image set, stored as an ADM reference batch holds them.
        byte[] other = images(5, 5, 3, 50);
        InceptionEvaluation.Summary o =
                InceptionEvaluation.summarize(net, npz(tmp.resolve("other.npz"), other, 3), 5, false, false);
        Map<String, HostTensor> stats = new LinkedHashMap<>();
        o.pool().putMoments(stats, "mu", "sigma");
        o.spatial().putMoments(stats, "mu_s", "sigma_s");
        Path statsOnly = tmp.resolve("VIRTUAL_stats_only.npz");
        Npz.write(statsOnly, stats);

        InceptionEvaluation.Reference ref =
                InceptionEvaluation.reference(net, statsOnly, 5, false, ReferenceCache.nextTo(statsOnly));
        assertNull(ref.pooled());
        MetricsReport r = InceptionEvaluation.evaluate(samples, ref, "s", 3, 0);
        assertEquals(samples.pool().frechetDistance(o.pool()), r.fid(), 1e-9);
        assertEquals(samples.spatial().frechetDistance(o.spatial()), r.sfid(), 1e-9);
        assertTrue(r.fid() > 0.01, "different sets: " + r.fid());
        assertNull(r.precision());
        assertNull(r.recall());
        assertNull(r.fidStd());
        assertTrue(
                r.notes().stream().anyMatch(n -> n.startsWith("precision/recall unavailable") && n.contains("arr_0")),
                r.notes().toString());
        assertTrue(r.toJson().contains("precision/recall unavailable"));

        // With images as well (a full ADM reference batch): FID still from the stored statistics, P/R from the images.
        Map<String, HostTensor> full = new LinkedHashMap<>(stats);
        full.put("arr_0", HostTensor.ofBytes(DType.U8, images(6, 5, 3, 0), 5, SIZE, SIZE, 3));
        Path batch = tmp.resolve("VIRTUAL_full.npz");
        Npz.write(batch, full);
        InceptionEvaluation.Reference fullRef =
                InceptionEvaluation.reference(net, batch, 5, false, ReferenceCache.nextTo(batch));
        MetricsReport fr = InceptionEvaluation.evaluate(samples, fullRef, "s", 3, 0);
        assertEquals(r.fid(), fr.fid(), 1e-9);
        assertNotNull(fr.precision());
        assertNotNull(fr.recall());

        // Pool statistics only: sFID is named as unavailable too.
        Map<String, HostTensor> poolOnly = new LinkedHashMap<>();
        o.pool().putMoments(poolOnly, "mu", "sigma");
        Path poolFile = tmp.resolve("pool_only.npz");
        Npz.write(poolFile, poolOnly);
        MetricsReport pr = InceptionEvaluation.evaluate(
                samples,
                InceptionEvaluation.reference(net, poolFile, 5, false, ReferenceCache.nextTo(poolFile)),
                "s",
                3,
                0);
        assertNull(pr.sfid());
        assertTrue(
                pr.notes().stream().anyMatch(n -> n.startsWith("sFID unavailable")),
                pr.notes().toString());
    }

    @Test
    void badInputsFailWithOneClearError() throws Exception {
        Map<String, HostTensor> a = new LinkedHashMap<>();
        a.put("arr_0", HostTensor.ofFloats(new float[4 * SIZE * SIZE * 3], 4, SIZE, SIZE, 3));
        Path floats = tmp.resolve("floats.npz");
        Npz.write(floats, a);
        a.put("arr_0", HostTensor.ofBytes(DType.U8, new byte[4 * 3 * SIZE * SIZE], 4, 3, SIZE, SIZE));
        Path nchw = tmp.resolve("nchw.npz");
        Npz.write(nchw, a);
        a.put("arr_0", HostTensor.ofBytes(DType.U8, new byte[4 * SIZE * SIZE * 4], 4, SIZE, SIZE, 4));
        Path rgba = tmp.resolve("rgba.npz");
        Npz.write(rgba, a);
        for (Path bad : List.of(floats, nchw, rgba)) {
            IOException e = assertThrows(
                    IOException.class, () -> InceptionEvaluation.summarize(net, bad, 2, true, false), bad.toString());
            assertTrue(
                    e.getMessage().contains(bad + ":arr_0.npy: expected uint8 images in NHWC layout with 3 (RGB)"),
                    e.getMessage());
        }
        IOException e = assertThrows(IOException.class, () -> InceptionEvaluation.summarize(net, nchw, 2, true, false));
        assertTrue(e.getMessage().contains("looks like NCHW"), e.getMessage());

        // A reference batch with neither statistics nor images.
        Map<String, HostTensor> labels = new LinkedHashMap<>();
        labels.put("arr_1", HostTensor.ofLongs(new long[] {1, 2}, 2));
        Path noRef = tmp.resolve("labels_only.npz");
        Npz.write(noRef, labels);
        e = assertThrows(
                IOException.class,
                () -> InceptionEvaluation.reference(net, noRef, 2, false, ReferenceCache.nextTo(noRef)));
        assertEquals(
                noRef + " is not a reference batch: it has neither statistics (mu, sigma) nor images (arr_0); it holds"
                        + " [arr_1]",
                e.getMessage());
        e = assertThrows(IOException.class, () -> InceptionEvaluation.summarize(net, noRef, 2, true, false));
        assertTrue(e.getMessage().contains("has no arr_0"), e.getMessage());

        // Statistics of another feature network (the Fashion-MNIST classifier's 128-d pool).
        Map<String, HostTensor> small = new LinkedHashMap<>();
        FeatureStats.of(new double[][] {{1, 2}, {3, 1}, {0, 0}}).putMoments(small, "mu", "sigma");
        Path smallFile = tmp.resolve("small.npz");
        Npz.write(smallFile, small);
        e = assertThrows(
                IOException.class,
                () -> InceptionEvaluation.reference(net, smallFile, 2, false, ReferenceCache.nextTo(smallFile)));
        assertTrue(e.getMessage().contains("mu has 2 dimensions; Inception features have 2048"), e.getMessage());
    }
}
