package ai.tinyfusion.prune;

import ai.djl.engine.Engine;
import ai.tinyfusion.data.Batcher;
import ai.tinyfusion.diffusion.DdpmObjective;
import ai.tinyfusion.diffusion.Objective;
import ai.tinyfusion.io.Safetensors;
import ai.tinyfusion.model.dit.DiT;
import ai.tinyfusion.train.Ema;
import ai.tinyfusion.train.LrSchedule;
import ai.tinyfusion.train.RunDir;
import ai.tinyfusion.train.TrainLoop;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs a learnable depth-pruning search end to end: gates (and ΔΦ) trained by the {@link TrainLoop}
 * with a {@link GateSearchTask}, the final decision from the EMA gates, the model restored
 * (adapters detached), the decision trace plotted. Turning the decision into a pruned checkpoint is
 * {@link PrunedModels#save}'s job (with {@link #record} for the decision record).
 */
public final class LearnedPruning {
    private static final Logger LOG = LoggerFactory.getLogger(LearnedPruning.class);

    private LearnedPruning() {}

    /** File names inside the run directory. */
    public static final String DECISIONS_CSV = "decisions.csv";

    public static final String DECISIONS_PNG = "decisions.png";

    /** Search options; the defaults are the original's (LoRA rank 8, α 16, τ 4 → 0.1, scaling 100, lr 1e-4, gates ×10, EMA 0.999, clip 1). */
    public static final class Options {
        public String pattern = "1:2";
        public DeltaMode delta = DeltaMode.LORA;
        public int loraRank = 8;
        public double loraAlpha = defaultLoraAlpha(loraRank);
        public double tauStart = 4;
        public double tauEnd = 0.1;
        public double scalingStart = 100;
        public double scalingEnd = 100;
        public double lr = 1e-4;
        public double gateLrScale = 10;
        public double emaDecay = 0.999;
        public double clipNorm = 1.0;
        public int decisionEvery = 10;
        public int logEvery = 10;
        public int ckptEvery = 500;
        public int keepCheckpoints = 2;
        public long seed = 0;
        public boolean progress = false;
        /** The loss the search minimises: the model's training objective (DiT's DDPM unless told otherwise). */
        public Objective objective = DdpmObjective.standard();

        public Options objective(Objective o) {
            objective = java.util.Objects.requireNonNull(o, "objective");
            return this;
        }

        public Options pattern(String p) {
            pattern = p;
            return this;
        }

        public Options delta(DeltaMode d) {
            delta = d;
            return this;
        }

        /** The original's LoRA alpha for a rank: 2 × rank (scale alpha / rank = 2). */
        public static double defaultLoraAlpha(int rank) {
            return 2.0 * rank;
        }

        public Options lora(int rank, double alpha) {
            loraRank = rank;
            loraAlpha = alpha;
            return this;
        }

        public Options tau(double from, double to) {
            tauStart = from;
            tauEnd = to;
            return this;
        }

        public Options scaling(double from, double to) {
            scalingStart = from;
            scalingEnd = to;
            return this;
        }

        public Options lr(double v) {
            lr = v;
            return this;
        }

        public Options gateLrScale(double v) {
            gateLrScale = v;
            return this;
        }

        public Options ema(double v) {
            emaDecay = v;
            return this;
        }

        public Options clip(double v) {
            clipNorm = v;
            return this;
        }

        public Options decisionEvery(int v) {
            decisionEvery = v;
            return this;
        }

        public Options logEvery(int v) {
            logEvery = v;
            return this;
        }

        public Options checkpoints(int every, int keep) {
            ckptEvery = every;
            keepCheckpoints = keep;
            return this;
        }

        public Options seed(long v) {
            seed = v;
            return this;
        }

        public Options progress(boolean v) {
            progress = v;
            return this;
        }
    }

    /**
     * The result of a search.
     *
     * @param decision the final decision of the EMA gates, probabilities at the final scaling
     * @param emaLogits the EMA gate logits per block
     * @param finalScaling the scaling at which {@link #decision}'s probabilities are given
     * @param startStep the step this run started at (0, or the resumed checkpoint's step)
     */
    public record Outcome(
            Pattern pattern,
            GateDecision decision,
            List<float[]> emaLogits,
            double finalScaling,
            TrainLoop.Result train,
            long startStep,
            long trainableParameters,
            long baseParameters,
            Path runDir,
            Path decisionsCsv,
            Path plot) {
        /** Trainable values as a share of the base model's. */
        public double trainableShare() {
            return (double) trainableParameters / baseParameters;
        }
    }

    /**
     * Searches which layers of {@code model} to keep. The model is changed during the search
     * (adapters attached, in FULL mode weights trained) and has its adapters removed afterwards.
     *
     * @param steps total optimizer steps (a resumed run continues to the same total)
     * @param resume a checkpoint or a run directory to resume from, or null
     * @param sourceSha256 the source checkpoint's SHA-256 (null for a random-init source); a resume
     *     from a search on other source weights is refused
     */
    public static Outcome search(
            DiT model, Batcher batcher, long steps, Options o, Path runDir, Path resume, String sourceSha256)
            throws IOException {
        Pattern pattern = Pattern.parse(o.pattern, model.depth());
        Path resumeFile = null;
        long startStep = 0;
        if (resume != null) {
            resumeFile = RunDir.resolveCheckpoint(resume);
            startStep = checkResumeSource(resumeFile, sourceSha256);
        }
        Files.createDirectories(runDir);
        GateSearchTask.Settings settings = new GateSearchTask.Settings(
                pattern,
                o.delta,
                o.loraRank,
                o.loraAlpha,
                o.tauStart,
                o.tauEnd,
                o.scalingStart,
                o.scalingEnd,
                o.gateLrScale,
                o.decisionEvery,
                sourceSha256);
        Engine.getInstance().setRandomSeed((int) o.seed); // LoRA A initialisation
        Path csv = runDir.resolve(DECISIONS_CSV);
        GateSearchTask task = new GateSearchTask(model, o.objective, settings, csv);
        long trainable = task.trainableCount();
        long base = task.baseCount();
        LOG.info(String.format(
                java.util.Locale.ROOT,
                "learnable pruning %s of %s under %s: %d steps of batch %d, delta %s, %,d trainable values (%.3f%% of %,d)",
                pattern,
                model.config(),
                o.objective.summary(),
                steps,
                batcher.batchSize(),
                o.delta.label(),
                trainable,
                100.0 * trainable / base,
                base));
        TrainLoop.Settings ls = new TrainLoop.Settings(
                steps,
                LrSchedule.constant(o.lr),
                o.clipNorm,
                o.emaDecay,
                o.ckptEvery,
                o.logEvery,
                o.keepCheckpoints,
                o.seed,
                o.progress);
        TrainLoop loop = new TrainLoop(task, batcher, ls, runDir);
        TrainLoop.Result r;
        try {
            r = loop.run(resumeFile);
        } finally {
            task.restoreModel();
        }
        Ema ema = loop.ema();
        List<float[]> logits;
        try {
            logits = task.gates().hostLogits(ema.values());
        } finally {
            ema.close();
        }
        double scaling = task.scalingAt(steps - 1, steps);
        GateDecision d = GateDecision.of(pattern, logits, scaling);
        Path png = runDir.resolve(DECISIONS_PNG);
        DecisionPlot.render(DecisionLog.read(csv), pattern, "Decision dynamics, pattern " + pattern.spec(), png);
        return new Outcome(pattern, d, logits, scaling, r, startStep, trainable, base, runDir, csv, png);
    }

    /** Refuses a resume whose checkpoint was written for other source weights; returns the checkpoint's step. */
    static long checkResumeSource(Path checkpoint, String sourceSha256) throws IOException {
        Map<String, String> meta = Safetensors.readMetadata(checkpoint);
        String task = meta.get("task");
        if (task == null) {
            throw new IOException(checkpoint + " is not a training checkpoint");
        }
        String was;
        try {
            was = GateSearchTask.sourceShaOf(task);
        } catch (RuntimeException e) {
            throw new IOException(checkpoint + ": unreadable task description", e);
        }
        if (!task.contains("\"learned-prune\"")) {
            throw new IOException(checkpoint + " is not a learnable-pruning checkpoint");
        }
        if (!Objects.equals(was, sourceSha256)) {
            throw new IOException("cannot resume from " + checkpoint + ": the search ran on a source with SHA-256 "
                    + (was == null ? "(none: random init)" : was) + ", but the given model has "
                    + (sourceSha256 == null ? "(none: random init)" : sourceSha256));
        }
        try {
            return Long.parseLong(meta.getOrDefault("step", "0"));
        } catch (NumberFormatException e) {
            throw new IOException(checkpoint + ": bad step '" + meta.get("step") + "'", e);
        }
    }

    /** The decision record of a finished search. */
    public static DecisionRecord record(Outcome out, Options o, DecisionRecord.Source source, int batchSize) {
        DecisionRecord.Learned learned = new DecisionRecord.Learned(
                out.train().steps(),
                batchSize,
                new double[] {o.tauStart, o.tauEnd},
                new double[] {o.scalingStart, o.scalingEnd},
                out.finalScaling(),
                o.delta.label(),
                o.delta == DeltaMode.LORA ? o.loraRank : null,
                o.delta == DeltaMode.LORA ? o.loraAlpha : null,
                o.lr,
                o.gateLrScale,
                o.emaDecay,
                o.clipNorm,
                out.trainableParameters(),
                out.trainableShare(),
                out.train().seconds(),
                DecisionRecord.blocks(out.pattern(), out.decision()),
                out.runDir().toString());
        return DecisionRecord.of(
                "learned",
                source,
                out.decision().kept(),
                out.pattern().spec(),
                out.decision().layerKeepProbability(),
                "marginal keep probability of the layer under the EMA gates' "
                        + "softmax(scaling * logits) (sum over the candidates of its block that keep it)",
                o.seed,
                learned,
                null);
    }
}
