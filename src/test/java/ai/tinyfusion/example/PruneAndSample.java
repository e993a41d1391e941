package ai.tinyfusion.example;

import ai.djl.ndarray.NDManager;
import ai.tinyfusion.diffusion.Sampler;
import ai.tinyfusion.eval.ImageGrid;
import ai.tinyfusion.model.dit.DiT;
import ai.tinyfusion.model.dit.ModelFiles;
import ai.tinyfusion.prune.DecisionRecord;
import ai.tinyfusion.prune.PrunedModels;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Prunes the shipped teacher with a decision record, samples the pruned model with CFG, saves a grid. */
public final class PruneAndSample {
    public static void main(String[] args) throws IOException {
        run(
                Path.of("models/dit-f28.safetensors"),
                Path.of("docs/results/learned-1x2-lora.safetensors.decision.json"),
                Path.of("out/example"));
    }

    static DiT run(Path teacher, Path decision, Path out) throws IOException {
        Files.createDirectories(out);
        try (NDManager manager = NDManager.newBaseManager()) {
            // A checkpoint (.pt, .safetensors, sharded); a preset: new DiT(manager, DiTConfig.preset("DiT-F28")).
            DiT source = ModelFiles.load(teacher, manager, null);
            // The layers to keep: here the learned 1:2 search's record (14 of 28 layers).
            DecisionRecord record = PrunedModels.readRecord(decision);
            PrunedModels.Saved saved = PrunedModels.save(source, record, out.resolve("pruned.safetensors"));
            DiT pruned = ModelFiles.load(saved.model(), manager, null);

            // DDIM 50 steps, classifier-free guidance 4, eta 0, x0 clipped (a pixel model).
            Sampler.Settings settings = new Sampler.Settings(
                    "ddim", 50, 4.0, Sampler.Settings.originalGuidedChannels(pruned.config()), 0.0, true);
            long[] labels = Sampler.uniformLabels(20, pruned.config().numClasses());
            byte[] images = new Sampler(pruned, settings).generateUint8(manager, labels, 20, 0, null);
            int size = pruned.config().inputSize();
            ImageGrid.write(out.resolve("grid.png"), images, labels.length, size, size, 1, null, 10, 3);
            return pruned;
        }
    }
}
