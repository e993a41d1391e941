package ai.tinyfusion.diffusion.transport;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.tinyfusion.diffusion.transport.Transport.Interval;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import java.util.Locale;
import org.junit.jupiter.api.Test;

/** SiT's network, transport settings and training losses against the original code's numbers. */
class TransportParityTest extends SiTFixture {

    @Test
    void sitForwardChunksToTheFirstHalfAndTakesContinuousTime() {
        NDArray out = SiTNetwork.of(dit).apply(io.get("fwd_x"), io.get("fwd_t"), io.get("fwd_y"));
        double err = maxAbs(io.get("fwd_out"), out);
        System.out.printf(Locale.ROOT, "SiT forward: max abs %.2e%n", err);
        assertTrue(err <= 1e-5, "forward max abs " + err);
    }

    @Test
    void sitForwardWithCfgGuidesThreeChannels() {
        double scale = io.get("cfg_scale").getFloat();
        NDArray out = SiTNetwork.withCfg(dit, scale).apply(io.get("cfg_x"), io.get("cfg_t"), io.get("cfg_y"));
        double err = maxAbs(io.get("cfg_out"), out);
        System.out.printf(Locale.ROOT, "SiT forward_with_cfg: max abs %.2e%n", err);
        assertTrue(err <= 1e-5, "cfg max abs " + err);
        // channel 3 is not guided: the two halves keep their own (different) values there
        NDArray ch3 = out.get(":, 3");
        assertTrue(maxAbs(ch3.get("0:2"), ch3.get("2:4")) > 1e-3, "channel 3 should differ between halves");
        assertEquals(0.0, maxAbs(out.get("0:2, 0:3"), out.get("2:4, 0:3")));
    }

    @Test
    void epsilonsAndIntervalsAreTheOriginals() {
        int n = 0;
        for (String name : cases.keySet()) {
            if (!name.startsWith("loss")) {
                continue;
            }
            JsonObject c = spec(name);
            Transport tr = transportOf(c);
            assertEquals(c.get("train_eps").getAsDouble(), tr.trainEps(), 0, name);
            assertEquals(c.get("sample_eps").getAsDouble(), tr.sampleEps(), 0, name);
            assertInterval(c.getAsJsonArray("train_interval"), tr.trainInterval(), name);
            assertInterval(c.getAsJsonArray("ode_interval"), tr.odeInterval(), name);
            assertInterval(c.getAsJsonArray("sde_interval_sbdm"), tr.sdeInterval(DiffusionForm.SBDM, 0.04), name);
            assertInterval(c.getAsJsonArray("sde_interval_sigma"), tr.sdeInterval(DiffusionForm.SIGMA, 0.04), name);
            n++;
        }
        assertEquals(21, n);
    }

    private static void assertInterval(JsonArray expected, Interval actual, String name) {
        assertEquals(expected.get(0).getAsDouble(), actual.t0(), 1e-15, name + " t0");
        assertEquals(expected.get(1).getAsDouble(), actual.t1(), 1e-15, name + " t1");
    }

    @Test
    void createTransportKeepsTheOriginalsEpsilonQuirks() {
        Transport velocity = Transport.create("Linear", "velocity", null, 0.5, 0.5);
        assertEquals(0.0, velocity.trainEps());
        assertEquals(0.0, velocity.sampleEps());
        Transport vp = Transport.create("VP", "velocity", null, 2e-5, null);
        assertEquals(2e-5, vp.trainEps());
        assertEquals(null, vp.sampleEps());
        assertEquals(1e-3, Transport.create("VP", "velocity", null, null, 0.3).sampleEps());
        assertEquals(
                0.3, Transport.create("GVP", "score", "likelihood", 1e-4, 0.3).sampleEps());
    }

    @Test
    void trainingLossesMatchForEveryPathPredictionAndWeighting() {
        NDArray x1 = io.get("loss_x1");
        NDArray y = io.get("loss_y");
        TransportNet net = SiTNetwork.of(dit);
        double worst = 0;
        for (int i = 0; i < 21; i++) {
            String name = "loss" + i;
            Transport tr = transportOf(spec(name));
            try (NDManager s = m.newSubManager()) {
                NDArray loss = tr.trainingLosses(net, x1, io.get(name + "_x0"), io.get(name + "_t"), y)
                        .loss();
                NDArray expected = io.get(name + "_loss");
                double err = maxAbs(expected, loss) / Math.max(1, maxMagnitude(expected));
                worst = Math.max(worst, err);
                assertTrue(err <= 1e-5, name + " " + spec(name) + ": relative error " + err);
            }
        }
        System.out.printf(Locale.ROOT, "training losses (21 path/prediction/weight cases): max rel %.2e%n", worst);
    }

    @Test
    void seededDrawsFollowTorchsOrder() {
        NDArray x1 = io.get("loss_x1");
        for (int i : new int[] {0, 3, 14, 20}) {
            String name = "loss" + i;
            JsonObject c = spec(name);
            Transport tr = transportOf(c);
            Engine.getInstance().setRandomSeed(c.get("seed").getAsInt());
            try (NDManager s = m.newSubManager()) {
                TransportObjective objective = new TransportObjective(tr);
                TransportObjective.Draw d = objective.draw(s, x1.getShape(), 0.1);
                assertEquals(0.0, maxAbs(io.get(name + "_x0"), d.x0()), name + " x0");
                assertTrue(maxAbs(io.get(name + "_t"), d.t()) <= 1e-7, name + " t");
                NDArray loss = objective
                        .losses(SiTNetwork.of(dit), x1, io.get("loss_y"), d)
                        .get("loss");
                assertTrue(maxAbs(io.get(name + "_loss"), loss) <= 1e-5 * Math.max(1, maxMagnitude(loss)), name);
                Engine.getInstance().setRandomSeed(c.get("seed").getAsInt());
                NDArray again = tr.trainingLosses(SiTNetwork.of(dit), x1, io.get("loss_y"))
                        .loss();
                assertEquals(0.0, maxAbs(loss, again), name + " draws inside trainingLosses");
            }
        }
    }

    @Test
    void lossGradientsReachOnlyTheKeptHalfOfTheOutputChannels() throws Exception {
        for (String prediction : new String[] {"velocity", "noise", "score"}) {
            Transport tr = Transport.create("Linear", prediction, prediction.equals("noise") ? "likelihood" : null);
            try (NDManager s = m.newSubManager()) {
                ai.tinyfusion.model.dit.DiT fresh = ai.tinyfusion.Reference.model(s);
                NDArray w =
                        fresh.namedParameters().get("final_layer.linear.weight").value(); // (p·p·8, D)
                w.setRequiresGradient(true);
                float[] grads = null;
                for (int run = 0; run < 2; run++) {
                    try (NDManager step = s.newSubManager();
                            ai.djl.training.GradientCollector gc =
                                    Engine.getInstance().newGradientCollector()) {
                        fresh.useIn(step);
                        NDArray loss = tr.trainingLosses(
                                        SiTNetwork.of(fresh),
                                        io.get("loss_x1"),
                                        io.get("loss0_x0"),
                                        io.get("loss0_t"),
                                        io.get("loss_y"))
                                .loss()
                                .mean();
                        System.gc(); // anything autograd kept in Java-owned memory would now be corrupt
                        gc.backward(loss);
                    }
                    float[] g = w.getGradient().toFloatArray();
                    if (grads == null) {
                        grads = g;
                    } else {
                        for (int i = 0; i < g.length; i++) {
                            assertEquals(2 * grads[i], g[i], 1e-6 * Math.max(1, Math.abs(g[i])), "accumulated");
                        }
                    }
                }
                long cols = w.getShape().get(1);
                double kept = 0;
                for (int i = 0; i < grads.length; i++) {
                    long channel = (i / cols) % 8; // unpatchify: the channel is the fastest row index
                    assertTrue(Float.isFinite(grads[i]), prediction);
                    if (channel >= 4) {
                        assertEquals(0f, grads[i], prediction + ": the variance half gets no gradient");
                    } else {
                        kept += Math.abs(grads[i]);
                    }
                }
                assertTrue(kept > 0, prediction + ": the kept half gets a gradient");
            }
        }
    }

    @Test
    void gridsAreTorchLinspace() {
        assertArrayEquals(io.get("grid_linear_5").toFloatArray(), TimeGrid.linspace(0, 1, 5));
        assertArrayEquals(io.get("grid_vp_7").toFloatArray(), TimeGrid.linspace(0, 1 - 1e-3, 7));
        assertArrayEquals(io.get("grid_sde_10").toFloatArray(), TimeGrid.linspace(0, 0.96, 10));
    }
}
