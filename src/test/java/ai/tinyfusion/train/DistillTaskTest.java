package ai.tinyfusion.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import ai.tinyfusion.OneThread;
import ai.tinyfusion.data.Dataset;
import ai.tinyfusion.diffusion.DiffusionFactory;
import ai.tinyfusion.diffusion.GaussianDiffusion;
import ai.tinyfusion.diffusion.TrainingLosses;
import ai.tinyfusion.model.dit.DiT;
import ai.tinyfusion.model.dit.LayerSubset;
import ai.tinyfusion.prune.Tiny;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** The distillation task on tiny DiTs: shared draws, frozen teacher, the loss composition, divergence reports. */
@ExtendWith(OneThread.class)
class DistillTaskTest {
    private static final GaussianDiffusion DIFFUSION = DiffusionFactory.create("");

    private static DistillTask.Settings masked(LayerMap map) {
        return new DistillTask.Settings(KdMode.MASKED, 0.9, 0.1, 1e-2, 2, map, 0, null);
    }

    private static DiT copy(NDManager m, DiT source) {
        DiT d = new DiT(m, source.config(), false);
        d.loadStateDict(source.stateDict(), true);
        return d;
    }

    /** Four images of {@link Tiny#data} and their labels. */
    private static NDArray[] batch(NDManager m) {
        Dataset data = Tiny.data(4);
        float[] x = new float[4 * 64];
        long[] y = new long[4];
        for (int i = 0; i < 4; i++) {
            System.arraycopy(data.get(i, false).image(), 0, x, 64 * i, 64);
            y[i] = data.get(i, false).label();
        }
        return new NDArray[] {m.create(x, new Shape(4, 1, 8, 8)).duplicate(), m.create(y)};
    }

    private static DiffusionTask.Draw draw(NDManager m, long[] t, long[] drop, int seed) {
        Engine.getInstance().setRandomSeed(seed);
        return new DiffusionTask.Draw(m.create(t), m.randomNormal(new Shape(4, 1, 8, 8)), m.create(drop));
    }

    private static float term(TrainTask.StepLoss l, String name) {
        return l.terms().get(name).getFloat();
    }

    @Test
    void studentIdenticalToItsTeacherHasZeroKdAndRepresentationLoss() {
        try (NDManager m = NDManager.newBaseManager()) {
            DiT teacher = Tiny.randomModel(m, 4, 3);
            DiT student = copy(m, teacher);
            DistillTask task = new DistillTask(student, teacher, DIFFUSION, masked(LayerMap.identity(4)));
            NDArray[] xy = batch(m);
            long[] drops = {1, 0, 1, 0};
            DiffusionTask.Draw d = draw(m, new long[] {1, 300, 999, 17}, drops, 1);
            TrainTask.StepLoss l = task.loss(xy[0], xy[1], d, m);
            assertEquals(0f, term(l, "kd_mse"));
            assertEquals(0f, term(l, "kd_vb"), 1e-6f);
            assertEquals(0f, term(l, "rep"));
            // L_GT is the student's diffusion loss on the same draw; the total is 0.9·0 + 0.1·L_GT + β·0.
            TrainingLosses gt = DIFFUSION.trainingLosses(
                    (x, t, y) -> student.forward(x, t, y, new DiT.Options().forceDrop(d.dropIds())),
                    xy[0],
                    d.t(),
                    xy[1],
                    d.noise());
            assertEquals(gt.loss().mean().getFloat(), term(l, "gt"), 1e-6f);
            assertEquals(0.1f * term(l, "gt"), l.loss().getFloat(), 1e-6f);
            assertEquals(0.01f, term(l, "beta"), 1e-9f);
            // The zero is not an accident of unused drops: the drops change the output.
            NDArray xt = m.randomNormal(new Shape(4, 1, 8, 8));
            NDArray dropped = student.forward(xt, d.t(), xy[1], new DiT.Options().forceDrop(d.dropIds()));
            NDArray kept = student.forward(
                    xt,
                    d.t(),
                    xy[1],
                    new DiT.Options()
                            .forceDrop(m.zeros(new Shape(4)).toType(ai.djl.ndarray.types.DataType.INT64, false)));
            assertTrue(dropped.sub(kept).abs().max().getFloat() > 1e-4);

            // At t = 0 the variance-head term is the student's decoder NLL, as the VB term of L_GT.
            DiffusionTask.Draw d0 = draw(m, new long[] {0, 0, 0, 0}, drops, 2);
            TrainTask.StepLoss l0 = task.loss(xy[0], xy[1], d0, m);
            TrainingLosses gt0 = DIFFUSION.trainingLosses(
                    (x, t, y) -> student.forward(x, t, y, new DiT.Options().forceDrop(d0.dropIds())),
                    xy[0],
                    d0.t(),
                    xy[1],
                    d0.noise());
            assertEquals(gt0.vb().mean().getFloat(), term(l0, "kd_vb"), 1e-5f * Math.abs(term(l0, "kd_vb")));
            assertTrue(term(l0, "kd_vb") > 0);
        }
    }

    @Test
    void prunedStudentLossComposesTheTerms() {
        try (NDManager m = NDManager.newBaseManager()) {
            DiT teacher = Tiny.randomModel(m, 4, 3);
            DiT student = LayerSubset.keep(teacher, new int[] {1, 2}, m);
            LayerMap map = LayerMap.blockEnds(new int[] {2, 4}, new int[] {1, 2}); // the blocks of 1:2 on 4 layers
            NDArray[] xy = batch(m);
            DiffusionTask.Draw d = draw(m, new long[] {5, 300, 999, 17}, new long[] {0, 0, 1, 0}, 1);
            for (KdMode mode : new KdMode[] {KdMode.LOGITS, KdMode.REP, KdMode.MASKED}) {
                DistillTask task = new DistillTask(
                        student,
                        teacher,
                        DIFFUSION,
                        new DistillTask.Settings(mode, 0.9, 0.1, 0.5, 2, mode == KdMode.LOGITS ? null : map, 0, null));
                TrainTask.StepLoss l = task.loss(xy[0], xy[1], d, m);
                assertTrue(term(l, "kd_mse") > 0 && term(l, "kd_vb") > 0, mode.toString());
                assertEquals(term(l, "kd_mse") + term(l, "kd_vb"), term(l, "kd"), 1e-5f);
                double rep = mode == KdMode.LOGITS ? 0 : term(l, "rep");
                assertEquals(mode == KdMode.LOGITS, !l.terms().containsKey("rep"));
                assertEquals(
                        0.9 * term(l, "kd") + 0.1 * term(l, "gt") + 0.5 * rep,
                        l.loss().getFloat(),
                        1e-5);
                if (mode != KdMode.LOGITS) {
                    assertTrue(rep > 0, mode.toString());
                }
            }
        }
    }

    @Test
    void teacherStaysFrozenAndGetsNoGradient() {
        try (NDManager m = NDManager.newBaseManager()) {
            DiT teacher = Tiny.randomModel(m, 4, 3);
            DiT student = LayerSubset.keep(teacher, new int[] {0, 3}, m);
            DistillTask task =
                    new DistillTask(student, teacher, DIFFUSION, masked(LayerMap.segments(new int[] {0, 3}, 4)));
            assertTrue(teacher.namedParameters().values().stream().noneMatch(p -> p.trainable()));
            LinkedHashMap<String, NDArray> trainable = task.trainable();
            trainable.values().forEach(p -> p.setRequiresGradient(true));
            NDArray[] xy = batch(m);
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                gc.backward(
                        task.loss(xy[0], xy[1], draw(m, new long[] {3, 30, 300, 900}, new long[] {0, 1, 0, 0}, 4), m)
                                .loss());
            }
            double studentGrad = 0;
            for (NDArray p : trainable.values()) {
                studentGrad += p.getGradient().abs().sum().getFloat();
            }
            assertTrue(studentGrad > 0);
            for (Map.Entry<String, NDArray> e : teacher.stateDict().entrySet()) {
                assertFalse(e.getValue().hasGradient(), e.getKey());
            }
        }
    }

    @Test
    void betaDecaysLinearlyToZeroAtTheLastStep() {
        assertEquals(0.01, DistillTask.betaAt(0.01, 0, 5));
        assertEquals(0.005, DistillTask.betaAt(0.01, 2, 5), 1e-15);
        assertEquals(0.0, DistillTask.betaAt(0.01, 4, 5));
        assertEquals(0.01, DistillTask.betaAt(0.01, 0, 1));
    }

    @Test
    void divergenceReportNamesTheTermThatBlewUp(@TempDir Path dir) throws Exception {
        try (NDManager m = NDManager.newBaseManager()) {
            DiT teacher = Tiny.randomModel(m, 4, 3);
            DiT student = LayerSubset.keep(teacher, new int[] {1, 3}, m);
            // A teacher whose output layer holds a NaN: every KD term is NaN, L_GT and L_Rep are not.
            NDArray w = teacher.stateDict().get("final_layer.linear.weight");
            teacher.namedParameters().get("final_layer.linear.weight").set(w.add(Float.NaN));
            DistillTask task = new DistillTask(student, teacher, DIFFUSION, masked(LayerMap.parse("0:1,1:3")));
            TrainLoop.Settings s = new TrainLoop.Settings(2, LrSchedule.constant(1e-3), 1.0, 0.9, 0, 1, 1, 5, false);
            TrainLoop.Result r = new TrainLoop(task, Tiny.batcher(Tiny.data(16), 4, 1), s, dir).run(null);
            assertEquals(2, r.skippedNonFinite());
            String log = Files.readString(dir.resolve("train.log"));
            assertTrue(log.contains("step 0: loss NaN (non-finite: kd, kd_mse, kd_vb; kd=NaN"), log);
            assertFalse(log.contains("non-finite: kd, kd_mse, kd_vb, gt"), log);
        }
        assertEquals("no non-finite term; gt=1.0", TrainLoop.describeTerms(Map.of("loss", 1.0, "gt", 1.0)));
        assertNotEquals(
                -1,
                TrainLoop.describeTerms(Map.of("rep", Double.POSITIVE_INFINITY)).indexOf("non-finite: rep"));
    }
}
