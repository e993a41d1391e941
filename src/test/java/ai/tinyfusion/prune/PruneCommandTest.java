package ai.tinyfusion.prune;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDManager;
import ai.tinyfusion.cli.Main;
import ai.tinyfusion.io.FileHashes;
import ai.tinyfusion.io.ModelFiles;
import ai.tinyfusion.model.DiT;
import ai.tinyfusion.model.DiTConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

@ExtendWith(OneThread.class)
class PruneCommandTest {
    private static int run(StringWriter err, String... args) {
        CommandLine cl = new CommandLine(new Main());
        cl.setErr(new PrintWriter(err, true));
        cl.setExecutionExceptionHandler((ex, cmd, parsed) -> {
            cmd.getErr().println("error: " + ex.getMessage());
            return 1;
        });
        return cl.execute(args);
    }

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
        String[] args = {"prune", "--method", "learned", "--model", model.toString(), "--data", dir.resolve("data").toString(),
            "--pattern", "1:2", "--out", out.toString(), "--steps", "4", "--batch", "4", "--lora-rank", "2",
            "--tau", "4:0.1", "--scaling", "100", "--decision-every", "2", "--ckpt-every", "2", "--seed", "3", "--no-progress"};
        StringWriter err = new StringWriter();
        assertEquals(0, run(err, args), err.toString());

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
            assertEquals(src.stateDict().get("blocks." + rec.kept()[1] + ".mlp.fc1.weight"), pruned.stateDict().get("blocks.1.mlp.fc1.weight"));
        }
        Path runDir = dir.resolve("out/d2.safetensors.run");
        for (String f : new String[] {"decisions.csv", "decisions.png", "metrics.csv", "loss.png", "command.txt",
            "checkpoints/step-0000004.safetensors"}) {
            assertTrue(Files.exists(runDir.resolve(f)), f);
        }
        assertEquals(3, DecisionLog.read(runDir.resolve("decisions.csv")).size()); // steps 0, 2, 4

        // Resuming the finished run continues from its last checkpoint and decides the same.
        assertEquals(0, run(err, append(args, "--resume")), err.toString());
        assertArrayEquals(rec.kept(), PrunedModels.readRecord(out).kept());
        assertEquals(3, DecisionLog.read(runDir.resolve("decisions.csv")).size());

        // Full weight update: the search trains every weight, the pruned model still takes the source's.
        Path full = dir.resolve("out/full.safetensors");
        String[] fullArgs = replace(replace(args, out.toString(), full.toString()), "4", "2"); // 2 steps of batch 2
        fullArgs = append(append(fullArgs, "--delta"), "full");
        assertEquals(0, run(err, fullArgs), err.toString());
        DecisionRecord fr = PrunedModels.readRecord(full);
        assertEquals("full", fr.learned().delta());
        assertEquals(2, fr.learned().steps());
        assertTrue(fr.learned().trainableShare() > 0.9, "all weights but pos_embed: " + fr.learned().trainableShare());
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
        assertEquals(1, run(err, replace(args, "1:2", "1:3")));
        assertTrue(err.toString().contains("M=3 does not divide the depth 4"), err.toString());
        assertEquals(1, run(err, replace(args, "learned", "magic")));
        assertTrue(err.toString().contains("unknown pruning method 'magic'"), err.toString());
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
