package ai.tinyfusion.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.tinyfusion.Fixtures;
import java.nio.file.Files;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class FrechetDistanceTest {

    /** Rows of a 2-D float64 NDArray. */
    private static double[][] rows(NDArray a) {
        assertEquals(DataType.FLOAT64, a.getDataType());
        int n = (int) a.getShape().get(0);
        int d = (int) a.getShape().get(1);
        double[] flat = a.toDoubleArray();
        double[][] out = new double[n][d];
        for (int i = 0; i < n; i++) {
            System.arraycopy(flat, i * d, out[i], 0, d);
        }
        return out;
    }

    @Test
    void matchesPytorchFidOnReferenceFeatures() throws Exception {
        double[][] a;
        double[][] b;
        double expected;
        try (NDManager m = NDManager.newBaseManager()) {
            NDList list =
                    NDList.decode(m, Files.readAllBytes(Fixtures.referenceDir().resolve("dit_small-io.npz")));
            a = rows(list.get("fid_feats_a"));
            b = rows(list.get("fid_feats_b"));
            NDArray v = list.get("fid_value");
            assertEquals(DataType.FLOAT64, v.getDataType());
            expected = v.toDoubleArray()[0];
        }
        assertEquals(600, a.length);
        assertEquals(500, b.length);
        assertEquals(32, a[0].length);
        FeatureStats sa = FeatureStats.of(a);
        FeatureStats sb = FeatureStats.of(b);
        double fid = sa.frechetDistance(sb);
        assertEquals(expected, fid, 1e-4 * Math.abs(expected), "fid " + fid + " vs " + expected);
        // Symmetric in its arguments.
        assertEquals(fid, sb.frechetDistance(sa), 1e-9 * fid);
    }

    @Test
    void identicalSetsGiveZero() {
        double[][] x = randomRows(new SplittableRandom(7), 300, 24, 3.0);
        FeatureStats s = FeatureStats.of(x);
        double fid = FrechetDistance.compute(s.mean(), s.covariance(), s.mean(), s.covariance());
        assertTrue(Math.abs(fid) < 1e-6, "fid of identical sets = " + fid);
    }

    @Test
    void diagonalCovariancesHaveClosedForm() {
        // For diagonal S1, S2: d² = |mu1-mu2|² + Σ (sqrt(a_i) - sqrt(b_i))², including singular (zero) entries.
        double[] mu1 = {1, 2, 3, 0};
        double[] mu2 = {0, 2, 5, 1};
        double[] a = {4, 9, 0, 2};
        double[] b = {1, 16, 3, 0};
        double expected = 1 + 0 + 4 + 1;
        for (int i = 0; i < 4; i++) {
            expected += Math.pow(Math.sqrt(a[i]) - Math.sqrt(b[i]), 2);
        }
        assertEquals(expected, FrechetDistance.compute(mu1, diag(a), mu2, diag(b)), 1e-10);
    }

    @Test
    void rotatedCommutingCovariancesHaveClosedForm() {
        // S1 = R diag(a) Rᵀ, S2 = R diag(b) Rᵀ share eigenvectors: tr sqrtm(S1 S2) = Σ sqrt(a_i b_i).
        double t = 0.7;
        double[][] r = {{Math.cos(t), -Math.sin(t), 0}, {Math.sin(t), Math.cos(t), 0}, {0, 0, 1}};
        double[] a = {2, 0.5, 3};
        double[] b = {8, 2, 0.25};
        double[][] s1 = multiply(multiply(r, diag(a)), transpose(r));
        double[][] s2 = multiply(multiply(r, diag(b)), transpose(r));
        double trSqrt = Math.sqrt(16) + Math.sqrt(1) + Math.sqrt(0.75);
        assertEquals(trSqrt, FrechetDistance.traceSqrtProduct(s1, s2), 1e-12);
        double[] zero = new double[3];
        double expected = (2 + 0.5 + 3) + (8 + 2 + 0.25) - 2 * trSqrt;
        assertEquals(expected, FrechetDistance.compute(zero, s1, zero, s2), 1e-12);
    }

    @Test
    void nonCommutingTwoByTwoMatchesScipy() {
        // scipy: np.trace(linalg.sqrtm(S1 @ S2)) = 3.7416573867739427 for the matrices below
        // (a closed form for 2x2: sqrt(tr(M) + 2 sqrt(det M)) with M = S1 S2).
        double[][] s1 = {{2, 1}, {1, 2}};
        double[][] s2 = {{1, 0}, {0, 3}};
        double[][] mprod = multiply(s1, s2);
        double tr = mprod[0][0] + mprod[1][1];
        double det = mprod[0][0] * mprod[1][1] - mprod[0][1] * mprod[1][0];
        double closed = Math.sqrt(tr + 2 * Math.sqrt(det));
        assertEquals(closed, FrechetDistance.traceSqrtProduct(s1, s2), 1e-12);
        assertEquals(3.7416573867739427, closed, 1e-12);
    }

    @Test
    void rankDeficientCovariancesStayFinite() {
        // 10 samples in 40 dimensions: both covariances have rank <= 9.
        SplittableRandom rng = new SplittableRandom(3);
        FeatureStats a = FeatureStats.of(randomRows(rng, 10, 40, 1.0));
        FeatureStats b = FeatureStats.of(randomRows(rng, 10, 40, 1.0));
        double fid = a.frechetDistance(b);
        assertTrue(Double.isFinite(fid) && fid > 0, "fid = " + fid);
        assertTrue(Math.abs(a.frechetDistance(a)) < 1e-8);
    }

    @Test
    void retriesWithEpsOffsetWhenTraceIsNotFinite() {
        double[] mu = {0.5, -1};
        double[][] s1 = {{2, 0}, {0, 0}};
        double[][] s2 = {{0, 0}, {0, 3}};
        AtomicInteger calls = new AtomicInteger();
        double eps = 1e-2;
        double withRetry = FrechetDistance.compute(mu, s1, new double[2], s2, eps, (x, y) -> {
            if (calls.getAndIncrement() == 0) {
                return Double.NaN;
            }
            // Second call must receive the offset matrices.
            assertEquals(2 + eps, x[0][0], 0);
            assertEquals(eps, x[1][1], 0);
            assertEquals(eps, y[0][0], 0);
            return FrechetDistance.traceSqrtProduct(x, y);
        });
        assertEquals(2, calls.get());
        // Closed form for the offset trace (diagonal): sqrt((2+e)e) + sqrt(e(3+e)); traces use the original matrices.
        double expected = 0.25 + 1 + 2 + 3 - 2 * (Math.sqrt((2 + eps) * eps) + Math.sqrt(eps * (3 + eps)));
        assertEquals(expected, withRetry, 1e-12);
        assertThrows(
                ArithmeticException.class,
                () -> FrechetDistance.compute(mu, s1, mu, s2, eps, (x, y) -> Double.POSITIVE_INFINITY));
    }

    @Test
    void rejectsMismatchedOrNonFiniteInput() {
        assertThrows(
                IllegalArgumentException.class,
                () -> FrechetDistance.compute(
                        new double[2], diag(new double[] {1, 1}), new double[3], diag(new double[] {1, 1, 1})));
        assertThrows(
                IllegalArgumentException.class,
                () -> FrechetDistance.compute(
                        new double[] {Double.NaN}, new double[][] {{1}}, new double[1], new double[][] {{1}}));
    }

    static double[][] randomRows(SplittableRandom rng, int n, int d, double scale) {
        double[][] x = new double[n][d];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < d; j++) {
                x[i][j] = scale * (rng.nextDouble() - 0.5) + 0.1 * j;
            }
        }
        return x;
    }

    private static double[][] diag(double[] v) {
        double[][] m = new double[v.length][v.length];
        for (int i = 0; i < v.length; i++) {
            m[i][i] = v[i];
        }
        return m;
    }

    private static double[][] transpose(double[][] m) {
        double[][] t = new double[m[0].length][m.length];
        for (int i = 0; i < m.length; i++) {
            for (int j = 0; j < m[0].length; j++) {
                t[j][i] = m[i][j];
            }
        }
        return t;
    }

    /** a·b for square/rectangular row-major matrices (i-k-j order, streams rows of b). */
    private static double[][] multiply(double[][] a, double[][] b) {
        int n = a.length;
        int k = b.length;
        int m = b[0].length;
        double[][] c = new double[n][m];
        for (int i = 0; i < n; i++) {
            double[] ai = a[i];
            double[] ci = c[i];
            for (int p = 0; p < k; p++) {
                double v = ai[p];
                if (v == 0) {
                    continue;
                }
                double[] bp = b[p];
                for (int j = 0; j < m; j++) {
                    ci[j] += v * bp[j];
                }
            }
        }
        return c;
    }
}
