package ai.tinyfusion.eval;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Arrays;
import java.util.SplittableRandom;
import org.apache.commons.math3.linear.Array2DRowRealMatrix;
import org.apache.commons.math3.linear.EigenDecomposition;
import org.apache.commons.math3.linear.RealMatrix;
import org.junit.jupiter.api.Test;

/** Checks the hand-written linear algebra against commons-math3 and closed forms. */
class LinalgTest {

    private static double[][] randomSymmetric(SplittableRandom rng, int n) {
        double[][] m = new double[n][n];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j <= i; j++) {
                double v = rng.nextGaussian();
                m[i][j] = v;
                m[j][i] = v;
            }
        }
        return m;
    }

    /** X Xᵀ with X n×k: PSD of rank min(n, k). */
    private static double[][] randomPsd(SplittableRandom rng, int n, int k) {
        double[][] x = new double[n][k];
        for (double[] row : x) {
            for (int j = 0; j < k; j++) {
                row[j] = rng.nextGaussian();
            }
        }
        double[][] s = new double[n][n];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                s[i][j] = PrecisionRecall.dot(x[i], x[j]);
            }
        }
        return s;
    }

    private static double[] referenceEigenvalues(double[][] m) {
        double[] ev = new EigenDecomposition(new Array2DRowRealMatrix(m, true)).getRealEigenvalues();
        Arrays.sort(ev);
        return ev;
    }

    @Test
    void eigenvaluesMatchCommonsMath() {
        SplittableRandom rng = new SplittableRandom(42);
        for (int n : new int[] {1, 2, 3, 5, 17, 64, 150}) {
            double[][] m = randomSymmetric(rng, n);
            double[] ref = referenceEigenvalues(m);
            double[] got = Linalg.symmetricEigenvalues(m);
            double scale = Math.max(Math.abs(ref[0]), Math.abs(ref[n - 1]));
            assertArrayEquals(ref, got, 1e-11 * scale * n, "n = " + n);
        }
        // Rank-deficient PSD with a repeated zero eigenvalue.
        double[][] psd = randomPsd(rng, 40, 7);
        double[] ref = referenceEigenvalues(psd);
        assertArrayEquals(ref, Linalg.symmetricEigenvalues(psd), 1e-10 * ref[39]);
    }

    @Test
    void eigenvaluesOfStructuredMatrices() {
        assertArrayEquals(
                new double[] {-2, 0, 3, 3},
                Linalg.symmetricEigenvalues(new double[][] {{3, 0, 0, 0}, {0, -2, 0, 0}, {0, 0, 0, 0}, {0, 0, 0, 3}}),
                0);
        assertArrayEquals(new double[4], Linalg.symmetricEigenvalues(new double[4][4]), 0);
        // [[2,1],[1,2]] -> 1, 3; the path graph P3 adjacency -> -sqrt2, 0, sqrt2.
        assertArrayEquals(new double[] {1, 3}, Linalg.symmetricEigenvalues(new double[][] {{2, 1}, {1, 2}}), 1e-15);
        double r2 = Math.sqrt(2);
        assertArrayEquals(
                new double[] {-r2, 0, r2},
                Linalg.symmetricEigenvalues(new double[][] {{0, 1, 0}, {1, 0, 1}, {0, 1, 0}}),
                1e-15);
    }

    @Test
    void pivotedCholeskyReconstructsAndFindsRank() {
        SplittableRandom rng = new SplittableRandom(8);
        for (int k : new int[] {3, 30}) {
            double[][] s = randomPsd(rng, 30, k);
            Linalg.Cholesky ch = Linalg.pivotedCholesky(s);
            assertEquals(Math.min(k, 30), ch.rank());
            double[][] l = ch.l();
            for (int i = 0; i < 30; i++) {
                for (int j = 0; j < 30; j++) {
                    double v = PrecisionRecall.dot(l[i], l[j]);
                    assertEquals(s[ch.perm()[i]][ch.perm()[j]], v, 1e-11 * Math.abs(s[0][0]) * 30);
                }
                for (int c = i + 1; c < ch.rank(); c++) {
                    assertEquals(0.0, l[i][c], 0);
                }
            }
        }
        assertEquals(0, Linalg.pivotedCholesky(new double[3][3]).rank());
    }

    @Test
    void traceSqrtProductMatchesSqrtmBasedReference() {
        // Reference: Σ sqrt(eig(A·S2·A)), A = sqrtm(S1) from commons-math (the textbook route).
        SplittableRandom rng = new SplittableRandom(99);
        for (int[] nk : new int[][] {{12, 12}, {25, 6}, {40, 60}}) {
            int n = nk[0];
            double[][] s1 = randomPsd(rng, n, nk[1]);
            double[][] s2 = randomPsd(rng, n, Math.max(2, nk[1] - 1));
            EigenDecomposition e = new EigenDecomposition(new Array2DRowRealMatrix(s1, true));
            double[] mu = e.getRealEigenvalues();
            double[][] sq = new double[n][n];
            for (int i = 0; i < n; i++) {
                sq[i][i] = Math.sqrt(Math.max(mu[i], 0));
            }
            RealMatrix v = e.getV();
            RealMatrix a = v.multiply(new Array2DRowRealMatrix(sq, false)).multiply(v.transpose());
            RealMatrix m = a.multiply(new Array2DRowRealMatrix(s2, true)).multiply(a);
            RealMatrix sym = m.add(m.transpose()).scalarMultiply(0.5);
            double ref = 0;
            for (double l : new EigenDecomposition(sym).getRealEigenvalues()) {
                ref += Math.sqrt(Math.max(l, 0));
            }
            double got = FrechetDistance.traceSqrtProduct(s1, s2);
            assertEquals(ref, got, 1e-6 * ref, "n = " + n + ", rank " + nk[1]);
        }
    }
}
