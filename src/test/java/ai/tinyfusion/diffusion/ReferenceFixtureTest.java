package ai.tinyfusion.diffusion;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.tinyfusion.Fixtures;
import ai.tinyfusion.nn.Scalars;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Checks against the reference fixture that need no network: the p_mean_variance record under respacing "250".
 *
 * <p>The model output that produced the fixture is recovered from the fixture's own x_0 prediction (epsilon
 * channels) and log variance (interpolation channels) on the host in float64; replaying it must give back the
 * recorded posterior mean (which depends on the spaced schedule's posterior coefficients and on nothing the
 * replay encodes), the log variance and x_0, and the model must be called with the original timesteps.
 */
class ReferenceFixtureTest {
    @Test
    void pMeanVarianceReplaysTheRecordedOutput() throws Exception {
        try (NDManager m = NDManager.newBaseManager()) {
            Map<String, NDArray> npz = TestSupport.readNpz(m, Fixtures.reference("dit_small-io.npz"));
            NDArray x = npz.get("pmv_x");
            NDArray t = npz.get("pmv_t");
            NDArray y = npz.get("pmv_y");
            SpacedDiffusion d = DiffusionFactory.create("250");

            long[] tIdx = t.toLongArray();
            long n = x.getShape().get(0);
            int per = Math.toIntExact(x.getShape().size() / n);
            double[] xs = x.toType(DataType.FLOAT64, false).toDoubleArray();
            double[] x0 = npz.get("pmv_xstart").toType(DataType.FLOAT64, false).toDoubleArray();
            double[] lv = npz.get("pmv_logvar").toType(DataType.FLOAT64, false).toDoubleArray();
            double[] recip = d.sqrtRecipAlphasCumprod();
            double[] recipm1 = d.sqrtRecipm1AlphasCumprod();
            double[] minLog = d.posteriorLogVarianceClipped();
            double[] maxLog = logOf(d.betas());
            float[] eps = new float[xs.length];
            float[] varValues = new float[xs.length];
            for (int i = 0; i < xs.length; i++) {
                int k = Math.toIntExact(tIdx[i / per]);
                eps[i] = (float) ((recip[k] * xs[i] - x0[i]) / recipm1[k]);
                double frac = (lv[i] - minLog[k]) / (maxLog[k] - minLog[k]);
                varValues[i] = (float) (2 * frac - 1);
            }
            NDArray recorded = m.create(eps, x.getShape())
                    .duplicate()
                    .concat(m.create(varValues, x.getShape()).duplicate(), 1);

            long[][] seenT = new long[1][];
            NDArray[] seenY = new NDArray[1];
            DenoiserFn replay = (xx, tt, yy) -> {
                seenT[0] = tt.toLongArray();
                seenY[0] = yy;
                return Scalars.mul(recorded, 1.0);
            };
            PMeanVariance out = d.pMeanVariance(replay, x, t, y, false);

            long[] expectedT = new long[tIdx.length];
            int[] map = d.timestepMap();
            for (int i = 0; i < tIdx.length; i++) {
                expectedT[i] = map[Math.toIntExact(tIdx[i])];
            }
            assertArrayEquals(expectedT, seenT[0]);
            assertEquals(1000 - 1, expectedT[tIdx.length - 1], "fixture's last index is the final spaced step");
            assertTrue(seenY[0] == y, "labels are passed through unchanged");

            assertNear(npz.get("pmv_mean"), out.mean(), "mean");
            assertNear(npz.get("pmv_logvar"), out.logVariance(), "log variance");
            assertNear(npz.get("pmv_xstart"), out.predXstart(), "x0");
        }
    }

    private static double[] logOf(double[] v) {
        double[] out = new double[v.length];
        for (int i = 0; i < v.length; i++) {
            out[i] = Math.log(v[i]);
        }
        return out;
    }

    /** float32 agreement as the fixture's README states: 1e-4 absolute, relative for large values. */
    private static void assertNear(NDArray expected, NDArray actual, String what) {
        assertEquals(expected.getShape(), actual.getShape(), what + " shape");
        float[] e = expected.toFloatArray();
        float[] a = actual.toFloatArray();
        for (int i = 0; i < e.length; i++) {
            TestSupport.assertClose(e[i], a[i], 1e-4, 1e-4, what + "[" + i + "]");
        }
    }
}
