package ai.tinyfusion.diffusion;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.tinyfusion.Fixtures;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Schedules and respacing: float64 values from numpy (make_reference_values.py) and the reference fixture. */
class ScheduleTest {
    private static final double TOL = 1e-12;

    private static void near(double expected, double actual, String what) {
        TestSupport.assertClose(expected, actual, TOL, TOL, what);
    }

    @Test
    void linearScheduleMatchesNumpy() {
        double[] betas = BetaSchedules.named("linear", 1000);
        assertEquals(1000, betas.length);
        assertEquals(1e-4, betas[0], 0.0);
        assertEquals(0.02, betas[999], 0.0);
        GaussianDiffusion d =
                new GaussianDiffusion(betas, ModelMeanType.EPSILON, ModelVarType.LEARNED_RANGE, LossType.MSE);
        double[] ac = d.alphasCumprod();
        near(0.9999, ac[0], "ac[0]");
        near(0.07779665836502389, ac[500], "ac[500]");
        near(4.035829765375676e-05, ac[999], "ac[999]");
        double[] plv = d.posteriorLogVarianceClipped();
        near(-9.81672513529567, plv[0], "plv[0]");
        near(-9.81672513529567, plv[1], "plv[1]");
        near(-3.912023829100455, plv[999], "plv[999]");
        near(0.5452914995102903, d.posteriorMeanCoef1()[1], "coef1[1]");
        near(0.9899486782675173, d.posteriorMeanCoef2()[999], "coef2[999]");
        near(157.40728081040757, d.sqrtRecipm1AlphasCumprod()[999], "sqrt_recipm1[999]");
        assertEquals(0.0, d.posteriorVariance()[0], 0.0);
        near(5.4531876613021935e-05, d.posteriorVariance()[1], "post_var[1]");
        assertEquals(1.0, d.alphasCumprodPrev()[0], 0.0);
        assertEquals(0.0, d.alphasCumprodNext()[999], 0.0);
        assertEquals(ac[1], d.alphasCumprodNext()[0], 0.0);
    }

    @Test
    void cosineScheduleMatchesNumpy() {
        double[] betas = BetaSchedules.named("squaredcos_cap_v2", 1000);
        near(4.128422482196914e-05, betas[0], "cos b[0]");
        near(4.614175273665033e-05, betas[1], "cos b[1]");
        near(0.003155691441585007, betas[500], "cos b[500]");
        near(0.7499993929011166, betas[998], "cos b[998]");
        assertEquals(0.999, betas[999], 0.0);
        GaussianDiffusion d =
                new GaussianDiffusion(betas, ModelMeanType.EPSILON, ModelVarType.FIXED_LARGE, LossType.MSE);
        near(2.4287669070348544e-06, d.alphasCumprod()[998], "cos ac[998]");
    }

    @Test
    void legacySchedulesMatchNumpy() {
        near(0.0028952060277213755, BetaSchedules.legacy("quad", 1e-4, 0.02, 1000)[333], "quad");
        double[] warm = BetaSchedules.legacy("warmup10", 1e-4, 0.02, 1000);
        near(0.0075373737373737384, warm[37], "warmup10[37]");
        assertEquals(0.02, warm[100], 0.0);
        near(0.1, BetaSchedules.legacy("jsd", 1e-4, 0.02, 1000)[990], "jsd[990]");
        assertThrows(IllegalArgumentException.class, () -> BetaSchedules.named("cosine", 10));
    }

    @Test
    void respacedBetasMatchNumpy() {
        SpacedDiffusion s250 = DiffusionFactory.create("250");
        assertEquals(250, s250.numTimesteps());
        assertEquals(1000, s250.originalNumSteps());
        double[] b = s250.betas();
        near(9.999999999998899e-05, b[0], "250 b[0]");
        near(0.0005990655644756426, b[1], "250 b[1]");
        near(0.04929790363417974, b[125], "250 b[125]");
        near(0.07751934499235003, b[249], "250 b[249]");
        near(4.035829765375675e-05, s250.alphasCumprod()[249], "250 ac[249]");
        near(-9.364628159803084, s250.posteriorLogVarianceClipped()[0], "250 plv[0]");

        SpacedDiffusion ddim = DiffusionFactory.create("ddim10");
        double[] bd = ddim.betas();
        near(0.1047688859910626, bd[1], "ddim10 b[1]");
        near(0.5980996503626803, bd[5], "ddim10 b[5]");
        near(0.8207358246806835, bd[9], "ddim10 b[9]");
        near(0.00027024451955826425, ddim.alphasCumprod()[9], "ddim10 ac[9]");
        near(-9.211194488963333, ddim.posteriorLogVarianceClipped()[0], "ddim10 plv[0]");

        // Keeping every step still recomputes the betas from the cumulative products (last-bit differences).
        SpacedDiffusion all = DiffusionFactory.create("");
        assertEquals(1000, all.numTimesteps());
        near(0.00011991991991988638, all.betas()[1], "all b[1]");
        near(0.010059959959960008, all.betas()[500], "all b[500]");
        near(0.020000000000000018, all.betas()[999], "all b[999]");
        near(-9.81672513529595, all.posteriorLogVarianceClipped()[0], "all plv[0]");

        SpacedDiffusion ten = DiffusionFactory.create("10");
        near(0.12630763785293664, ten.betas()[1], "10 b[1]");
        near(0.8797882303918187, ten.betas()[9], "10 b[9]");
        near(-9.211031850608943, ten.posteriorLogVarianceClipped()[0], "10 plv[0]");

        SpacedDiffusion sections = DiffusionFactory.create("10,20,30");
        assertEquals(60, sections.numTimesteps());
        near(0.017552899221702112, sections.betas()[1], "sections b[1]");
        near(0.013386586586586535, sections.betas()[30], "sections b[30]");
        near(0.19837303105902238, sections.betas()[59], "sections b[59]");
    }

    @Test
    void spaceTimestepsFollowsTheReferenceAlgorithm() {
        assertArrayEquals(
                new int[] {0, 111, 222, 333, 444, 555, 666, 777, 888, 999}, Respacing.spaceTimesteps(1000, "10"));
        int[] sections = Respacing.spaceTimesteps(1000, "10,20,30");
        assertEquals(60, sections.length);
        assertArrayEquals(new int[] {0, 37, 74, 111}, java.util.Arrays.copyOf(sections, 4));
        assertArrayEquals(new int[] {976, 988, 999}, java.util.Arrays.copyOfRange(sections, 57, 60));
        // Rounding is half to even, as Python's round: stride 2.5 puts the middle step at 2.5, kept as 2.
        assertArrayEquals(new int[] {0, 2, 5}, Respacing.spaceTimesteps(6, 3));
        assertArrayEquals(new int[] {0, 250, 500, 750}, Respacing.spaceTimesteps(1000, "ddim4"));
        assertThrows(IllegalArgumentException.class, () -> Respacing.spaceTimesteps(1000, "ddim999"));
        assertThrows(IllegalArgumentException.class, () -> Respacing.spaceTimesteps(10, "11"));
        assertArrayEquals(DiffusionFactory.create("250").timestepMap(), Respacing.spaceTimesteps(1000, "250"));
    }

    @Test
    void spacingMatchesReferenceFixture() throws Exception {
        try (NDManager m = NDManager.newBaseManager()) {
            Map<String, NDArray> npz = TestSupport.readNpz(m, Fixtures.reference("dit_small-io.npz"));
            long[] s250 = npz.get("spaced_250").toLongArray();
            long[] sDdim = npz.get("spaced_ddim10").toLongArray();
            assertArrayEquals(toInts(s250), Respacing.spaceTimesteps(1000, "250"));
            assertArrayEquals(toInts(sDdim), Respacing.spaceTimesteps(1000, "ddim10"));
            assertArrayEquals(toInts(sDdim), DiffusionFactory.create("ddim10").timestepMap());
        }
    }

    private static int[] toInts(long[] v) {
        int[] out = new int[v.length];
        for (int i = 0; i < v.length; i++) {
            out[i] = Math.toIntExact(v[i]);
        }
        return out;
    }
}
