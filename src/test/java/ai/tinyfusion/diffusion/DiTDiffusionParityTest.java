package ai.tinyfusion.diffusion;

import static ai.tinyfusion.Reference.assertClose;

import ai.djl.ndarray.NDArray;
import org.junit.jupiter.api.Test;

/** Diffusion computations through the reference DiT against the original implementation's outputs. */
class DiTDiffusionParityTest extends ai.tinyfusion.ReferenceTestBase {

    @Test
    void trainingLossTermsMatch() {
        SpacedDiffusion d = DiffusionFactory.create("");
        TrainingLosses l = d.trainingLosses(
                model::forward, io.get("loss_x0"), io.get("loss_t"), io.get("loss_y"), io.get("loss_noise"));
        assertClose("mse", io.get("loss_mse"), l.mse(), 1e-4, 1e-4);
        assertClose("vb (bits/dim, decoder NLL at t=0)", io.get("loss_vb"), l.vb(), 1e-4, 1e-4);
        assertClose("loss", io.get("loss_total"), l.loss(), 1e-4, 1e-4);
    }

    @Test
    void pMeanVarianceUnderRespacing250Matches() {
        SpacedDiffusion d = DiffusionFactory.create("250");
        PMeanVariance p = d.pMeanVariance(model::forward, io.get("pmv_x"), io.get("pmv_t"), io.get("pmv_y"), false);
        assertClose("mean", io.get("pmv_mean"), p.mean(), 1e-4, 1e-4);
        assertClose("log variance", io.get("pmv_logvar"), p.logVariance(), 1e-4, 1e-4);
        assertClose("pred xstart", io.get("pmv_xstart"), p.predXstart(), 1e-4, 1e-4);
    }

    @Test
    void ddim10LoopWithCfgMatches() {
        SpacedDiffusion d = DiffusionFactory.create("ddim10");
        double scale = io.get("ddim_cfg").getFloat();
        NDArray z = io.get("ddim_z");
        NDArray out = d.ddimSampleLoop(
                (x, t, y) -> model.forwardWithCfg(x, t, y, scale, 3),
                m,
                z.getShape(),
                io.get("ddim_y"),
                SamplingOptions.defaults().initialNoise(z).clipDenoised(false).eta(0));
        // Outputs reach |x| ~ 100 (unclipped): relative tolerance.
        assertClose("ddim10 + cfg 1.5", io.get("ddim_out"), out, 1e-4, 1e-4);
    }
}
