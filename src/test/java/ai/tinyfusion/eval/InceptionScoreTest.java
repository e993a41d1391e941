package ai.tinyfusion.eval;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class InceptionScoreTest {

    @Test
    void streamedSplitsEqualAdmSplitSizeOnAllRows() {
        java.util.SplittableRandom rng = new java.util.SplittableRandom(5);
        int n = 23;
        int k = 6;
        float[] flat = new float[n * k];
        double[][] logits = new double[n][k];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < k; j++) {
                flat[i * k + j] = (float) (3 * rng.nextGaussian());
                logits[i][j] = flat[i * k + j];
            }
        }
        InceptionScore.Splits s = new InceptionScore.Splits(10);
        s.addLogits(java.util.Arrays.copyOfRange(flat, 0, 7 * k), 7); // batches cross split boundaries
        s.addLogits(java.util.Arrays.copyOfRange(flat, 7 * k, n * k), n - 7);
        assertEquals(n, s.rows());
        double[][] probs = InceptionScore.softmax(logits);
        assertEquals(3, s.splitScores().length); // 10 + 10 + 3 rows, as ADM's range(0, N, split_size)
        assertEquals(InceptionScore.computeWithSplitSize(probs, 10), s.mean(), 1e-12);
        assertEquals(InceptionScore.score(probs, 20, 23), s.splitScores()[2], 1e-12);
        // Scores are not constant: a different split size gives a different value.
        assertTrue(Math.abs(InceptionScore.computeWithSplitSize(probs, 23) - s.mean()) > 1e-3);
    }

    @Test
    void uniformPredictionsScoreOne() {
        double[][] p = new double[100][7];
        for (double[] row : p) {
            java.util.Arrays.fill(row, 1.0 / 7);
        }
        assertEquals(1.0, InceptionScore.compute(p, 10), 1e-12);
        assertEquals(1.0, InceptionScore.computeWithSplitSize(p, 30), 1e-12);
    }

    @Test
    void confidentBalancedPredictionsScoreK() {
        int k = 10;
        double[][] p = new double[1000][k];
        for (int i = 0; i < p.length; i++) {
            p[i][i % k] = 1.0;
        }
        // Each split of 100 consecutive rows holds every class equally: KL = log K for every row.
        assertEquals(k, InceptionScore.compute(p, 10), 1e-9);
        assertEquals(k, InceptionScore.computeWithSplitSize(p, 500), 1e-9);
        // Logits with a huge margin give the same through softmax.
        double[][] logits = new double[p.length][k];
        for (int i = 0; i < p.length; i++) {
            logits[i][i % k] = 200;
        }
        assertEquals(k, InceptionScore.computeFromLogits(logits, 4), 1e-9);
    }

    @Test
    void handComputedTwoClassValue() {
        // Rows (0.9, 0.1) and (0.2, 0.8): p(y) = (0.55, 0.45).
        double[][] p = {{0.9, 0.1}, {0.2, 0.8}};
        double kl1 = 0.9 * Math.log(0.9 / 0.55) + 0.1 * Math.log(0.1 / 0.45);
        double kl2 = 0.2 * Math.log(0.2 / 0.55) + 0.8 * Math.log(0.8 / 0.45);
        assertEquals(Math.exp((kl1 + kl2) / 2), InceptionScore.compute(p, 1), 1e-14);
        // Two splits of one row each: every split scores exp(0) = 1.
        assertArrayEquals(new double[] {1, 1}, InceptionScore.splitScores(p, 2), 1e-14);
    }

    @Test
    void splitBoundariesFollowImprovedGanAndAdm() {
        // 5 rows, 2 splits -> rows [0,2) and [2,5); ADM split size 3 -> [0,3) and [3,5).
        double[][] p = {{1, 0}, {0, 1}, {1, 0}, {1, 0}, {0, 1}};
        double[] s = InceptionScore.splitScores(p, 2);
        assertEquals(2.0, s[0], 1e-12);
        double py = 2.0 / 3; // split [2,5): two rows of class 0, one of class 1
        double expected = Math.exp((2 * Math.log(1 / py) + Math.log(1 / (1 - py))) / 3);
        assertEquals(expected, s[1], 1e-12);
        double first = Math.exp((2 * Math.log(1.5) + Math.log(3)) / 3); // [0,3): classes 0,1,0
        double second = 2.0; // [3,5): classes 0,1
        assertEquals((first + second) / 2, InceptionScore.computeWithSplitSize(p, 3), 1e-12);
    }

    @Test
    void rejectsNonProbabilities() {
        assertThrows(IllegalArgumentException.class, () -> InceptionScore.compute(new double[][] {{2.0, -1.0}}, 1));
        assertThrows(IllegalArgumentException.class, () -> InceptionScore.compute(new double[][] {{0.5, 0.4}}, 1));
        assertThrows(IllegalArgumentException.class, () -> InceptionScore.compute(new double[][] {{0.5, 0.5}}, 2));
    }
}
