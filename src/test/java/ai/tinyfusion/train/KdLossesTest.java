package ai.tinyfusion.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import ai.tinyfusion.diffusion.DiffusionFactory;
import ai.tinyfusion.diffusion.GaussianDiffusion;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Each distillation term on tiny tensors against values computed by hand (in doubles, here). */
class KdLossesTest {
    @Test
    void outputMseIsPerSampleMeanSquare() {
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray s = m.create(new float[] {1, 2, 3, 5}, new Shape(2, 1, 1, 2));
            NDArray t = m.create(new float[] {0, 0, 1, 1}, new Shape(2, 1, 1, 2));
            // (1² + 2²)/2 = 2.5, (2² + 4²)/2 = 10
            assertArrayEquals(new float[] {2.5f, 10f}, KdLosses.outputMse(s, t).toFloatArray(), 1e-6f);
        }
    }

    @Test
    void representationAveragesMaskedSquaredDifferencesOverPairs() {
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray hs = m.create(new float[] {0, 0, 0, 0, 0, 0, 0, 0, 0, 10}, new Shape(1, 5, 2));
            NDArray ht = m.create(new float[] {1, -1, 1, -1, 1, -1, 1, -1, 1, -1}, new Shape(1, 5, 2));
            // Masked: the student's 10 is beyond 2σ (see HiddenMaskTest), so M_s⊙h_s = 0 everywhere, while the
            // teacher keeps every ±1: mean((0 − ±1)²) = 1. The second pair is identical: 0. Average: 0.5.
            List<NDArray> s = List.of(hs, ht);
            List<NDArray> t = List.of(ht, ht);
            assertEquals(0.5f, KdLosses.representation(s, t, 2.0).getFloat(0), 1e-6f);
            // Without masks: nine (0 − ±1)² = 1 and (10 − (−1))² = 121 → 130/10 = 13; average with 0: 6.5.
            assertEquals(6.5f, KdLosses.representation(s, t, null).getFloat(0), 1e-6f);
        }
    }

    /** KL(N(m1, e^lv1) || N(m2, e^lv2)) in nats. */
    private static double kl(double m1, double lv1, double m2, double lv2) {
        return 0.5 * (-1 + lv2 - lv1 + Math.exp(lv1 - lv2) + (m1 - m2) * (m1 - m2) * Math.exp(-lv2));
    }

    private static double cdf(double x) {
        return 0.5 * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x)));
    }

    /** p(x_{t−1} | x_t) of an output (eps, v) at timestep t: {mean, log variance}. */
    private static double[] reverse(GaussianDiffusion d, int t, double xt, double eps, double v) {
        double x0 = d.sqrtRecipAlphasCumprod()[t] * xt - d.sqrtRecipm1AlphasCumprod()[t] * eps;
        double mean = d.posteriorMeanCoef1()[t] * x0 + d.posteriorMeanCoef2()[t] * xt;
        double frac = (v + 1) / 2;
        double lv = frac * Math.log(d.betas()[t]) + (1 - frac) * d.posteriorLogVarianceClipped()[t];
        return new double[] {mean, lv};
    }

    @Test
    void varianceHeadTermIsTeacherToStudentKlInBitsAndDecoderNllAtZero() {
        GaussianDiffusion d = DiffusionFactory.create("");
        int[] ts = {0, 500};
        // (N=2, C=1, H=1, W=2); outputs (N, 2C, H, W): channel 0 eps, channel 1 variance value.
        double[] x0 = {0.1, -0.3, 0.5, -0.7};
        double[] xt = {0.11, -0.31, 0.2, 0.4};
        double[] epsS = {0.3, -0.2, 0.6, 0.1};
        double[] vS = {0.1, -0.4, 0.3, -0.2};
        double[] epsT = {0.25, -0.1, 0.9, -0.3};
        double[] vT = {0.5, 0.2, -0.6, 0.7};
        double[] expect = new double[2];
        for (int n = 0; n < 2; n++) {
            int t = ts[n];
            double sum = 0;
            for (int w = 0; w < 2; w++) {
                int i = 2 * n + w;
                double[] s = reverse(d, t, xt[i], epsS[i], vS[i]);
                double[] p = reverse(d, t, xt[i], epsT[i], vT[i]);
                if (t == 0) {
                    double invStd = Math.exp(-0.5 * s[1]);
                    double c = x0[i] - s[0];
                    sum += -Math.log(cdf(invStd * (c + 1 / 255.0)) - cdf(invStd * (c - 1 / 255.0)));
                } else {
                    sum += kl(p[0], p[1], s[0], s[1]);
                }
            }
            expect[n] = sum / 2 / Math.log(2);
        }
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray studentOut = output(m, epsS, vS);
            NDArray teacherOut = output(m, epsT, vT);
            NDArray t = m.create(new long[] {0, 500});
            NDArray x0a = m.create(toFloat(x0), new Shape(2, 1, 1, 2));
            NDArray xta = m.create(toFloat(xt), new Shape(2, 1, 1, 2));
            studentOut.setRequiresGradient(true);
            teacherOut.setRequiresGradient(true);
            float[] got;
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                NDArray frozen = studentOut.get(":, 0:1").stopGradient().concat(studentOut.get(":, 1:2"), 1);
                NDArray vb = KdLosses.vbKd(d, frozen, teacherOut, x0a, xta, t);
                got = vb.toFloatArray();
                gc.backward(vb.sum());
            }
            assertEquals(expect[0], got[0], 1e-4 * Math.abs(expect[0]), "decoder NLL at t = 0");
            assertEquals(expect[1], got[1], 1e-4 * Math.abs(expect[1]), "KL at t = 500");
            assertTrue(expect[1] > 0);
            // Only the student's variance channels learn from it; the teacher gets nothing.
            float[] g = studentOut.getGradient().toFloatArray(); // (2, 2, 1, 2) row-major
            for (int n = 0; n < 2; n++) {
                assertEquals(0f, Math.abs(g[4 * n]) + Math.abs(g[4 * n + 1]), "mean channels of sample " + n);
                assertTrue(Math.abs(g[4 * n + 2]) + Math.abs(g[4 * n + 3]) > 0, "variance channels of sample " + n);
            }
            assertEquals(0f, teacherOut.getGradient().abs().sum().getFloat());
        }
    }

    @Test
    void identicalOutputsHaveZeroKdAwayFromTimestepZero() {
        GaussianDiffusion d = DiffusionFactory.create("");
        try (NDManager m = NDManager.newBaseManager()) {
            Engine.getInstance().setRandomSeed(5);
            NDArray out = m.randomNormal(new Shape(3, 2, 4, 4)).clip(-1, 1);
            NDArray xt = m.randomNormal(new Shape(3, 1, 4, 4));
            NDArray t = m.create(new long[] {1, 250, 999});
            assertEquals(
                    0f,
                    KdLosses.outputMse(out.get(":, 0:1"), out.get(":, 0:1"))
                            .abs()
                            .sum()
                            .getFloat());
            float[] vb = KdLosses.vbKd(d, out, out.duplicate(), xt, xt, t).toFloatArray();
            assertArrayEquals(new float[] {0, 0, 0}, vb, 1e-6f);
        }
    }

    private static NDArray output(NDManager m, double[] eps, double[] v) {
        float[] f = new float[8];
        for (int n = 0; n < 2; n++) {
            for (int w = 0; w < 2; w++) {
                f[4 * n + w] = (float) eps[2 * n + w];
                f[4 * n + 2 + w] = (float) v[2 * n + w];
            }
        }
        return m.create(f, new Shape(2, 2, 1, 2)).toType(DataType.FLOAT32, true);
    }

    private static float[] toFloat(double[] d) {
        float[] f = new float[d.length];
        for (int i = 0; i < d.length; i++) {
            f[i] = (float) d[i];
        }
        return f;
    }
}
