package ai.tinyfusion.prune;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDManager;
import ai.tinyfusion.OneThread;
import ai.tinyfusion.cli.CliRun;
import ai.tinyfusion.io.FileHashes;
import ai.tinyfusion.model.dit.DiT;
import ai.tinyfusion.model.dit.DiTConfig;
import ai.tinyfusion.model.dit.ModelFiles;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

@ExtendWith(OneThread.class)
class PruneCommandTest {
    @Test
    void learnedPruneWritesModelRecordAndPlotAndResumes(@TempDir Path dir) throws Exception {
        // A 1000-class tiny DiT (the latent-folder data set has ImageNet's class count) and 32 latents.
        DiTConfig c = new DiTConfig(8, 2, 1, 32, 4, 2, 4.0, 1000, true, 0.1);
        Path model = dir.resolve("src.safetensors");
        try (NDManager m = NDManager.newBaseManager()) {
            Engine.getInstance().setRandomSeed(2);
            ModelFiles.save(new DiT(m, c), model, Map.of());
        }
        Tiny.latentFolder(dir.resolve("data"), 32);
        Path out = dir.resolve("out/d2.safetensors");
        String[] args = {
            "prune",
            "--method",
            "learned",
            "--model",
            model.toString(),
            "--data",
            dir.resolve("data").toString(),
            "--pattern",
            "1:2",
            "--out",
            out.toString(),
            "--steps",
            "4",
            "--batch",
            "4",
            "--lora-rank",
            "2",
            "--tau",
            "4:0.1",
            "--scaling",
            "100",
            "--decision-every",
            "2",
            "--ckpt-every",
            "2",
            "--seed",
            "3",
            "--no-progress"
        };
        StringWriter err = new StringWriter();
        assertEquals(0, CliRun.run(err, args), err.toString());

        DecisionRecord rec = PrunedModels.readRecord(out);
        assertEquals("learned", rec.method());
        assertEquals(model.toString(), rec.source().path());
        assertEquals(FileHashes.sha256(model), rec.source().sha256());
        assertEquals(2, rec.prunedDepth());
        assertEquals("1:2", rec.pattern());
        assertEquals(4, rec.learned().steps());
        assertEquals(4, rec.learned().batchSize());
        assertEquals("lora", rec.learned().delta());
        assertEquals(2, rec.learned().loraRank());
        assertEquals(4.0, rec.learned().loraAlpha()); // 2 × rank by default
        assertArrayEquals(new double[] {100, 100}, rec.learned().scaling());
        assertEquals(4, rec.layerScores().length);
        assertEquals(3L, rec.seed());
        try (NDManager m = NDManager.newBaseManager()) {
            DiT pruned = ModelFiles.load(out, m, null);
            assertEquals(2, pruned.depth());
            DiT src = ModelFiles.load(model, m, null);
            assertEquals(
                    src.stateDict().get("blocks." + rec.kept()[1] + ".mlp.fc1.weight"),
                    pruned.stateDict().get("blocks.1.mlp.fc1.weight"));
        }
        Path runDir = dir.resolve("out/d2.safetensors.run");
        for (String f : new String[] {
            "decisions.csv",
            "decisions.png",
            "metrics.csv",
            "loss.png",
            "command.txt",
            "checkpoints/step-0000004.safetensors"
        }) {
            assertTrue(Files.exists(runDir.resolve(f)), f);
        }
        assertEquals(3, DecisionLog.read(runDir.resolve("decisions.csv")).size()); // steps 0, 2, 4

        // Resuming the finished run continues from its last checkpoint and decides the same.
        assertEquals(0, CliRun.run(err, append(args, "--resume")), err.toString());
        assertArrayEquals(rec.kept(), PrunedModels.readRecord(out).kept());
        assertEquals(3, DecisionLog.read(runDir.resolve("decisions.csv")).size());

        // Full weight update: the search trains every weight, the pruned model still takes the source's.
        Path full = dir.resolve("out/full.safetensors");
        String[] fullArgs = replace(replace(args, out.toString(), full.toString()), "4", "2"); // 2 steps of batch 2
        fullArgs = append(append(fullArgs, "--delta"), "full");
        assertEquals(0, CliRun.run(err, fullArgs), err.toString());
        DecisionRecord fr = PrunedModels.readRecord(full);
        assertEquals("full", fr.learned().delta());
        assertEquals(2, fr.learned().steps());
        assertTrue(
                fr.learned().trainableShare() > 0.9,
                "all weights but pos_embed: " + fr.learned().trainableShare());
        Map<String, ai.tinyfusion.io.HostTensor> ckpt = ai.tinyfusion.io.StateDicts.load(
                dir.resolve("out/full.safetensors.run/checkpoints/step-0000002.safetensors"));
        try (NDManager m = NDManager.newBaseManager()) {
            DiT src = ModelFiles.load(model, m, null);
            DiT pruned = ModelFiles.load(full, m, null);
            // (The source has the original zero-initialised output layer and adaLN, so the first steps move
            // the output projection; the blocks only get gradients once those are non-zero.)
            for (String k : new String[] {"final_layer.linear.weight", "final_layer.adaLN_modulation.1.weight"}) {
                ai.djl.ndarray.NDArray trained = ckpt.get("state." + k).toNDArray(m);
                assertTrue(trained.sub(src.stateDict().get(k)).abs().max().getFloat() > 0, "the search changed " + k);
                assertEquals(src.stateDict().get(k), pruned.stateDict().get(k), k + " is the source's");
            }
            String b = "blocks." + fr.kept()[1] + ".attn.qkv.weight";
            assertEquals(src.stateDict().get(b), pruned.stateDict().get("blocks.1.attn.qkv.weight"));
        }

        // Errors name the problem.
        assertEquals(1, CliRun.run(err, replace(args, "1:2", "1:3")));
        assertTrue(err.toString().contains("M=3 does not divide the depth 4"), err.toString());
        assertEquals(1, CliRun.run(err, replace(args, "learned", "magic")));
        assertTrue(err.toString().contains("unknown pruning method 'magic'"), err.toString());
    }

    @Test
    void baselineMethodsWriteModelsAndRecords(@TempDir Path dir) throws Exception {
        DiTConfig c = new DiTConfig(8, 2, 1, 32, 6, 2, 4.0, 1000, true, 0.1); // latent folders carry 1,000 classes
        Path model = dir.resolve("src.safetensors");
        try (NDManager m = NDManager.newBaseManager()) {
            ModelFiles.save(Tiny.randomModel(m, 3, 5), dir.resolve("unused.safetensors"), Map.of()); // (4 classes)
            Engine.getInstance().setRandomSeed(6);
            ModelFiles.save(new DiT(m, c), model, Map.of());
        }
        Path data = Tiny.latentFolder(dir.resolve("data"), 24);
        String[] common = {
            "-m",
            model.toString(),
            "--data",
            data.toString(),
            "--calib-samples",
            "20",
            "--calib-batch",
            "8",
            "--calib-seed",
            "3"
        };
        Object[][] cases = {
            {"bi", new String[] {"--depth", "3"}, null},
            {"flux-lite", new String[] {"--pattern", "1:2"}, null},
            {"sensitivity", new String[] {"--depth", "4"}, null},
            {"oracle", new String[] {"--depth", "3"}, new int[] {0, 2, 5}},
            {"indices", new String[] {"--keep-layers", "1,4,5"}, new int[] {1, 4, 5}},
            {"indices", new String[] {"--drop-layers", "0,3", "--depth", "4"}, new int[] {1, 2, 4, 5}},
            {"random", new String[] {"--pattern", "2:3", "--seed", "4"}, null},
            {"first", new String[] {"--depth", "2"}, new int[] {0, 1}},
            {"last", new String[] {"--depth", "2"}, new int[] {4, 5}},
            {"uniform", new String[] {"--depth", "3"}, new int[] {0, 2, 4}},
        };
        StringWriter err = new StringWriter();
        for (Object[] k : cases) {
            String method = (String) k[0];
            Path out = dir.resolve(
                    "out/" + method + "-" + String.join("", (String[]) k[1]).replace(",", "_") + ".safetensors");
            String[] args = concat(
                    new String[] {"prune", "--method", method, "--out", out.toString()}, common, (String[]) k[1]);
            assertEquals(0, CliRun.run(err, args), method + ": " + err);
            DecisionRecord rec = PrunedModels.readRecord(out);
            assertEquals(method, rec.method());
            assertEquals(FileHashes.sha256(model), rec.source().sha256());
            if (k[2] != null) {
                assertArrayEquals((int[]) k[2], rec.kept(), method);
            }
            boolean scored = method.equals("bi") || method.equals("flux-lite") || method.equals("sensitivity");
            assertEquals(scored, rec.layerScores() != null, method);
            if (scored) {
                assertEquals(6, rec.layerScores().length);
                assertTrue(rec.layerScoreMeaning() != null
                        && !rec.layerScoreMeaning().isBlank());
                var cal = rec.details().getAsJsonObject("calibration");
                assertEquals(20, cal.get("samples").getAsInt());
                assertEquals(8, cal.get("batch").getAsInt());
                assertEquals(3, cal.get("seed").getAsLong());
            }
            if (method.equals("bi")) {
                assertEquals(5, rec.kept()[rec.kept().length - 1], "BI keeps the last block");
            }
            if (method.equals("random")) {
                assertEquals(4L, rec.seed());
                Target.of(null, "2:3", 6).check(rec.kept());
            }
            if (method.equals("flux-lite")) {
                assertEquals("1:2", rec.pattern());
                Target.of(null, "1:2", 6).check(rec.kept());
            }
            try (NDManager m = NDManager.newBaseManager()) {
                DiT pruned = ModelFiles.load(out, m, null);
                assertEquals(rec.kept().length, pruned.depth());
                DiT src = ModelFiles.load(model, m, null);
                int lastKept = rec.kept()[rec.kept().length - 1];
                assertEquals(
                        src.stateDict().get("blocks." + lastKept + ".attn.qkv.weight"),
                        pruned.stateDict().get("blocks." + (pruned.depth() - 1) + ".attn.qkv.weight"));
            }
        }
        // Same seed, same random choice; same calibration seed, same scores.
        int[][] kept = new int[2][];
        double[][] scores = new double[2][];
        for (int i = 0; i < 2; i++) {
            Path o = dir.resolve("again/r" + i + ".safetensors");
            assertEquals(
                    0,
                    CliRun.run(
                            err,
                            concat(
                                    new String[] {
                                        "prune",
                                        "--method",
                                        "random",
                                        "--depth",
                                        "3",
                                        "--seed",
                                        "8",
                                        "--out",
                                        o.toString()
                                    },
                                    common)),
                    err.toString());
            kept[i] = PrunedModels.readRecord(o).kept();
            Path b = dir.resolve("again/bi" + i + ".safetensors");
            assertEquals(
                    0,
                    CliRun.run(
                            err,
                            concat(
                                    new String[] {"prune", "--method", "bi", "--depth", "3", "--out", b.toString()},
                                    common)),
                    err.toString());
            scores[i] = PrunedModels.readRecord(b).layerScores();
        }
        assertArrayEquals(kept[0], kept[1]);
        assertArrayEquals(scores[0], scores[1]);

        // Bad targets are refused with the problem named.
        Path bad = dir.resolve("out/bad.safetensors");
        String[][] errors = {
            {"bi", "--depth", "0"}, {"--depth 0: keep at least 1 layer"},
            {"first", "--depth", "7"}, {"--depth 7: the model has only 6 layers"},
            {"bi", "--pattern", "1:4"}, {"M=4 does not divide the depth 6"},
            {"last", "--pattern", "1:2,1:2"}, {"add up to 4, but the model has 6 layers"},
            {"uniform", "--pattern", "1:2", "--depth", "2"}, {"keeps 3 of the 6 layers, but --depth is 2"},
            {"oracle", "--depth", "2"}, {"ratio 1:2 only"},
            {"random"}, {"no target: give --depth K"},
            {"indices", "--keep-layers", "0,9"}, {"layer 9 is outside 0..5"},
            {"indices", "--keep-layers", "0,1", "--depth", "3"}, {"keeps 2"},
            {"first", "--depth", "2", "--drop-layers", "1"}, {"belong to --method indices"},
            {"learned", "--depth", "3"}, {"--method learned needs --pattern"},
        };
        for (int i = 0; i < errors.length; i += 2) {
            String[] a = errors[i];
            String[] args = concat(
                    new String[] {"prune", "--method", a[0], "--out", bad.toString()},
                    common,
                    java.util.Arrays.copyOfRange(a, 1, a.length));
            StringWriter e = new StringWriter();
            assertEquals(1, CliRun.run(e, args), String.join(" ", a));
            assertTrue(e.toString().contains(errors[i + 1][0]), String.join(" ", a) + ": " + e);
        }
        assertTrue(!Files.exists(bad));
    }

    private static String[] concat(String[]... parts) {
        return java.util.Arrays.stream(parts).flatMap(java.util.Arrays::stream).toArray(String[]::new);
    }

    private static String[] append(String[] a, String extra) {
        String[] out = java.util.Arrays.copyOf(a, a.length + 1);
        out[a.length] = extra;
        return out;
    }

    private static String[] replace(String[] a, String from, String to) {
        String[] out = a.clone();
        for (int i = 0; i < out.length; i++) {
            if (out[i].equals(from)) {
                out[i] = to;
            }
        }
        return out;
    }
}
