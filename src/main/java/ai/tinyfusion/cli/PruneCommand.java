package ai.tinyfusion.cli;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDManager;
import ai.tinyfusion.data.Batcher;
import ai.tinyfusion.data.Dataset;
import ai.tinyfusion.diffusion.Objective;
import ai.tinyfusion.diffusion.Objectives;
import ai.tinyfusion.io.FileHashes;
import ai.tinyfusion.model.dit.DiT;
import ai.tinyfusion.prune.BaselinePruning;
import ai.tinyfusion.prune.CalibrationSet;
import ai.tinyfusion.prune.DecisionRecord;
import ai.tinyfusion.prune.DeltaMode;
import ai.tinyfusion.prune.LearnedPruning;
import ai.tinyfusion.prune.PrunedModels;
import ai.tinyfusion.prune.Target;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code tinyfusion prune}: choose layers to remove and write the shallower model with its decision record. */
@Command(
        name = "prune",
        mixinStandardHelpOptions = true,
        description = {
            "Depth-prune a DiT: choose the layers to keep, write the shallower model (the chosen layers of the "
                    + "ORIGINAL weights) to OUT and the decision to OUT.decision.json.",
            "--method learned (TinyFusion): learn per-block layer choices under an N:M --pattern with differentiable "
                    + "(Gumbel-softmax) masks and a co-optimised weight update (LoRA); also writes <run>/decisions.csv, "
                    + "decisions.png, metrics.csv, checkpoints/. The search minimises the model's objective "
                    + "(--objective ddpm or sit; default: the one the model file records, else ddpm), which the pruned "
                    + "file records.",
            "Baselines (target --depth K or --pattern N:M): bi (ShortGPT block influence, 1 - cos(input, output); the last "
                    + "block is always kept), flux-lite (mean squared input/output difference), sensitivity (loss increase when "
                    + "the block alone is removed), all three on a calibration set (--calib-*); oracle (BK-SDM: first layer "
                    + "of each encoder pair, last of each decoder pair; ratio 1:2 only); indices (--keep-layers or --drop-layers list); "
                    + "random (seeded by --seed); first, last, uniform (evenly spaced)."
        })
public final class PruneCommand implements Callable<Integer> {
    /** The search defaults (the original's); the options below start from them. */
    private static final LearnedPruning.Options SEARCH = new LearnedPruning.Options();

    @Option(
            names = "--method",
            defaultValue = "learned",
            description =
                    "learned, bi, flux-lite, sensitivity, oracle, indices, random, first, last, uniform (${DEFAULT-VALUE}).")
    String method;

    @Mixin
    ModelOptions model;

    @Mixin
    DataOptions data;

    @Mixin
    LoopOptions loop;

    @Mixin
    TargetOptions target;

    @Mixin
    CalibrationOptions calibration;

    @Mixin
    ObjectiveOptions objectiveOptions;

    // (--keep is LoopOptions' checkpoint count.)
    @Option(names = "--keep-layers", split = ",", description = "--method indices: the layers to keep, e.g. 0,2,5.")
    int[] keep;

    @Option(names = "--drop-layers", split = ",", description = "--method indices: the layers to remove, e.g. 1,3,4.")
    int[] drop;

    @Option(
            names = "--out",
            required = true,
            description = "Pruned model (.safetensors); the record goes to OUT.decision.json.")
    Path out;

    @Option(names = "--run", description = "Run directory for checkpoints and logs (default: OUT.run).")
    Path runDir;

    @Option(
            names = "--delta",
            description = "Weight update during the search: lora (adapters on every Linear, base frozen), full (all "
                    + "weights), none (gates only). Default: ${DEFAULT-VALUE}.")
    String delta = SEARCH.delta.label();

    @Option(names = "--lora-rank", description = "LoRA rank (${DEFAULT-VALUE}).")
    int loraRank = SEARCH.loraRank;

    @Option(
            names = "--lora-alpha",
            description = "LoRA alpha (default: 2 x rank, as the original; scale = alpha/rank).")
    Double loraAlpha;

    @Option(names = "--tau", description = "Gumbel-softmax temperature, start:end, linear per step (${DEFAULT-VALUE}).")
    String tau = SEARCH.tauStart + ":" + SEARCH.tauEnd;

    @Option(names = "--scaling", description = "Logit scaling, start:end, linear per step (${DEFAULT-VALUE}).")
    String scaling = SEARCH.scalingStart + ":" + SEARCH.scalingEnd;

    @Option(names = "--lr", description = "Learning rate of the weight update (${DEFAULT-VALUE}; constant).")
    double lr = SEARCH.lr;

    @Option(names = "--gate-lr-scale", description = "Gate learning rate = lr x this (${DEFAULT-VALUE}).")
    double gateLrScale = SEARCH.gateLrScale;

    @Option(names = "--ema", description = "EMA decay of gates and weight update (${DEFAULT-VALUE}).")
    double emaDecay = SEARCH.emaDecay;

    @Option(names = "--decision-every", description = "Log the EMA decision every N steps (${DEFAULT-VALUE}).")
    int decisionEvery = SEARCH.decisionEvery;

    @Option(
            names = "--resume",
            arity = "0..1",
            fallbackValue = "",
            description =
                    "Resume the search: from the given checkpoint, or (without a value) the newest one in the run directory.")
    String resume;

    /** "a:b" or "a" (constant). */
    static double[] range(String name, String spec) {
        String[] p = spec.trim().split(":");
        try {
            if (p.length == 1) {
                double v = Double.parseDouble(p[0]);
                return new double[] {v, v};
            }
            if (p.length == 2) {
                return new double[] {Double.parseDouble(p[0]), Double.parseDouble(p[1])};
            }
        } catch (NumberFormatException e) {
            // fall through
        }
        throw new IllegalArgumentException(name + " '" + spec + "': expected start:end or a single number");
    }

    @Override
    public Integer call() throws Exception {
        String name = method.trim().toLowerCase(Locale.ROOT);
        if ((keep != null || drop != null) && !name.equals("indices")) {
            throw new IllegalArgumentException(
                    "--keep-layers / --drop-layers belong to --method indices, not " + method);
        }
        if (name.equals("learned")) {
            return learned();
        }
        BaselinePruning.Method m = BaselinePruning.Method.byName(name);
        if (m == null) {
            throw new IllegalArgumentException("unknown pruning method '" + method + "' (available: learned, "
                    + BaselinePruning.Method.names() + ")");
        }
        return baseline(m);
    }

    /** The source model's file and hash (both null for a preset). */
    record SourceFile(Path path, String sha256) {
        DecisionRecord.Source describe(ModelOptions model, int depth) {
            return new DecisionRecord.Source(path == null ? null : path.toString(), sha256, model.describe(), depth);
        }
    }

    static SourceFile hashSource(ModelOptions model) throws java.io.IOException {
        if (!model.isFile()) {
            return new SourceFile(null, null);
        }
        Path p = Path.of(model.model);
        System.out.println("hashing " + p + " ...");
        return new SourceFile(p, FileHashes.sha256(p));
    }

    private Integer baseline(BaselinePruning.Method m) throws Exception {
        Objective objective = objectiveOptions.resolve(model.metadata(), model.describe(), false);
        Dataset dataset = m.needsCalibration() ? data.open() : null;
        SourceFile src = hashSource(model);
        try (NDManager manager = NDManager.newBaseManager(model.device())) {
            DiT dit = model.load(manager);
            Target t = m == BaselinePruning.Method.INDICES && !target.given() ? null : target.resolve(dit.depth());
            CalibrationSet cal = null;
            if (m.needsCalibration()) {
                LoopOptions.checkFits(dit, dataset);
                cal = calibration.draw(dataset, data.data, 1024, objective);
            }
            DecisionRecord rec = BaselinePruning.decide(
                    dit,
                    new BaselinePruning.Request(m, t, keep, drop, model.seed),
                    cal,
                    src.describe(model, dit.depth()));
            // Baselines do not change the model: save its (original) layers directly.
            Map<String, String> meta = Objectives.modelMetadata(objective);
            PrunedModels.Saved saved = src.path() != null
                    ? PrunedModels.save(rec, out, model.heads, meta)
                    : PrunedModels.save(dit, rec, out, meta);
            System.out.println("method:      " + rec.method() + (t == null ? "" : " (" + t + ")"));
            System.out.println("kept:        " + Arrays.toString(rec.kept()) + "  (removed "
                    + Arrays.toString(rec.removed()) + ")");
            if (rec.layerScores() != null) {
                StringBuilder sb = new StringBuilder("[");
                for (double v : rec.layerScores()) {
                    sb.append(sb.length() == 1 ? "" : ", ").append(String.format(Locale.ROOT, "%.4g", v));
                }
                System.out.println("scores:      " + sb.append(']'));
            }
            printSaved(saved);
        }
        return 0;
    }

    private Integer learned() throws Exception {
        if (target.pattern == null) {
            throw new IllegalArgumentException(
                    "--method learned needs --pattern N:M (the search chooses N of every M layers)");
        }
        double[] tauRange = range("--tau", tau);
        double[] scalingRange = range("--scaling", scaling);
        Objective objective = objectiveOptions.resolve(model.metadata(), model.describe(), false);
        Map<String, String> meta = Objectives.modelMetadata(objective);
        LearnedPruning.Options o = new LearnedPruning.Options()
                .objective(objective)
                .pattern(target.pattern)
                .delta(DeltaMode.parse(delta))
                .lora(loraRank, loraAlpha == null ? LearnedPruning.Options.defaultLoraAlpha(loraRank) : loraAlpha)
                .tau(tauRange[0], tauRange[1])
                .scaling(scalingRange[0], scalingRange[1])
                .lr(lr)
                .gateLrScale(gateLrScale)
                .ema(emaDecay)
                .clip(loop.clip)
                .decisionEvery(decisionEvery)
                .logEvery(loop.logEvery)
                .checkpoints(loop.ckptEvery, loop.keep)
                .seed(model.seed)
                .progress(!loop.noProgress);
        Path run = runDir != null ? runDir : out.resolveSibling(out.getFileName() + ".run");
        Path resumeFrom = resume == null ? null : resume.isEmpty() ? run : Path.of(resume);
        Dataset dataset = data.open();

        SourceFile src = hashSource(model);
        Engine.getInstance().setRandomSeed((int) model.seed);
        LearnedPruning.Outcome outcome;
        try (NDManager manager = NDManager.newBaseManager(model.device())) {
            DiT dit = model.load(manager);
            target.resolve(dit.depth()); // --depth, if given, must agree with the pattern
            LoopOptions.checkFits(dit, dataset);
            DecisionRecord.Source source = src.describe(model, dit.depth());
            Batcher batcher = loop.batcher(dataset, model.seed);
            long total = loop.totalSteps(batcher);
            LoopOptions.recordCommand(run);
            outcome = LearnedPruning.search(dit, batcher, total, o, run, resumeFrom, src.sha256());
            DecisionRecord rec = LearnedPruning.record(outcome, o, source, loop.batch);
            PrunedModels.Saved saved;
            if (src.path() != null) {
                saved = PrunedModels.save(rec, out, model.heads, meta); // the original weights, reloaded
            } else {
                try (NDManager fresh = NDManager.newBaseManager(model.device())) {
                    saved = PrunedModels.save(model.load(fresh), rec, out, meta); // the preset re-initialised
                }
            }
            TrainCommand.plotLoss(run);
            print(outcome, saved);
        }
        return 0;
    }

    private static void print(LearnedPruning.Outcome r, PrunedModels.Saved saved) {
        StringBuilder conf = new StringBuilder("[");
        for (double c : r.decision().confidence()) {
            conf.append(conf.length() == 1 ? "" : ", ").append(String.format(Locale.ROOT, "%.4f", c));
        }
        conf.append(']');
        System.out.println("pattern:     " + r.pattern());
        System.out.println("decision:    " + Arrays.toString(r.decision().kept()) + "  (removed "
                + Arrays.toString(saved.decision().removed()) + ")");
        System.out.println("confidence:  " + conf);
        long done = r.train().steps() - r.startStep();
        System.out.printf(
                Locale.ROOT,
                "time:        %.1f s for %d steps in this run (%.3f s/step); %d steps in total, %d non-finite skipped%n",
                r.train().seconds(),
                done,
                r.train().seconds() / Math.max(1, done),
                r.train().steps(),
                r.train().skippedNonFinite());
        System.out.printf(
                Locale.ROOT,
                "trainable:   %,d values = %.3f%% of the %,d base values%n",
                r.trainableParameters(),
                100 * r.trainableShare(),
                r.baseParameters());
        printSaved(saved);
        System.out.println("dynamics:    " + r.plot());
    }

    static void printSaved(PrunedModels.Saved saved) {
        System.out.println("pruned:      " + saved.model() + " (depth "
                + saved.decision().prunedDepth() + ", "
                + String.format(Locale.ROOT, "%,d", saved.decision().output().parameters()) + " parameters)");
        System.out.println("record:      " + saved.record());
    }
}
