package ai.tinyfusion.eval;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class PrecisionRecallTest {

    @Test
    void identicalSetsHavePrecisionAndRecallOne() {
        double[][] x = FrechetDistanceTest.randomRows(new SplittableRandom(1), 200, 16, 1.0);
        PrecisionRecall.Result r = PrecisionRecall.compute(x, x.clone());
        assertEquals(1.0, r.precision(), 0);
        assertEquals(1.0, r.recall(), 0);
    }

    @Test
    void farApartClustersHaveZeroPrecisionAndRecall() {
        SplittableRandom rng = new SplittableRandom(2);
        double[][] real = FrechetDistanceTest.randomRows(rng, 150, 8, 1.0);
        double[][] gen = FrechetDistanceTest.randomRows(rng, 120, 8, 1.0);
        for (double[] g : gen) {
            g[0] += 1000;
        }
        PrecisionRecall.Result r = PrecisionRecall.compute(real, gen);
        assertEquals(0.0, r.precision(), 0);
        assertEquals(0.0, r.recall(), 0);
    }

    @Test
    void handMadeTwoDimensionalCase() {
        // k = 1. Real points on a line: nearest-neighbour squared radii 1, 1, 4, 4, 1, 1.
        double[][] real = {{0, 0}, {1, 0}, {10, 0}, {12, 0}, {30, 0}, {31, 0}};
        // Generated: squared radii (nearest other generated point) 1.25, 36, 17, 1.25.
        double[][] gen = {{0.5, 0}, {11, 0}, {5, 0}, {1, 1}};
        assertArrayEquals(new double[] {1, 1, 4, 4, 1, 1}, PrecisionRecall.manifoldRadii(real, 1), 0);
        assertArrayEquals(new double[] {1.25, 36, 17, 1.25}, PrecisionRecall.manifoldRadii(gen, 1), 0);
        // Precision: (0.5,0) is 0.25 from (0,0) <= 1; (11,0) is 1 from (10,0) <= 4; (1,1) is exactly on the
        // boundary of (1,0)'s ball (1 <= 1, inclusive as in ADM); (5,0) is outside every ball -> 3/4.
        // Recall: (0,0), (1,0) within 1.25 of (0.5,0); (10,0), (12,0) within 36 of (11,0); (30,0), (31,0) are
        // 361+ from (11,0) and 625+ from (5,0) -> 4/6.
        PrecisionRecall.Result r = PrecisionRecall.compute(real, gen, 1);
        assertEquals(0.75, r.precision(), 0);
        assertEquals(4.0 / 6.0, r.recall(), 1e-15);
        assertEquals(0.75, PrecisionRecall.fractionInside(real, PrecisionRecall.manifoldRadii(real, 1), gen), 0);
    }

    @Test
    void kThreeRadiusExcludesSelfAndCountsDuplicates() {
        double[][] x = {{0}, {1}, {3}, {6}, {10}};
        // Row 0: distances 0(self), 1, 9, 36, 100 -> 3rd neighbour 36.
        // Row 2: 0, 9(to 0), 4(to 1), 9(to 6), 49 -> sorted 0,4,9,9 -> 9.
        assertArrayEquals(new double[] {36, 25, 9, 25, 81}, PrecisionRecall.manifoldRadii(x, 3), 0);
        // A duplicate is a neighbour at distance 0 (as with ADM's partition of the full row).
        double[][] dup = {{0}, {0}, {0}, {0}, {5}};
        assertArrayEquals(new double[] {0, 0, 0, 0, 25}, PrecisionRecall.manifoldRadii(dup, 3), 0);
        assertThrows(IllegalArgumentException.class, () -> PrecisionRecall.manifoldRadii(new double[3][2], 3));
    }

    @Test
    void blockedComputationMatchesBruteForce() {
        // More rows than one row block (64) and one column block (512).
        SplittableRandom rng = new SplittableRandom(9);
        double[][] real = gaussian(rng, 700, 6, 0.0);
        double[][] gen = gaussian(rng, 530, 6, 0.4);
        double[] rr = bruteRadii(real, 3);
        double[] gr = bruteRadii(gen, 3);
        assertArrayEquals(rr, PrecisionRecall.manifoldRadii(real, 3), 0);
        assertArrayEquals(gr, PrecisionRecall.manifoldRadii(gen, 3), 0);
        double precision = bruteFraction(real, rr, gen);
        double recall = bruteFraction(gen, gr, real);
        PrecisionRecall.Result r = PrecisionRecall.compute(real, gen);
        assertEquals(precision, r.precision(), 0);
        assertEquals(recall, r.recall(), 0);
        // The shifted distribution loses some coverage but not all.
        assertEquals(true, precision > 0.3 && precision < 1.0, "precision " + precision);
        assertEquals(true, recall > 0.3 && recall < 1.0, "recall " + recall);
    }

    private static double[][] gaussian(SplittableRandom rng, int n, int d, double shift) {
        double[][] x = new double[n][d];
        for (double[] row : x) {
            for (int j = 0; j < d; j++) {
                row[j] = rng.nextGaussian() + shift;
            }
        }
        return x;
    }

    private static double[] bruteRadii(double[][] x, int k) {
        double[] radii = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            double[] d = new double[x.length];
            for (int j = 0; j < x.length; j++) {
                d[j] = PrecisionRecall.squaredDistance(x[i], x[j]);
            }
            Arrays.sort(d);
            radii[i] = d[k];
        }
        return radii;
    }

    private static double bruteFraction(double[][] ref, double[] radii, double[][] eval) {
        int in = 0;
        for (double[] e : eval) {
            for (int i = 0; i < ref.length; i++) {
                if (PrecisionRecall.squaredDistance(e, ref[i]) <= radii[i]) {
                    in++;
                    break;
                }
            }
        }
        return (double) in / eval.length;
    }
}
