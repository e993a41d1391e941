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
    void featuresDrawnFromKnownGaussiansGiveTheClosedForm() {
        // Two 3-d Gaussians with non-commuting covariances: N(mu1, S1), N(mu2, S2), S = A·Aᵀ.
        double[][] a1 = {{1.0, 0, 0}, {0.5, 0.8, 0}, {-0.3, 0.2, 0.6}};
        double[][] a2 = {{0.7, 0, 0}, {-0.4, 1.1, 0}, {0.1, 0.5, 0.9}};
        double[] mu1 = {0.5, -1.0, 2.0};
        double[] mu2 = {0.0, 0.5, 1.5};
        double[][] s1 = multiply(a1, transpose(a1));
        double[][] s2 = multiply(a2, transpose(a2));
        // Closed form: |mu1 - mu2|² + tr S1 + tr S2 - 2 tr (S1^{1/2} S2 S1^{1/2})^{1/2}; here the last trace
        // is the sum of the singular values of A2ᵀ·A1 (whose squares are the eigenvalues of S1·S2).
        double[][] m = multiply(transpose(a2), a1);
        double nuclear = 0;
        for (double sv : singularValues3(m)) {
            nuclear += sv;
        }
        double expected = 0;
        for (int i = 0; i < 3; i++) {
            expected += (mu1[i] - mu2[i]) * (mu1[i] - mu2[i]) + s1[i][i] + s2[i][i];
        }
        expected -= 2 * nuclear;
        SplittableRandom rng = new SplittableRandom(11);
        int n = 200_000;
        FeatureStats f1 = new FeatureStats(3);
        FeatureStats f2 = new FeatureStats(3);
        double[][] batch1 = new double[1000][];
        double[][] batch2 = new double[1000][];
        for (int done = 0; done < n; done += 1000) {
            for (int r = 0; r < 1000; r++) {
                batch1[r] = gaussian(rng, mu1, a1);
                batch2[r] = gaussian(rng, mu2, a2);
            }
            f1.update(batch1);
            f2.update(batch2);
        }
        double fid = f1.frechetDistance(f2);
        assertTrue(expected > 1, "a distance well away from 0: " + expected);
        // Sampling error of the estimate is O(1/sqrt(n)) ~ 0.01 here.
        assertEquals(expected, fid, 0.03, "closed form " + expected + ", from samples " + fid);
    }

    private static double[] gaussian(SplittableRandom rng, double[] mu, double[][] a) {
        double[] z = {rng.nextGaussian(), rng.nextGaussian(), rng.nextGaussian()};
        double[] x = mu.clone();
        for (int i = 0; i < 3; i++) {
            for (int j = 0; j < 3; j++) {
                x[i] += a[i][j] * z[j];
            }
        }
        return x;
    }

    /** Singular values of a 3×3 matrix: square roots of the eigenvalues of MᵀM (trigonometric cubic solution). */
    private static double[] singularValues3(double[][] mm) {
        double[][] b = multiply(transpose(mm), mm);
        double p1 = b[0][1] * b[0][1] + b[0][2] * b[0][2] + b[1][2] * b[1][2];
        double q = (b[0][0] + b[1][1] + b[2][2]) / 3;
        double p2 = Math.pow(b[0][0] - q, 2) + Math.pow(b[1][1] - q, 2) + Math.pow(b[2][2] - q, 2) + 2 * p1;
        double p = Math.sqrt(p2 / 6);
        double[][] c = new double[3][3];
        for (int i = 0; i < 3; i++) {
            for (int j = 0; j < 3; j++) {
                c[i][j] = (b[i][j] - (i == j ? q : 0)) / p;
            }
        }
        double det = c[0][0] * (c[1][1] * c[2][2] - c[1][2] * c[2][1])
                - c[0][1] * (c[1][0] * c[2][2] - c[1][2] * c[2][0])
                + c[0][2] * (c[1][0] * c[2][1] - c[1][1] * c[2][0]);
        double phi = Math.acos(Math.max(-1, Math.min(1, det / 2))) / 3;
        double e1 = q + 2 * p * Math.cos(phi);
        double e3 = q + 2 * p * Math.cos(phi + 2 * Math.PI / 3);
        double e2 = 3 * q - e1 - e3;
        return new double[] {Math.sqrt(e1), Math.sqrt(Math.max(e2, 0)), Math.sqrt(Math.max(e3, 0))};
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
