package ai.tinyfusion.train;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.training.GradientCollector;
import ai.tinyfusion.data.Batcher;
import ai.tinyfusion.nn.Grads;
import ai.tinyfusion.nn.Module;
import ai.tinyfusion.util.ProgressBars;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import me.tongfei.progressbar.ProgressBar;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one optimisation loop: per step, a seeded RNG (so a resumed run draws the same noise), the
 * task's loss under autograd, a skipped update when the loss is NaN/Inf (counted), global-norm
 * clipping, AdamW, EMA; metrics to CSV, atomic checkpoints every N steps, exact resume.
 */
public final class TrainLoop {
    private static final Logger LOG = LoggerFactory.getLogger(TrainLoop.class);

    /** Loop settings; {@code ckptEvery ≤ 0} writes only the final checkpoint. */
    public record Settings(
            long totalSteps,
            LrSchedule lr,
            double clipNorm,
            double emaDecay,
            int ckptEvery,
            int logEvery,
            int keepCheckpoints,
            long seed,
            boolean progress,
            boolean emaWarmup) {
        /** Settings with the original's constant EMA decay. */
        public Settings(
                long totalSteps,
                LrSchedule lr,
                double clipNorm,
                double emaDecay,
                int ckptEvery,
                int logEvery,
                int keepCheckpoints,
                long seed,
                boolean progress) {
            this(totalSteps, lr, clipNorm, emaDecay, ckptEvery, logEvery, keepCheckpoints, seed, progress, false);
        }

        public Settings {
            if (totalSteps <= 0) {
                throw new IllegalArgumentException("total steps must be positive, got " + totalSteps);
            }
            if (emaDecay < 0 || emaDecay >= 1) {
                throw new IllegalArgumentException("EMA decay must be in [0, 1), got " + emaDecay);
            }
        }
    }

    /** What a finished (or stopped) run reports. */
    public record Result(long steps, long skippedNonFinite, double lastLoss, double seconds, Path lastCheckpoint) {}

    private final TrainTask task;
    private final Batcher batcher;
    private final Settings settings;
    private final RunDir run;

    public TrainLoop(TrainTask task, Batcher batcher, Settings settings, Path runDir) throws IOException {
        this.task = task;
        this.batcher = batcher;
        this.settings = settings;
        this.run = new RunDir(runDir);
    }

    /** The deterministic per-step seed (engine RNG) derived from the run seed. */
    static int stepSeed(long seed, long step) {
        long z = seed * 0x9E3779B97F4A7C15L + step + 0x632BE59BD9B4E019L;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return (int) ((z ^ (z >>> 31)) & 0x7fffffff);
    }

    /**
     * Runs to {@code settings.totalSteps()}, resuming from {@code resume} when it is non-null (a
     * checkpoint file, or a run directory whose newest checkpoint is used).
     */
    public Result run(Path resume) throws IOException {
        LinkedHashMap<String, NDArray> trainable = task.trainable();
        List<NDArray> params = new ArrayList<>(trainable.values());
        for (NDArray p : params) {
            p.setRequiresGradient(true);
        }
        NDManager root = params.get(0).getManager();
        AdamW opt = AdamW.standard(root, trainable, task.weightDecay());
        Ema ema = new Ema(root, task.emaTracked());
        NDArray[] scoped = scopedArrays(params);
        long step = 0;
        long skipped = 0;
        if (resume != null) {
            Checkpoint.Restored r = Checkpoint.restore(RunDir.resolveCheckpoint(resume), task, opt, ema, batcher);
            step = r.step();
            skipped = r.skipped();
            LOG.info("resumed from {} at step {}", r.file(), step);
            run.log("resumed from " + r.file() + " at step " + step);
        }
        run.metrics().truncateAfter(step);
        run.log("task " + task.describe());
        run.log("settings " + settings + "; " + params.size() + " trainable arrays");
        task.started(step, settings.totalSteps(), ema.values());
        long t0 = System.nanoTime();
        double lastLoss = Double.NaN;
        Path lastCkpt = null;
        long firstStep = step;
        try (ProgressBar bar = progressBar(step)) {
            while (step < settings.totalSteps()) {
                task.beforeStep(step, settings.totalSteps());
                double lr = settings.lr().at(step, settings.totalSteps());
                Engine.getInstance().setRandomSeed(stepSeed(settings.seed(), step));
                Map<String, Double> logged = new LinkedHashMap<>();
                boolean finite;
                try (NDManager scope = root.newSubManager()) {
                    scope.tempAttachAll(scoped);
                    try (Batcher.Batch batch = batcher.next(scope);
                            GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                        TrainTask.StepLoss sl = task.loss(batch, scope);
                        lastLoss = sl.loss().getFloat();
                        logged.put("loss", lastLoss);
                        sl.terms().forEach((k, v) -> logged.put(k, (double) v.getFloat()));
                        finite = Double.isFinite(lastLoss);
                        if (finite) {
                            gc.backward(sl.loss());
                        }
                    }
                    if (finite) {
                        double norm = Grads.clipGlobalNorm(params, settings.clipNorm());
                        logged.put("grad_norm", norm);
                        if (Double.isFinite(norm)) {
                            opt.step(lr, task.lrScale());
                            ema.update(
                                    settings.emaWarmup()
                                            ? Ema.warmedUp(settings.emaDecay(), opt.stepCount() - 1)
                                            : settings.emaDecay());
                        } else {
                            skipped++;
                            LOG.warn("step {}: gradient norm is {}; update skipped", step, norm);
                            run.log("step " + step + ": gradient norm " + norm + ", update skipped");
                        }
                    } else {
                        skipped++;
                        LOG.warn(
                                "step {}: loss is {} ({}); update skipped ({} so far)",
                                step,
                                lastLoss,
                                describeTerms(logged),
                                skipped);
                        run.log("step " + step + ": loss " + lastLoss + " (" + describeTerms(logged)
                                + "), update skipped");
                    }
                    Grads.zero(params);
                }
                step++;
                logged.put("lr", lr);
                logged.put("rss_gib", ai.tinyfusion.util.ProcessStats.rssBytes() / (double) (1L << 30));
                // the JVM's committed heap is part of the RSS: separates heap growth from native (libtorch) growth
                logged.put("heap_gib", Runtime.getRuntime().totalMemory() / (double) (1L << 30));
                if (settings.logEvery() > 0 && (step % settings.logEvery() == 0 || step == settings.totalSteps())) {
                    run.metrics().append(step, logged, (System.nanoTime() - t0) / 1e9);
                }
                task.afterStep(step, settings.totalSteps(), logged, ema.values());
                bar.stepTo(step);
                bar.setExtraMessage(String.format(Locale.ROOT, " loss %.4f", lastLoss));
                if (snapshotSteps.contains(step)) {
                    snapshotWriter.write(step, ema.values());
                    run.log("step " + step + ": EMA snapshot");
                }
                boolean last = step == settings.totalSteps();
                if (last || (settings.ckptEvery() > 0 && step % settings.ckptEvery() == 0)) {
                    lastCkpt = run.checkpointPath(step);
                    Checkpoint.write(lastCkpt, step, skipped, task, opt, ema, batcher);
                    run.log(String.format(
                            Locale.ROOT, "step %d: loss %.5f, checkpoint %s", step, lastLoss, lastCkpt.getFileName()));
                    run.pruneCheckpoints(settings.keepCheckpoints());
                }
            }
        } finally {
            opt.close();
        }
        double secs = (System.nanoTime() - t0) / 1e9;
        String summary = String.format(
                Locale.ROOT,
                "%d steps in %.1f s (%.2f it/s), %d skipped (non-finite); at step %d",
                step - firstStep,
                secs,
                (step - firstStep) / Math.max(secs, 1e-9),
                skipped,
                step);
        LOG.info(summary);
        run.log(summary);
        emaResult = ema;
        return new Result(step, skipped, lastLoss, secs, lastCkpt);
    }

    private Ema emaResult;
    private final java.util.Set<Long> snapshotSteps = new java.util.TreeSet<>();
    private SnapshotWriter snapshotWriter;

    /** Receives the EMA weights at the steps chosen with {@link #snapshots}. */
    @FunctionalInterface
    public interface SnapshotWriter {
        void write(long step, Map<String, NDArray> emaValues) throws IOException;
    }

    /**
     * Hands the EMA weights to {@code writer} after each of {@code steps} (e.g. a recovery evaluated at
     * 1, 2 and 5 epochs of one run). A snapshot comes before a checkpoint of the same step, so a resumed
     * run has written every snapshot up to its checkpoint and rewrites (identically) any later one.
     */
    public TrainLoop snapshots(java.util.Collection<Long> steps, SnapshotWriter writer) {
        snapshotSteps.clear();
        snapshotSteps.addAll(steps);
        snapshotWriter = Objects.requireNonNull(writer, "writer");
        return this;
    }

    /** The modules' arrays plus trainables outside them, each once (a second temp-attach would free it). */
    private NDArray[] scopedArrays(List<NDArray> params) {
        java.util.Set<NDArray> seen = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
        List<NDArray> out = new ArrayList<>();
        for (Module m : task.modules()) {
            for (NDArray a : m.arrays()) {
                if (seen.add(a)) {
                    out.add(a);
                }
            }
        }
        for (NDArray p : params) {
            if (seen.add(p)) {
                out.add(p);
            }
        }
        return out.toArray(new NDArray[0]);
    }

    /** The EMA of the finished run (valid after {@link #run}); the caller closes it. */
    public Ema ema() {
        return emaResult;
    }

    /**
     * The logged terms of a step, led by the names of the non-finite ones (the terms that blew up),
     * e.g. {@code "non-finite: kd_vb, kd; kd=NaN, kd_vb=NaN, gt=0.12"}.
     */
    static String describeTerms(Map<String, Double> terms) {
        StringBuilder bad = new StringBuilder();
        StringBuilder all = new StringBuilder();
        terms.forEach((k, v) -> {
            if (!k.equals("loss")) {
                all.append(all.length() == 0 ? "" : ", ").append(k).append('=').append(v);
                if (!Double.isFinite(v)) {
                    bad.append(bad.length() == 0 ? "" : ", ").append(k);
                }
            }
        });
        return (bad.length() == 0 ? "no non-finite term" : "non-finite: " + bad) + "; " + all;
    }

    private ProgressBar progressBar(long start) {
        return ProgressBars.builder("train", settings.totalSteps(), settings.progress())
                .startsFrom(start, java.time.Duration.ZERO)
                .build();
    }

    public RunDir runDir() {
        return run;
    }
}
