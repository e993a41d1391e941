package ai.tinyfusion.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import ai.tinyfusion.nn.Grads;
import ai.tinyfusion.nn.Scalars;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class OptimizerTest {
    /** Five AdamW steps against torch.optim.AdamW 1.13 (lr 0.01, decay 0.1 on p only), values computed offline. */
    @Test
    void adamWMatchesPyTorch() {
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray p = m.create(new float[] {0.5f, -1f, 2f, 0f});
            NDArray q = m.create(new float[] {1f, -2f}, new Shape(1, 2));
            p = p.duplicate();
            q = q.duplicate();
            LinkedHashMap<String, NDArray> params = new LinkedHashMap<>(Map.of("p", p, "q", q));
            for (NDArray a : params.values()) {
                a.setRequiresGradient(true);
            }
            AdamW opt = AdamW.standard(m, params, Map.of("p", 0.1));
            for (int step = 0; step < 5; step++) {
                try (NDManager s = m.newSubManager()) {
                    s.tempAttachAll(p, q);
                    NDArray c = s.create(new float[] {step + 1f, -0.5f}, new Shape(1, 2))
                            .duplicate();
                    try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                        NDArray loss =
                                Scalars.pow(p, 3).sum().add(Scalars.pow(q.mul(c).sum(), 2));
                        gc.backward(loss);
                    }
                    opt.step(0.01);
                    Grads.zero(List.of(p, q));
                }
            }
            assertArrayEquals(
                    new float[] {0.447830965364792f, -1.0449803207891144f, 1.940175283073281f, 0f},
                    p.toFloatArray(),
                    2e-6f);
            assertArrayEquals(new float[] {0.9538804971985522f, -1.950372565178141f}, q.toFloatArray(), 2e-6f);
            assertEquals(5, opt.stepCount());
            opt.close();
        }
    }

    @Test
    void globalNormClippingScalesAllGradients() {
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray a = m.create(new float[] {1f, 2f}).duplicate();
            NDArray b = m.create(new float[] {2f}).duplicate();
            a.setRequiresGradient(true);
            b.setRequiresGradient(true);
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                // d/da = (3, 0), d/db = (4): norm 5
                gc.backward(Scalars.mul(a.get(0), 3).add(Scalars.mul(b.sum(), 4)));
            }
            double norm = Grads.clipGlobalNorm(List.of(a, b), 1.0);
            assertEquals(5.0, norm, 1e-6);
            assertArrayEquals(new float[] {0.6f, 0f}, a.getGradient().toFloatArray(), 1e-6f);
            assertArrayEquals(new float[] {0.8f}, b.getGradient().toFloatArray(), 1e-6f);
            assertEquals(1.0, Grads.globalNorm(List.of(a, b)), 1e-5);
        }
    }

    @Test
    void emaFollowsTheOriginalUpdateRule() {
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray v = m.create(new float[] {1f, 2f}).duplicate();
            Ema ema = new Ema(m, Map.of("v", v));
            v.set(new float[] {3f, 6f});
            ema.update(0.9);
            assertArrayEquals(new float[] {1.2f, 2.4f}, ema.values().get("v").toFloatArray(), 1e-6f);
            // The shadow is a copy, not the parameter itself.
            assertArrayEquals(new float[] {3f, 6f}, v.toFloatArray(), 0f);
            ema.close();
        }
    }

    @Test
    void emaWarmupStartsFastAndReachesTheDecay() {
        assertEquals(0.1, Ema.warmedUp(0.999, 0), 1e-12);
        assertEquals(0.5, Ema.warmedUp(0.999, 8), 1e-12);
        assertEquals(0.999, Ema.warmedUp(0.999, 100_000), 1e-12);
    }

    @Test
    void cosineScheduleEndsAtTheMinimum() {
        LrSchedule s = new LrSchedule("cosine", 1e-3, 1e-4, 0);
        assertEquals(1e-3, s.at(0, 101), 1e-12);
        assertEquals(0.55e-3, s.at(50, 101), 1e-12);
        assertEquals(1e-4, s.at(100, 101), 1e-12);
        assertEquals(5e-4, new LrSchedule("constant", 1e-3, 0, 10).at(4, 100), 1e-12);
    }

    @Test
    void cosineWithAFixedHorizonDoesNotDependOnTheRunLength() {
        LrSchedule fixed = new LrSchedule("cosine", 1e-3, 1e-4, 0, 101);
        LrSchedule whole = new LrSchedule("cosine", 1e-3, 1e-4, 0);
        for (long step : new long[] {0, 37, 50, 100}) {
            assertEquals(whole.at(step, 101), fixed.at(step, 101), 1e-15);
            assertEquals(whole.at(step, 101), fixed.at(step, 5000), 1e-15); // an extended run keeps its past
        }
        assertEquals(1e-4, fixed.at(101, 5000), 1e-15);
        assertEquals(1e-4, fixed.at(4999, 5000), 1e-15);
        assertThrows(IllegalArgumentException.class, () -> new LrSchedule("cosine", 1e-3, 1e-4, 0, -1));
    }
}
