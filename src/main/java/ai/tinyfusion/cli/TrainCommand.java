package ai.tinyfusion.cli;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDManager;
import ai.tinyfusion.data.Batcher;
import ai.tinyfusion.data.Dataset;
import ai.tinyfusion.diffusion.DiffusionFactory;
import ai.tinyfusion.eval.Plots;
import ai.tinyfusion.io.ModelFiles;
import ai.tinyfusion.model.DiT;
import ai.tinyfusion.train.DiffusionTask;
import ai.tinyfusion.train.LrSchedule;
import ai.tinyfusion.train.MetricsLog;
import ai.tinyfusion.train.TrainLoop;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code tinyfusion train}: DiT training from scratch or from a checkpoint, resumable. */
@Command(name = "train", mixinStandardHelpOptions = true,
        description = "Train a DiT with the diffusion loss (MSE + VB): AdamW, constant or cosine LR, clipping, EMA, "
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

    @Option(names = "--run", required = true, description = "Run directory (checkpoints, metrics, outputs).")
    Path runDir;

    @Option(names = "--lr", defaultValue = "1e-4", description = "Learning rate (${DEFAULT-VALUE}, as the original).")
    double lr;

    @Option(names = "--lr-schedule", defaultValue = "constant", description = "constant or cosine (${DEFAULT-VALUE}).")
    String lrSchedule;

    @Option(names = "--lr-min", defaultValue = "0", description = "Final LR of the cosine schedule (${DEFAULT-VALUE}).")
    double lrMin;

    @Option(names = "--warmup", defaultValue = "0", description = "Linear warm-up steps (${DEFAULT-VALUE}).")
    long warmup;

    @Option(names = "--weight-decay", defaultValue = "0", description = "AdamW weight decay on matrices (${DEFAULT-VALUE}).")
    double weightDecay;

    @Option(names = "--ema", defaultValue = "0.9999", description = "EMA decay (${DEFAULT-VALUE}).")
    double emaDecay;

    @Option(names = "--ema-warmup", description = "Warm the EMA decay up as min(decay, (1+n)/(10+n)); for short runs, "
            + "where a constant decay keeps a large share of the zero-initialised weights (the original uses a constant decay).")
    boolean emaWarmup;

    @Option(names = "--resume", description = "Resume from this checkpoint, or the newest in this run directory.")
    Path resume;

    @Override
    public Integer call() throws Exception {
        Dataset dataset = data.open();
        Engine.getInstance().setRandomSeed((int) model.seed);
        try (NDManager manager = NDManager.newBaseManager(model.device())) {
            DiT dit = model.load(manager);
            LoopOptions.checkFits(dit, dataset);
            Batcher batcher = loop.batcher(dataset, model.seed);
            long total = loop.totalSteps(batcher);
            LrSchedule schedule = new LrSchedule(lrSchedule, lr, lrSchedule.equals("cosine") ? lrMin : lr, warmup);
            TrainLoop.Settings settings = new TrainLoop.Settings(total, schedule, loop.clip, emaDecay, loop.ckptEvery,
                    loop.logEvery, loop.keep, model.seed, !loop.noProgress, emaWarmup);
            DiffusionTask task = new DiffusionTask(dit, DiffusionFactory.create(""), weightDecay);
            LOG.info("training {} ({} parameters) on {} images for {} steps of {} ({} epochs)", dit.config(),
                    dit.parameterCount(), dataset.size(), total, loop.batch, String.format("%.2f", (double) total / batcher.batchesPerEpoch()));
            LoopOptions.recordCommand(runDir);
            TrainLoop trainer = new TrainLoop(task, batcher, settings, runDir);
            Path from = resume == null ? null : resume;
            TrainLoop.Result r = trainer.run(from);
            Map<String, String> meta = new LinkedHashMap<>();
            meta.put("trained_steps", Long.toString(r.steps()));
            meta.put("batch_size", Integer.toString(loop.batch));
            meta.put("ema_decay", Double.toString(emaDecay));
            ModelFiles.save(trainer.ema().values(), dit.config(), runDir.resolve("ema.safetensors"), meta);
            ModelFiles.save(dit, runDir.resolve("model.safetensors"), meta);
            trainer.ema().close();
            plotLoss(runDir);
            LOG.info("done: {} steps, last loss {}, {} non-finite steps skipped; wrote {}", r.steps(), r.lastLoss(),
                    r.skippedNonFinite(), runDir.resolve("ema.safetensors"));
        }
        return 0;
    }

    static void plotLoss(Path runDir) throws java.io.IOException {
        Path csv = runDir.resolve("metrics.csv");
        if (!Files.exists(csv)) {
            return;
        }
        LinkedHashMap<String, double[]> m = MetricsLog.read(csv);
        Map<String, double[]> series = new LinkedHashMap<>();
        for (String k : new String[] {"loss", "mse", "vb"}) {
            if (m.containsKey(k)) {
                series.put(k, m.get(k));
            }
        }
        Plots.lines(runDir.resolve("loss.png"), "training loss", "step", "loss", m.get("step"), series, 20, true);
    }
}
