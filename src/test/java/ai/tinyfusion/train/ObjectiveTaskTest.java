package ai.tinyfusion.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.tinyfusion.OneThread;
import ai.tinyfusion.data.Batcher;
import ai.tinyfusion.diffusion.DdpmObjective;
import ai.tinyfusion.diffusion.DiffusionFactory;
import ai.tinyfusion.diffusion.Objective;
import ai.tinyfusion.diffusion.Objectives;
import ai.tinyfusion.diffusion.transport.SiTNetwork;
import ai.tinyfusion.diffusion.transport.Transport;
import ai.tinyfusion.diffusion.transport.TransportObjective;
import ai.tinyfusion.model.dit.DiT;
import ai.tinyfusion.model.dit.DiTConfig;
import ai.tinyfusion.prune.Tiny;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** The objective seam of the training tasks: descriptions, SiT losses and KD terms against the transport itself. */
@ExtendWith(OneThread.class)
class ObjectiveTaskTest {
    private static final DiTConfig C = new DiTConfig(8, 2, 1, 32, 4, 2, 4.0, 10, true, 0.1);

    @Test
    void ddpmDescriptionIsTheOneWrittenBeforeObjectivesAndSitAddsItsSettings() {
        try (NDManager m = NDManager.newBaseManager()) {
            DiT model = new DiT(m, C);
            String ddpm = new DiffusionTask(model, DiffusionFactory.create(""), 0.5).describe();
            JsonObject legacy = new JsonObject();
            legacy.addProperty("task", "diffusion");
            legacy.add("config", JsonParser.parseString(C.toJson()));
            legacy.addProperty("num_timesteps", 1000);
            legacy.addProperty("weight_decay", 0.5);
            assertEquals(legacy.toString(), ddpm);
            assertEquals(ddpm, new DiffusionTask(model, DdpmObjective.standard(), 0.5).describe());
            assertEquals("ddpm (1000 steps)", Objectives.summaryOfTask(ddpm));

            TransportObjective vp = TransportObjective.create("VP", "noise", "likelihood", null, null);
            String sit = new DiffusionTask(model, vp, 0.5).describe();
            JsonObject o = JsonParser.parseString(sit).getAsJsonObject();
            assertFalse(o.has("num_timesteps"));
            assertEquals(vp.metadata(), o.get("objective"));
            assertEquals(vp.summary(), Objectives.summaryOfTask(sit));
            assertTrue(vp.summary()
                    .startsWith("sit (path VP, prediction noise, loss weight likelihood, train eps 1.0E-5"));
            assertNull(Objectives.summaryOfTask("{\"task\":\"classifier\"}"));
        }
    }

    @Test
    void metadataRoundTripsEverySetting() {
        List<Objective> all = List.of(
                DdpmObjective.standard(),
                TransportObjective.standard(),
                TransportObjective.create("VP", "noise", "likelihood", null, null),
                TransportObjective.create("GVP", "score", "velocity", 2e-3, 5e-3),
                TransportObjective.create("Linear", "noise", null, 1e-4, null)); // the original's null sample eps
        for (Objective o : all) {
            Objective back = Objectives.parse(o.metadata().toString());
            assertTrue(back.sameAs(o), o.summary() + " -> " + back.summary());
            assertEquals(o.summary(), back.summary());
        }
        for (Objective a : all) {
            for (Objective b : all) {
                assertEquals(a == b, a.sameAs(b), a.summary() + " vs " + b.summary());
            }
        }
        assertThrows(
                IllegalArgumentException.class, () -> TransportObjective.create("Linear", "velocty", null, null, null));
        assertThrows(IllegalArgumentException.class, () -> TransportObjective.create("linear", null, null, null, null));
        assertThrows(IllegalArgumentException.class, () -> TransportObjective.create(null, null, "likely", null, null));
        assertThrows(IllegalArgumentException.class, () -> Objectives.of("ddpm", "VP", null, null, null, null));
        assertThrows(IllegalArgumentException.class, () -> Objectives.parse("{\"name\":\"flow\"}"));
        assertThrows(IllegalArgumentException.class, () -> Objectives.parse("not json"));
    }

    @Test
    void sitStepLossIsTheTransportLossOfTheDiTsPredictionHalfOnTheDraw() {
        try (NDManager m = NDManager.newBaseManager()) {
            Engine.getInstance().setRandomSeed(5);
            DiT model = Tiny.randomizeModulation(new DiT(m, C));
            TransportObjective sit = TransportObjective.create("GVP", "velocity", null, null, null);
            DiffusionTask task = new DiffusionTask(model, sit, 0);
            Batcher.Batch batch = Tiny.batcher(Tiny.data(16), 8, 1).next(m);
            Engine.getInstance().setRandomSeed(11);
            TrainTask.StepLoss l = task.loss(batch, m);
            assertTrue(l.terms().isEmpty(), l.terms().keySet().toString());

            // The same draws by hand: x0, t, then the label drops (forced into SiT's forward).
            Engine.getInstance().setRandomSeed(11);
            Transport.Draw d = sit.transport().draw(m, batch.images().getShape());
            NDArray drop = m.randomUniform(0f, 1f, new Shape(8)).lt(0.1).toType(DataType.INT64, false);
            NDArray want = sit.transport()
                    .trainingLosses(
                            (x, t, y) -> SiTNetwork.firstHalf(
                                    model, model.forward(x, t, y, new DiT.Options().forceDrop(drop))),
                            batch.images(),
                            d.x0(),
                            d.t(),
                            batch.labels())
                    .loss()
                    .mean();
            assertEquals(want.getFloat(), l.loss().getFloat(), 0f);
        }
    }

    @Test
    void sitKdIsThePredictionMseAndZeroForAnIdenticalTeacher() {
        try (NDManager m = NDManager.newBaseManager()) {
            Engine.getInstance().setRandomSeed(6);
            DiT student = Tiny.randomizeModulation(new DiT(m, C));
            DiT teacher = Tiny.randomizeModulation(new DiT(m, C));
            TransportObjective sit = TransportObjective.standard();
            DistillTask.Settings s =
                    new DistillTask.Settings(KdMode.LOGITS, 0.9, 0.1, DistillTask.Settings.BETA_SIT, 2, null, 0, null);
            NDArray x = m.randomNormal(new Shape(4, 1, 8, 8));
            NDArray y = m.create(new long[] {1, 2, 3, 4});
            Objective.Draw d = sit.draw(m, x.getShape(), 0);
            TrainTask.StepLoss l = new DistillTask(student, teacher, sit, s).loss(x, y, d, m);
            assertEquals(List.of("kd", "gt"), List.copyOf(l.terms().keySet()));

            NDArray xt = sit.transport().plan().xt(d.t(), d.noise(), x);
            NDArray vs = SiTNetwork.of(student).apply(xt, d.t(), y);
            NDArray vt = SiTNetwork.of(teacher).apply(xt, d.t(), y);
            float kd = vs.sub(vt).square().mean().getFloat();
            assertEquals(kd, l.terms().get("kd").getFloat(), 1e-6f * Math.max(1, kd));
            float gt = sit.transport()
                    .trainingLosses(SiTNetwork.of(student), x, d.noise(), d.t(), y)
                    .loss()
                    .mean()
                    .getFloat();
            assertEquals(gt, l.terms().get("gt").getFloat(), 1e-6f * Math.max(1, gt));
            assertEquals(0.9 * kd + 0.1 * gt, l.loss().getFloat(), 1e-5 * Math.max(1, kd + gt));

            Map<String, NDArray> same = sit.kdLosses(vs, vs.duplicate(), x, xt, d);
            assertEquals(0f, same.get("kd").sum().getFloat());
            assertEquals(DistillTask.Settings.BETA_SIT, DistillTask.Settings.defaultBeta(sit));
            assertEquals(DistillTask.Settings.BETA, DistillTask.Settings.defaultBeta(DdpmObjective.standard()));
        }
    }
}
