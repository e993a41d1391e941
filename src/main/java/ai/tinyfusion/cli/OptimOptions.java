package ai.tinyfusion.cli;

import ai.tinyfusion.data.Batcher;
import ai.tinyfusion.model.dit.DiT;
import ai.tinyfusion.model.dit.ModelFiles;
import ai.tinyfusion.train.LrSchedule;
import ai.tinyfusion.train.MetricsLog;
import ai.tinyfusion.train.TrainLoop;
import ai.tinyfusion.train.TrainTask;
import ai.tinyfusion.util.Plots;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Option;

/**
 * The run directory, optimiser schedule, EMA and resume options of the commands that train weights
 * (train, finetune, classifier train), and what a DiT run writes at the end. Each command gives its own
 * defaults through the constructor: {@code @Mixin OptimOptions optim = new OptimOptions(...)}.
 */
public final class OptimOptions {
    @Option(names = "--run", required = true, description = "Run directory (checkpoints, metrics, outputs).")
    Path runDir;

    @Option(names = "--lr", description = "Learning rate (${DEFAULT-VALUE}).")
    double lr;

    @Option(names = "--lr-schedule", description = "constant or cosine (${DEFAULT-VALUE}).")
    String lrSchedule;

    @Option(names = "--lr-min", description = "Final LR of the cosine schedule (${DEFAULT-VALUE}).")
    double lrMin;

    @Option(
            names = "--lr-decay-steps",
            description =
                    "Cosine horizon: the LR reaches --lr-min at this step and stays there "
                            + "(default 0: the end of the run). Fixing it lets a finished run be extended with --resume and more steps.")
    long lrDecaySteps;

    @Option(
            names = "--snapshots",
            split = ",",
            paramLabel = "STEP",
            description =
                    "Also write the EMA weights to <run>/ema-step-STEP.safetensors after these steps (e.g. 468,936,2340: "
                            + "1, 2 and 5 epochs at batch 128), to evaluate one run at several budgets.")
    List<Long> snapshots = new ArrayList<>();

    @Option(names = "--warmup", description = "Linear warm-up steps (${DEFAULT-VALUE}).")
    long warmup;

    @Option(names = "--weight-decay", description = "AdamW weight decay on matrices (${DEFAULT-VALUE}).")
    double weightDecay;

    @Option(names = "--ema", description = "EMA decay (${DEFAULT-VALUE}).")
    double emaDecay;

    @Option(
            names = "--ema-warmup",
            description =
                    "Warm the EMA decay up as min(decay, (1+n)/(10+n)); for short runs, "
                            + "where a constant decay keeps a large share of the initial weights (the original uses a constant decay).")
    boolean emaWarmup;

    @Option(names = "--resume", description = "Resume from this checkpoint, or the newest in this run directory.")
    Path resume;

    /** Picocli needs a no-argument constructor; commands use the other one. */
    public OptimOptions() {
        this(1e-4, "constant", 0, 0.9999);
    }

    public OptimOptions(double lr, String lrSchedule, double lrMin, double emaDecay) {
        this(lr, lrSchedule, lrMin, 0, 0, emaDecay);
    }

    public OptimOptions(double lr, String lrSchedule, double lrMin, long warmup, double weightDecay, double emaDecay) {
        this.lr = lr;
        this.lrSchedule = lrSchedule;
        this.lrMin = lrMin;
        this.warmup = warmup;
        this.weightDecay = weightDecay;
        this.emaDecay = emaDecay;
    }

    LrSchedule schedule() {
        return new LrSchedule(lrSchedule, lr, lrSchedule.equalsIgnoreCase("cosine") ? lrMin : lr, warmup, lrDecaySteps);
    }

    TrainLoop.Settings settings(LoopOptions loop, long totalSteps, long seed) {
        return new TrainLoop.Settings(
                totalSteps,
                schedule(),
                loop.clip,
                emaDecay,
                loop.ckptEvery,
                loop.logEvery,
                loop.keep,
                seed,
                !loop.noProgress,
                emaWarmup);
    }

    /**
     * A trainer for {@code dit} with these options; {@code --snapshots} write the EMA weights as model
     * files ({@code ema-step-N.safetensors}, with {@code meta} and the step) during the run.
     */
    TrainLoop trainer(
            TrainTask task,
            Batcher batcher,
            LoopOptions loop,
            long totalSteps,
            long seed,
            DiT dit,
            Map<String, String> meta)
            throws IOException {
        for (long s : snapshots) {
            if (s < 1 || s > totalSteps) {
                throw new IllegalArgumentException("--snapshots: step " + s + " is outside the run's 1.." + totalSteps);
            }
        }
        TrainLoop trainer = new TrainLoop(task, batcher, settings(loop, totalSteps, seed), runDir);
        if (!snapshots.isEmpty()) {
            trainer.snapshots(snapshots, (step, ema) -> {
                Map<String, String> m = new LinkedHashMap<>();
                m.put("trained_steps", Long.toString(step));
                m.put("batch_size", Integer.toString(loop.batch));
                m.put("ema_decay", Double.toString(emaDecay));
                m.putAll(meta);
                ModelFiles.save(ema, dit.config(), snapshotPath(runDir, step), m);
            });
        }
        return trainer;
    }

    /** Where {@code --snapshots} writes the EMA weights after {@code step}. */
    public static Path snapshotPath(Path runDir, long step) {
        return runDir.resolve("ema-step-" + step + ".safetensors");
    }

    /**
     * After {@code trainer} has run: writes {@code <run>/ema.safetensors} (the EMA weights) and
     * {@code <run>/model.safetensors} (the raw weights of {@code dit}) with {@code meta} plus the
     * step count, batch size and EMA decay, closes the EMA and plots {@code plotColumns} of the
     * metrics to {@code loss.png}.
     */
    void finish(
            TrainLoop trainer,
            TrainLoop.Result r,
            DiT dit,
            LoopOptions loop,
            Map<String, String> meta,
            String... plotColumns)
            throws IOException {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("trained_steps", Long.toString(r.steps()));
        m.put("batch_size", Integer.toString(loop.batch));
        m.put("ema_decay", Double.toString(emaDecay));
        m.putAll(meta);
        ModelFiles.save(trainer.ema().values(), dit.config(), runDir.resolve("ema.safetensors"), m);
        ModelFiles.save(dit, runDir.resolve("model.safetensors"), m);
        trainer.ema().close();
        plotLoss(runDir, plotColumns);
    }

    /** {@code loss.png}: the given metrics columns (those present) against the step, log scale. */
    static void plotLoss(Path runDir, String... columns) throws IOException {
        Path csv = runDir.resolve("metrics.csv");
        if (!Files.exists(csv)) {
            return;
        }
        LinkedHashMap<String, double[]> m = MetricsLog.read(csv);
        Map<String, double[]> series = new LinkedHashMap<>();
        for (String k : columns) {
            if (m.containsKey(k)) {
                series.put(k, m.get(k));
            }
        }
        Plots.lines(runDir.resolve("loss.png"), "training loss", "step", "loss", m.get("step"), series, 20, true);
    }
}
