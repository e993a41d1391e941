package ai.tinyfusion.eval;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FeatureStatsTest {

    @Test
    void matchesNpCovOnHandExample() {
        // np.cov([[1,2],[3,6],[5,7]], rowvar=False) = [[4,5],[5,7]]; mean = [3,5]
        FeatureStats s = FeatureStats.of(new double[][] {{1, 2}, {3, 6}, {5, 7}});
        assertArrayEquals(new double[] {3, 5}, s.mean(), 1e-15);
        double[][] c = s.covariance();
        assertArrayEquals(new double[] {4, 5}, c[0], 1e-14);
        assertArrayEquals(new double[] {5, 7}, c[1], 1e-14);
        assertEquals(3, s.count());
    }

    @Test
    void incrementalBatchesAndMergeEqualTwoPass() {
        SplittableRandom rng = new SplittableRandom(11);
        int n = 257;
        int d = 9;
        double[][] x = new double[n][d];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < d; j++) {
                x[i][j] = 1000 + rng.nextGaussian() * (j + 1) + (j == 3 ? x[i][0] : 0);
            }
        }
        // Two-pass reference.
        double[] mu = new double[d];
        for (double[] r : x) {
            for (int j = 0; j < d; j++) {
                mu[j] += r[j] / n;
            }
        }
        double[][] cov = new double[d][d];
        for (double[] r : x) {
            for (int i = 0; i < d; i++) {
                for (int j = 0; j < d; j++) {
                    cov[i][j] += (r[i] - mu[i]) * (r[j] - mu[j]) / (n - 1);
                }
            }
        }
        FeatureStats inc = new FeatureStats(d);
        for (int start = 0; start < n; start += 50) {
            inc.update(Arrays.copyOfRange(x, start, Math.min(n, start + 50)));
        }
        FeatureStats left = FeatureStats.of(Arrays.copyOfRange(x, 0, 100));
        left.merge(FeatureStats.of(Arrays.copyOfRange(x, 100, n)));
        for (FeatureStats s : new FeatureStats[] {inc, left}) {
            assertEquals(n, s.count());
            assertArrayEquals(mu, s.mean(), 1e-10);
            double[][] c = s.covariance();
            for (int i = 0; i < d; i++) {
                assertArrayEquals(cov[i], c[i], 1e-10);
            }
        }
    }

    @Test
    void floatUpdatesEqualDoubleUpdates() {
        float[] flat = {1f, 2f, 3f, 6f, 5f, 7f, 0.5f, -1f};
        FeatureStats f = new FeatureStats(2);
        f.update(flat, 4);
        FeatureStats d = FeatureStats.of(new double[][] {{1, 2}, {3, 6}, {5, 7}, {0.5, -1}});
        assertArrayEquals(d.mean(), f.mean(), 0);
        assertArrayEquals(d.covariance()[0], f.covariance()[0], 0);
        assertArrayEquals(d.covariance()[1], f.covariance()[1], 0);
    }

    @Test
    void saveLoadRoundTripAndUpdateAfterLoad(@TempDir Path tmp) throws Exception {
        SplittableRandom rng = new SplittableRandom(5);
        double[][] x = FrechetDistanceTest.randomRows(rng, 40, 5, 2);
        FeatureStats s = FeatureStats.of(Arrays.copyOfRange(x, 0, 30));
        Path file = tmp.resolve("sub/ref_stats.npz");
        s.saveNpz(file);
        try (ZipFile zip = new ZipFile(file.toFile())) {
            assertEquals(ZipEntry.STORED, zip.getEntry("mu.npy").getMethod());
            assertTrue(zip.getEntry("sigma.npy") != null && zip.getEntry("count.npy") != null);
            // npy v1.0 header padded so the data starts at a multiple of 64.
            byte[] mu = zip.getInputStream(zip.getEntry("mu.npy")).readAllBytes();
            assertEquals(0, (mu.length - 5 * 8) % 64);
            assertTrue(new String(mu, 10, 60, java.nio.charset.StandardCharsets.US_ASCII)
                    .startsWith("{'descr': '<f8', 'fortran_order': False, 'shape': (5,), }"));
        }
        FeatureStats back = FeatureStats.loadNpz(file);
        assertEquals(30, back.count());
        assertArrayEquals(s.mean(), back.mean(), 0);
        for (int i = 0; i < 5; i++) {
            assertArrayEquals(s.covariance()[i], back.covariance()[i], 1e-15);
        }
        back.update(Arrays.copyOfRange(x, 30, 40));
        FeatureStats all = FeatureStats.of(x);
        assertArrayEquals(all.mean(), back.mean(), 1e-12);
        for (int i = 0; i < 5; i++) {
            assertArrayEquals(all.covariance()[i], back.covariance()[i], 1e-12);
        }
    }

    @Test
    void loadsAdmStyleReferenceWithoutCountAndDeflatedEntries(@TempDir Path tmp) throws Exception {
        // An ADM reference batch holds mu/sigma and mu_s/sigma_s (and arr_0), float64, no count.
        Path file = tmp.resolve("VIRTUAL_ref.npz");
        byte[] mu = npy("<f8", "(2,)", new double[] {1, 2});
        byte[] sigma = npy("<f8", "(2, 2)", new double[] {4, 1, 1, 3});
        byte[] muS = npy("<f4", "(1,)", new double[] {0.5});
        byte[] sigmaS = npy("<f4", "(1, 1)", new double[] {2});
        try (OutputStream os = Files.newOutputStream(file);
                ZipOutputStream zip = new ZipOutputStream(os)) {
            for (Map.Entry<String, byte[]> e : Map.of("mu", mu, "sigma", sigma, "mu_s", muS, "sigma_s", sigmaS)
                    .entrySet()) {
                zip.putNextEntry(new ZipEntry(e.getKey() + ".npy")); // deflated, like np.savez_compressed
                zip.write(e.getValue());
                zip.closeEntry();
            }
        }
        FeatureStats pool = FeatureStats.loadNpz(file);
        assertEquals(0, pool.count());
        assertArrayEquals(new double[] {1, 2}, pool.mean(), 0);
        assertArrayEquals(new double[] {4, 1}, pool.covariance()[0], 0);
        assertArrayEquals(new double[] {1, 3}, pool.covariance()[1], 0);
        assertThrows(IllegalStateException.class, () -> pool.update(new double[][] {{1, 1}}));
        FeatureStats spatial = FeatureStats.loadNpz(file, "mu_s", "sigma_s");
        assertArrayEquals(new double[] {0.5}, spatial.mean(), 0);
        assertEquals(2.0, spatial.covariance()[0][0], 0);
        // FID between the loaded spatial stats and N(0.5, 8): (sqrt 2 - sqrt 8)^2 = 2.
        FeatureStats other = FeatureStats.fromMoments(new double[] {0.5}, new double[][] {{8}}, 0);
        assertEquals(2.0, spatial.frechetDistance(other), 1e-12);
        Exception e = assertThrows(java.io.IOException.class, () -> FeatureStats.loadNpz(file, "mu", "nope"));
        assertTrue(e.getMessage().contains("nope") && e.getMessage().contains("sigma_s"), e.getMessage());
    }

    @Test
    void rejectsTooFewSamplesAndWrongWidth() {
        FeatureStats s = new FeatureStats(3);
        assertThrows(IllegalStateException.class, s::mean);
        s.update(new double[][] {{1, 2, 3}});
        assertThrows(IllegalStateException.class, s::covariance);
        assertThrows(IllegalArgumentException.class, () -> s.update(new double[][] {{1, 2}}));
    }

    /** A version-1.0 .npy with the given little-endian dtype (<f8 or <f4). */
    private static byte[] npy(String descr, String shape, double[] values) {
        String dict = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': " + shape + ", }";
        int pad = (64 - (10 + dict.length() + 1) % 64) % 64;
        byte[] h = (dict + " ".repeat(pad) + "\n").getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        int item = descr.equals("<f8") ? 8 : 4;
        java.nio.ByteBuffer bb = java.nio.ByteBuffer.allocate(10 + h.length + values.length * item)
                .order(java.nio.ByteOrder.LITTLE_ENDIAN);
        bb.put(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0});
        bb.putShort((short) h.length);
        bb.put(h);
        for (double v : values) {
            if (item == 8) {
                bb.putDouble(v);
            } else {
                bb.putFloat((float) v);
            }
        }
        return bb.array();
    }
}
