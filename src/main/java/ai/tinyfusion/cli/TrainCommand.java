package ai.tinyfusion.cli;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDManager;
import ai.tinyfusion.data.Batcher;
import ai.tinyfusion.data.Dataset;
import ai.tinyfusion.diffusion.Objective;
import ai.tinyfusion.diffusion.Objectives;
import ai.tinyfusion.model.dit.DiT;
import ai.tinyfusion.train.DiffusionTask;
import ai.tinyfusion.train.TrainLoop;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.Callable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/** {@code tinyfusion train}: DiT training from scratch or from a checkpoint, resumable. */
@Command(
        name = "train",
        mixinStandardHelpOptions = true,
        description = "Train a DiT with DiT's diffusion loss (MSE + VB, --objective ddpm) or SiT's interpolant loss "
                + "(--objective sit): AdamW, constant or cosine LR, clipping, EMA, "
                + "label dropout for CFG, atomic checkpoints and exact resume. Writes <run>/ema.safetensors, "
                + "<run>/model.safetensors, metrics.csv and loss.png.")
public final class TrainCommand implements Callable<Integer> {
    private static final Logger LOG = LoggerFactory.getLogger(TrainCommand.class);

    @Mixin
    ModelOptions model;

    @Mixin
    DataOptions data;

    @Mixin
    LoopOptions loop;

    @Mixin
    OptimOptions optim = new OptimOptions(1e-4, "constant", 0, 0.9999);

    @Mixin
    ObjectiveOptions objectiveOptions;

    @Override
    public Integer call() throws Exception {
        Dataset dataset = data.open();
        Engine.getInstance().setRandomSeed((int) model.seed);
        try (NDManager manager = NDManager.newBaseManager(model.device())) {
            DiT dit = model.load(manager);
            LoopOptions.checkFits(dit, dataset);
            Batcher batcher = loop.batcher(dataset, model.seed);
            long total = loop.totalSteps(batcher);
            Objective objective = objectiveOptions.resolve(model.metadata(), model.describe(), true);
            DiffusionTask task = new DiffusionTask(dit, objective, optim.weightDecay);
            Map<String, String> meta = Objectives.modelMetadata(objective);
            LOG.info(
                    "training {} ({} parameters) under {} on {} images for {} steps of {} ({} epochs)",
                    dit.config(),
                    dit.parameterCount(),
                    objective.summary(),
                    dataset.size(),
                    total,
                    loop.batch,
                    String.format("%.2f", (double) total / batcher.batchesPerEpoch()));
            LoopOptions.recordCommand(optim.runDir);
            TrainLoop trainer = optim.trainer(task, batcher, loop, total, model.seed, dit, meta);
            TrainLoop.Result r = trainer.run(optim.resume);
            optim.finish(trainer, r, dit, loop, meta, "loss", "mse", "vb");
            LOG.info(
                    "done: {} steps, last loss {}, {} non-finite steps skipped; wrote {}",
                    r.steps(),
                    r.lastLoss(),
                    r.skippedNonFinite(),
                    optim.runDir.resolve("ema.safetensors"));
        }
        return 0;
    }

    /** The loss plot of a run that logs loss, mse and vb (train, prune). */
    static void plotLoss(Path runDir) throws java.io.IOException {
        OptimOptions.plotLoss(runDir, "loss", "mse", "vb");
    }
}
