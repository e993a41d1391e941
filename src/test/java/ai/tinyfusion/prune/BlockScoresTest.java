package ai.tinyfusion.prune;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import ai.tinyfusion.OneThread;
import ai.tinyfusion.diffusion.transport.TransportObjective;
import ai.tinyfusion.model.dit.DiT;
import ai.tinyfusion.model.dit.LayerSubset;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The score-based methods on planted models: 6-block DiTs whose blocks at one parity are exact identities
 * (zero adaLN modulation, so both residual gates are 0) and whose other blocks are real.
 */
@ExtendWith(OneThread.class)
class BlockScoresTest {
    @Test
    void blockInfluenceAndFluxLiteScoreIdentityBlocksAsRemovable() throws Exception {
        CalibrationSet cal = Tiny.calibration(40, 16, 3); // batches of 16, 16, 8
        try (NDManager m = NDManager.newBaseManager()) {
            DiT real = Tiny.randomModel(m, 3, 21);
            DiT odd = Tiny.interleave(m, real, 1); // identities at 0, 2, 4
            BlockInfluence.Scores s = BlockInfluence.compute(odd, cal);
            for (int l = 0; l < 6; l++) {
                if (l % 2 == 0) {
                    assertEquals(0.0, s.blockInfluence()[l], 1e-6, "BI of identity block " + l);
                    assertEquals(0.0, s.meanSquaredChange()[l], 0.0, "flux-lite of identity block " + l);
                } else {
                    assertTrue(
                            s.blockInfluence()[l] > 1e-4,
                            "BI of block " + l + ": " + Arrays.toString(s.blockInfluence()));
                    assertTrue(s.meanSquaredChange()[l] > 1e-6, "MSD of block " + l);
                }
            }
            BaselinePruning.Request bi =
                    new BaselinePruning.Request(BaselinePruning.Method.BI, Target.depth(3, 6), null, null, 0);
            DecisionRecord r = BaselinePruning.decide(odd, bi, cal, source(6));
            assertArrayEquals(new int[] {1, 3, 5}, r.kept());
            assertArrayEquals(s.blockInfluence(), r.layerScores());
            assertEquals(
                    40,
                    r.details().getAsJsonObject("calibration").get("samples").getAsInt());
            assertEquals(
                    16, r.details().getAsJsonObject("calibration").get("batch").getAsInt());

            // Identities at 1, 3, 5: flux-lite keeps 0, 2, 4; BI keeps the last block whatever its score.
            DiT even = Tiny.interleave(m, real, 0);
            BaselinePruning.Request flux = new BaselinePruning.Request(
                    BaselinePruning.Method.FLUX_LITE, Target.of(null, "1:2", 6), null, null, 0);
            DecisionRecord f = BaselinePruning.decide(even, flux, cal, source(6));
            assertArrayEquals(new int[] {0, 2, 4}, f.kept());
            assertEquals("1:2", f.pattern());
            DecisionRecord b = BaselinePruning.decide(even, bi, cal, source(6));
            assertEquals(5, b.kept()[2], "the last block is never removed: " + Arrays.toString(b.kept()));
            assertTrue(Arrays.stream(b.kept()).limit(2).allMatch(l -> l % 2 == 0), Arrays.toString(b.kept()));
            assertEquals(0.0, b.layerScores()[5], 1e-6);
        }
    }

    @Test
    void subsetLossesMatchThePrunedModelsLoss() throws Exception {
        subsetLossesMatchThePrunedModelsLoss(Tiny.calibration(24, 10, 4));
    }

    /** The same under SiT's objective: continuous t, the interpolant x_t and the velocity loss. */
    @Test
    void subsetLossesMatchThePrunedModelsLossUnderSiT() throws Exception {
        CalibrationSet cal = Tiny.calibration(24, 10, 4, TransportObjective.standard());
        CalibrationSet ddpm = Tiny.calibration(24, 10, 4);
        try (NDManager m = NDManager.newBaseManager()) {
            // The set's draws: float times inside (0, 1) in the bins of the DDPM set's timesteps.
            cal.forEachBatch(m, (b, scope) -> {
                assertEquals(ai.djl.ndarray.types.DataType.FLOAT32, b.t().getDataType());
                float[] t = b.t().toFloatArray();
                for (float v : t) {
                    assertTrue(v > 0 && v < 1, "t " + v);
                }
            });
            long[][] k = new long[ddpm.batches()][];
            ddpm.forEachBatch(m, (b, scope) -> k[b.index()] = b.t().toLongArray());
            cal.forEachBatch(m, (b, scope) -> {
                float[] t = b.t().toFloatArray();
                for (int i = 0; i < t.length; i++) {
                    assertEquals(k[b.index()][i], (long) Math.floor(t[i] * 1000), "bin of sample " + i);
                }
            });
        }
        subsetLossesMatchThePrunedModelsLoss(cal);
        assertTrue(
                cal.describe()
                        .getAsJsonObject("objective")
                        .get("name")
                        .getAsString()
                        .equals("sit"),
                cal.describe().toString());
    }

    private static void subsetLossesMatchThePrunedModelsLoss(CalibrationSet cal) throws Exception {
        try (NDManager m = NDManager.newBaseManager()) {
            DiT model = Tiny.randomModel(m, 4, 8);
            List<int[]> subsets = List.of(
                    new int[] {0, 1, 2, 3},
                    new int[] {1, 3},
                    new int[] {0, 2},
                    new int[] {0, 1, 3},
                    new int[] {3},
                    new int[] {0, 2});
            SubsetLosses.Result r = SubsetLosses.compute(model, cal, subsets);
            for (int i = 0; i < subsets.size(); i++) {
                double direct = directLoss(model, subsets.get(i), cal);
                assertEquals(direct, r.losses()[i], 1e-5 * direct, "subset " + Arrays.toString(subsets.get(i)));
            }
            assertEquals(r.losses()[2], r.losses()[5], 0.0, "the same subset twice");
            // Visited as 0123, 013, 02, 02, 13, 3, recomputing from the first layer where the masks differ:
            // 4 + 1 (layer 3) + 1 (layer 2) + 0 + 2 + 1 = 9 evaluations per batch instead of 14.
            assertEquals(3 * 9, r.blockEvaluations());
            assertEquals(3 * 14, r.naiveBlockEvaluations());
        }
    }

    /** The training loss of LayerSubset.keep(model, kept) on the calibration set, the plain way. */
    private static double directLoss(DiT model, int[] kept, CalibrationSet cal) throws Exception {
        double[] sum = {0};
        try (NDManager km = model.manager().newSubManager()) {
            DiT pruned = LayerSubset.keep(model, kept, km);
            cal.forEachBatch(km, (b, scope) -> {
                pruned.useIn(scope);
                sum[0] += cal.objective()
                        .losses((x, t, y) -> pruned.forward(x, t, y), b.x0(), b.y(), b.draw())
                        .get("loss")
                        .sum()
                        .getFloat();
            });
        }
        return sum[0] / cal.size();
    }

    @Test
    void sensitivityRanksIdentityBlocksLeast(@TempDir Path dir) throws Exception {
        CalibrationSet cal = Tiny.calibration(64, 32, 5);
        try (NDManager m = NDManager.newBaseManager()) {
            DiT trained = Tiny.pretrained(m, 3, 120, dir.resolve("pretrain"));
            DiT even = Tiny.interleave(m, trained, 0); // identities at 1, 3, 5
            Sensitivity.Result s = Sensitivity.compute(even, cal);
            for (int l = 1; l < 6; l += 2) {
                assertEquals(0.0, s.increase()[l], 0.0, "removing identity block " + l + " changes nothing");
            }
            for (int l = 0; l < 6; l += 2) {
                assertTrue(
                        s.increase()[l] > 0.05 * s.fullLoss(),
                        "removing block " + l + ": " + Arrays.toString(s.increase()) + " over " + s.fullLoss());
            }
            assertEquals(6 * 7 / 2 * cal.batches(), s.work().blockEvaluations()); // L(L+1)/2 per batch
            DecisionRecord r = BaselinePruning.decide(
                    even,
                    new BaselinePruning.Request(BaselinePruning.Method.SENSITIVITY, Target.depth(3, 6), null, null, 0),
                    cal,
                    source(6));
            assertArrayEquals(new int[] {0, 2, 4}, r.kept());
            assertArrayEquals(s.increase(), r.layerScores());
            assertEquals(s.fullLoss(), r.details().get("full_loss").getAsDouble(), 0.0);
        }
    }

    static DecisionRecord.Source source(int depth) {
        return new DecisionRecord.Source(null, null, "planted test model", depth);
    }
}
