package ai.tinyfusion.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class FidBootstrapTest {

    private static double[][] gaussian(int n, int d, double shift, long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        double[][] x = new double[n][d];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < d; j++) {
                double u1 = 1 - rng.nextDouble();
                double u2 = rng.nextDouble();
                x[i][j] = shift + Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
            }
        }
        return x;
    }

    @Test
    void matchesTheDeltaMethodForAShiftedMean() {
        // 1-D: FID = (m - 0)^2 + (s - 1)^2 against N(0, 1). With the mean shifted by 1 the first term
        // dominates, and its standard error is 2·|m|·s/sqrt(N) (delta method).
        int n = 2000;
        double[][] x = gaussian(n, 1, 1.0, 3);
        FeatureStats ref = FeatureStats.fromMoments(new double[] {0}, new double[][] {{1}}, 100_000);
        FeatureStats st = FeatureStats.of(x);
        double m = st.mean()[0];
        double s = Math.sqrt(st.covariance()[0][0]);
        double expected = 2 * Math.abs(m) * s / Math.sqrt(n);
        double got = FidBootstrap.std(x, ref, 400, 0);
        assertEquals(expected, got, 0.12 * expected, "bootstrap sd " + got + " vs delta method " + expected);
    }

    @Test
    void shrinksLikeOneOverSqrtN() {
        FeatureStats ref = FeatureStats.of(gaussian(4000, 4, 0.0, 5));
        double small = FidBootstrap.std(gaussian(250, 4, 0.5, 6), ref, 200, 1);
        double large = FidBootstrap.std(gaussian(4000, 4, 0.5, 7), ref, 200, 1);
        double ratio = small / large; // sqrt(4000 / 250) = 4
        assertTrue(ratio > 3 && ratio < 5.3, "ratio " + ratio);
    }

    @Test
    void isZeroForIdenticalRowsAndReproducible() {
        double[][] same = new double[50][];
        for (int i = 0; i < same.length; i++) {
            same[i] = new double[] {1, 2, 3};
        }
        FeatureStats ref = FeatureStats.of(gaussian(100, 3, 0.0, 8));
        assertEquals(0.0, FidBootstrap.std(same, ref, 20, 0), 1e-6);
        double[][] x = gaussian(100, 3, 0.2, 9);
        assertEquals(FidBootstrap.std(x, ref, 30, 42), FidBootstrap.std(x, ref, 30, 42));
    }

    @Test
    void rejectsBadInput() {
        FeatureStats ref = FeatureStats.of(gaussian(10, 3, 0.0, 1));
        assertThrows(IllegalArgumentException.class, () -> FidBootstrap.std(gaussian(10, 3, 0, 2), ref, 1, 0));
        assertThrows(IllegalArgumentException.class, () -> FidBootstrap.std(gaussian(1, 3, 0, 2), ref, 10, 0));
        IllegalArgumentException e =
                assertThrows(IllegalArgumentException.class, () -> FidBootstrap.std(gaussian(10, 2, 0, 2), ref, 10, 0));
        assertTrue(e.getMessage().contains("2 features"), e.getMessage());
    }
}
