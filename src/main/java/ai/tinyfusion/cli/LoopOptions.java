package ai.tinyfusion.cli;

import ai.tinyfusion.data.Batcher;
import ai.tinyfusion.data.Dataset;
import ai.tinyfusion.model.dit.DiT;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * Options every training-loop command shares (train, prune, finetune, classifier train): length,
 * batching, checkpoints. Each command may give its own defaults through the constructor:
 * {@code @Mixin LoopOptions loop = new LoopOptions(...)}.
 */
public final class LoopOptions {
    @Spec(Spec.Target.MIXEE)
    CommandSpec mixee;

    @Option(
            names = "--epochs",
            description = "Length in epochs over the data (${DEFAULT-VALUE}; alternative to --steps).")
    double epochs;

    @Option(names = "--steps", description = "Length in optimizer steps.")
    Long steps;

    @Option(names = "--batch", description = "Batch size (${DEFAULT-VALUE}).")
    int batch;

    @Option(names = "--clip", description = "Global gradient-norm clip (${DEFAULT-VALUE}).")
    double clip;

    @Option(
            names = "--hflip",
            defaultValue = "0",
            description = "Random horizontal flip probability (${DEFAULT-VALUE}; the original uses 0.5 on ImageNet).")
    double hflip;

    @Option(names = "--log-every", description = "Metrics row every N steps (${DEFAULT-VALUE}).")
    int logEvery;

    @Option(names = "--ckpt-every", description = "Checkpoint every N steps (${DEFAULT-VALUE}).")
    int ckptEvery;

    @Option(names = "--keep", description = "Checkpoints kept (${DEFAULT-VALUE}; 0 = all).")
    int keep;

    /** Picocli needs a no-argument constructor: the DiT commands' defaults. */
    public LoopOptions() {
        this(1, 64, 1.0, 10, 250, 2);
    }

    public LoopOptions(double epochs, int batch, double clip, int logEvery, int ckptEvery, int keep) {
        this.epochs = epochs;
        this.batch = batch;
        this.clip = clip;
        this.logEvery = logEvery;
        this.ckptEvery = ckptEvery;
        this.keep = keep;
    }

    @Option(names = "--no-progress", description = "No progress bar.")
    boolean noProgress;

    /** Fails clearly when the model cannot take the data. */
    static void checkFits(DiT dit, Dataset dataset) {
        if (dit.config().inChannels() != dataset.channels()
                || dit.config().inputSize() != dataset.height()
                || dit.config().inputSize() != dataset.width()) {
            throw new IllegalArgumentException("model " + dit.config() + " does not fit data of " + dataset.channels()
                    + "x" + dataset.height() + "x" + dataset.width());
        }
        if (dit.config().numClasses() < dataset.numClasses()) {
            throw new IllegalArgumentException(
                    "model has " + dit.config().numClasses() + " classes, data " + dataset.numClasses());
        }
    }

    /** Shuffled epochs without the last partial batch, as the original's DataLoader. */
    Batcher batcher(Dataset dataset, long seed) {
        return Batcher.builder(dataset, batch)
                .seed(seed)
                .shuffle(true)
                .dropLast(true)
                .randomFlip(hflip)
                .build();
    }

    long totalSteps(Batcher batcher) {
        if (steps == null) {
            return Math.round(epochs * batcher.batchesPerEpoch());
        }
        if (mixee != null
                && mixee.commandLine() != null
                && mixee.commandLine().getParseResult().hasMatchedOption("--epochs")) {
            throw new IllegalArgumentException("give either --epochs or --steps, not both");
        }
        return steps;
    }

    /** Writes the command line of this process to {@code run/command.txt}. */
    static void recordCommand(Path run) throws IOException {
        Files.createDirectories(run);
        Files.writeString(
                run.resolve("command.txt"),
                String.join(
                                " ",
                                ProcessHandle.current()
                                        .info()
                                        .arguments()
                                        .map(List::of)
                                        .orElse(List.of())) + "\n");
    }
}
