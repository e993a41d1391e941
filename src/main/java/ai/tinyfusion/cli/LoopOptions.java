package ai.tinyfusion.cli;

import ai.tinyfusion.data.Batcher;
import ai.tinyfusion.data.Dataset;
import ai.tinyfusion.model.dit.DiT;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** Options every training-loop command shares (train, prune, finetune): length, batching, checkpoints. */
public final class LoopOptions {
    @Option(names = "--epochs", description = "Length in epochs over the data (default 1; alternative to --steps).")
    Double epochs;

    @Option(names = "--steps", description = "Length in optimizer steps.")
    Long steps;

    @Option(names = "--batch", defaultValue = "64", description = "Batch size (${DEFAULT-VALUE}).")
    int batch;

    @Option(names = "--clip", defaultValue = "1.0", description = "Global gradient-norm clip (${DEFAULT-VALUE}).")
    double clip;

    @Option(names = "--hflip", defaultValue = "0",
            description = "Random horizontal flip probability (${DEFAULT-VALUE}; the original uses 0.5 on ImageNet).")
    double hflip;

    @Option(names = "--log-every", defaultValue = "10", description = "Metrics row every N steps (${DEFAULT-VALUE}).")
    int logEvery;

    @Option(names = "--ckpt-every", defaultValue = "250", description = "Checkpoint every N steps (${DEFAULT-VALUE}).")
    int ckptEvery;

    @Option(names = "--keep", defaultValue = "2", description = "Checkpoints kept (${DEFAULT-VALUE}; 0 = all).")
    int keep;

    @Option(names = "--no-progress", description = "No progress bar.")
    boolean noProgress;

    /** Fails clearly when the model cannot take the data. */
    static void checkFits(DiT dit, Dataset dataset) {
        if (dit.config().inChannels() != dataset.channels() || dit.config().inputSize() != dataset.height()
                || dit.config().inputSize() != dataset.width()) {
            throw new IllegalArgumentException("model " + dit.config() + " does not fit data of " + dataset.channels()
                    + "x" + dataset.height() + "x" + dataset.width());
        }
        if (dit.config().numClasses() < dataset.numClasses()) {
            throw new IllegalArgumentException("model has " + dit.config().numClasses() + " classes, data "
                    + dataset.numClasses());
        }
    }

    /** Shuffled epochs without the last partial batch, as the original's DataLoader. */
    Batcher batcher(Dataset dataset, long seed) {
        return Batcher.builder(dataset, batch).seed(seed).shuffle(true).dropLast(true).randomFlip(hflip).build();
    }

    long totalSteps(Batcher batcher) {
        if (epochs != null && steps != null) {
            throw new IllegalArgumentException("give either --epochs or --steps, not both");
        }
        return steps != null ? steps : Math.round((epochs == null ? 1.0 : epochs) * batcher.batchesPerEpoch());
    }

    /** Writes the command line of this process to {@code run/command.txt}. */
    static void recordCommand(Path run) throws IOException {
        Files.createDirectories(run);
        Files.writeString(run.resolve("command.txt"), String.join(" ", ProcessHandle.current().info()
                .arguments().map(List::of).orElse(List.of())) + "\n");
    }
}
