package ai.tinyfusion.prune;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.tinyfusion.OneThread;
import ai.tinyfusion.data.Batcher;
import ai.tinyfusion.diffusion.DiffusionFactory;
import ai.tinyfusion.diffusion.GaussianDiffusion;
import ai.tinyfusion.model.dit.DiT;
import ai.tinyfusion.model.dit.LayerGate;
import ai.tinyfusion.train.DiffusionTask;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * A 6-block DiT whose blocks at one parity are exact identities and whose other blocks carry a
 * briefly trained 3-block model: the learnable 1:2 search must keep the trained ones.
 */
@ExtendWith(OneThread.class)
class PlantedSearchTest {
    /** The mean diffusion loss over fixed batches and draws, with the layers where keep[l] is false skipped. */
    static double loss(DiT model, boolean[] keep) {
        GaussianDiffusion diff = DiffusionFactory.create("");
        Batcher b = Tiny.batcher(Tiny.data(256), 64, 99);
        double sum = 0;
        for (int i = 0; i < 4; i++) {
            try (NDManager s = model.manager().newSubManager()) {
                model.useIn(s);
                Batcher.Batch batch = b.next(s);
                Engine.getInstance().setRandomSeed(300 + i);
                DiffusionTask.Draw d =
                        DiffusionTask.Draw.of(s, diff, batch.images().getShape(), batch.size(), 0.1);
                LayerGate g = layer -> keep[layer] ? null : s.zeros(new Shape(batch.size()));
                NDArray l = diff.trainingLosses(
                                (x, t, y) -> model.forward(
                                        x,
                                        t,
                                        y,
                                        new DiT.Options().forceDrop(d.dropIds()).gate(g)),
                                batch.images(),
                                d.t(),
                                batch.labels(),
                                d.noise())
                        .loss()
                        .mean();
                sum += l.getFloat();
            }
        }
        return sum / 4;
    }

    private static boolean[] keepOnly(int depth, int... layers) {
        boolean[] k = new boolean[depth];
        for (int l : layers) {
            k[l] = true;
        }
        return k;
    }

    @Test
    void learnedOneOfTwoFindsThePlantedBlocks(@TempDir Path dir) throws Exception {
        try (NDManager m = NDManager.newBaseManager()) {
            DiT trained = Tiny.pretrained(m, 3, 120, dir.resolve("pretrain"));

            // Trained blocks at 0, 2, 4; identities at 1, 3, 5.
            DiT even = Tiny.interleave(m, trained, 0);
            try (NDManager s = m.newSubManager()) {
                even.useIn(s);
                Engine.getInstance().setRandomSeed(5);
                NDArray x = s.randomNormal(new Shape(4, 1, 8, 8));
                DiT.Options o = new DiT.Options().capture(0, 1, 2, 3, 4, 5);
                even.forward(x, s.create(new long[] {0, 10, 500, 999}), s.create(new long[] {0, 1, 2, 3}), o);
                for (int odd = 1; odd < 6; odd += 2) {
                    assertEquals(o.hidden.get(odd - 1), o.hidden.get(odd), "block " + odd + " is not an identity");
                }
                assertTrue(o.hidden.get(2).sub(o.hidden.get(1)).abs().max().getFloat() > 1e-3, "block 2 does nothing");
            }
            double full = loss(even, keepOnly(6, 0, 1, 2, 3, 4, 5));
            double planted = loss(even, keepOnly(6, 0, 2, 4));
            assertEquals(full, planted, 0.0, "dropping the identities changes nothing");
            for (int[] other : new int[][] {{1, 2, 4}, {0, 3, 4}, {0, 2, 5}}) {
                double l = loss(even, keepOnly(6, other));
                assertTrue(l > 1.2 * planted, "keeping " + Arrays.toString(other) + " costs " + l + " vs " + planted);
            }

            LearnedPruning.Options opts = new LearnedPruning.Options()
                    .pattern("1:2")
                    .ema(0.98)
                    .seed(1)
                    .decisionEvery(20)
                    .checkpoints(0, 1);
            LearnedPruning.Outcome r = LearnedPruning.search(
                    even, Tiny.batcher(Tiny.data(256), 32, 2), 60, opts, dir.resolve("even"), null, null);
            assertArrayEquals(new int[] {0, 2, 4}, r.decision().kept());
            for (int l = 0; l < 6; l += 2) {
                assertTrue(
                        r.decision().layerKeepProbability()[l] > 0.8,
                        "p(keep " + l + ") = " + Arrays.toString(r.decision().layerKeepProbability()));
            }
            assertTrue(r.trainableShare() > 0 && r.trainableParameters() > 6, "LoRA + gates trainable");
            assertTrue(even.stateDict().keySet().stream().noneMatch(k -> k.contains("lora")), "adapters removed");

            // Mirrored: trained blocks at 1, 3, 5. The initial decision (ties → first candidate) is
            // 0, 2, 4, so this needs the gates to move; gates only (no weight update).
            DiT odd = Tiny.interleave(m, trained, 1);
            LearnedPruning.Outcome r2 = LearnedPruning.search(
                    odd,
                    Tiny.batcher(Tiny.data(256), 32, 2),
                    60,
                    opts.delta(DeltaMode.NONE),
                    dir.resolve("odd"),
                    null,
                    null);
            assertArrayEquals(new int[] {1, 3, 5}, r2.decision().kept());
            for (int l = 1; l < 6; l += 2) {
                assertTrue(
                        r2.decision().layerKeepProbability()[l] > 0.8,
                        "p(keep " + l + ") = " + Arrays.toString(r2.decision().layerKeepProbability()));
            }
            assertEquals(6, r2.trainableParameters()); // three blocks of 2 logits
        }
    }
}
