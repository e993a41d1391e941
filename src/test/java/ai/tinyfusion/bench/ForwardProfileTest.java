package ai.tinyfusion.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDManager;
import ai.tinyfusion.OneThread;
import ai.tinyfusion.model.dit.DiT;
import ai.tinyfusion.model.dit.DiTConfig;
import ai.tinyfusion.model.dit.Flops;
import ai.tinyfusion.nn.OpProfile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(OneThread.class)
class ForwardProfileTest {
    @Test
    void matmulShapesCoverTheModelsMacs() {
        for (String preset : new String[] {"DiT-XL/2", "DiT-S/4", "DiT-F28"}) {
            DiTConfig c = DiTConfig.preset(preset);
            double flops = ForwardProfile.matmulShapes(c, c.depth(), 3).stream()
                    .mapToDouble(ForwardProfile.Shape3::flops)
                    .sum();
            long d = c.hiddenSize();
            // Flops also counts the per-image timestep MLP (256·d + d·d) and the final adaLN (2·d·d).
            double expected = 3 * 2.0 * (Flops.macsPerImage(c) - 256 * d - 3 * d * d);
            assertEquals(expected, flops, 1e-9 * expected, preset);
        }
    }

    @Test
    void profileSplitsTheForwardTimeAndRooflineIsMeasured() {
        Engine.getInstance().setRandomSeed(0);
        try (NDManager m = NDManager.newBaseManager()) {
            DiT model = new DiT(m, DiTConfig.preset("DiT-F7"));
            ForwardProfile.Profile p = ForwardProfile.profile(model, 8, true, 1, 2);
            assertEquals(16, p.rows());
            for (OpProfile.Kind k : OpProfile.Kind.values()) {
                assertTrue(p.kindSec().get(k) > 0, k + " was not timed");
            }
            assertTrue(p.restSec() >= 0 && p.restSec() < p.totalSec(), "rest " + p.restSec());
            assertTrue(p.ops() > 7 * 20, "ops " + p.ops());
            assertTrue(p.jniSecPerOp() > 0 && p.jniSecPerOp() < 1e-3);
            ForwardProfile.Roofline r = ForwardProfile.roofline(m, model.config(), model.depth(), 16, 1, 2);
            assertTrue(r.idealSec() > 0 && r.gflops() > 0.1);
            assertTrue(r.table(p.totalSec()).contains("of the roofline"));
        }
    }
}
