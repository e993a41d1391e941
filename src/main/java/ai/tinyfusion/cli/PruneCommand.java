package ai.tinyfusion.cli;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDManager;
import ai.tinyfusion.data.Batcher;
import ai.tinyfusion.data.Dataset;
import ai.tinyfusion.io.FileHashes;
import ai.tinyfusion.model.DiT;
import ai.tinyfusion.prune.DecisionRecord;
import ai.tinyfusion.prune.DeltaMode;
import ai.tinyfusion.prune.LearnedPruning;
import ai.tinyfusion.prune.PrunedModels;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.concurrent.Callable;

/** {@code tinyfusion prune}: choose layers to remove and write the shallower model with its decision record. */
@Command(name = "prune", mixinStandardHelpOptions = true,
        description = "Depth-prune a DiT. --method learned (TinyFusion): learn per-block layer choices under an N:M "
                + "pattern with differentiable (Gumbel-softmax) masks and a co-optimised weight update (LoRA), then keep "
                + "the chosen layers of the ORIGINAL weights. Writes OUT (safetensors), OUT.decision.json, and "
                + "<run>/decisions.csv, decisions.png, metrics.csv, checkpoints/.")
public final class PruneCommand implements Callable<Integer> {
    @Option(names = "--method", defaultValue = "learned", description = "Pruning method (${DEFAULT-VALUE}; available: learned).")
    String method;

    @Mixin
    ModelOptions model;

    @Mixin
    DataOptions data;

    @Mixin
    LoopOptions loop;

    @Option(names = "--pattern", required = true,
            description = "N:M repeated over the depth (1:2, 2:4, 7:14, 1:4), or a comma list of N:M blocks whose M's sum "
                    + "to the depth (2:4,2:4,3:4,...).")
    String pattern;

    @Option(names = "--out", required = true, description = "Pruned model (.safetensors); the record goes to OUT.decision.json.")
    Path out;

    @Option(names = "--run", description = "Run directory for checkpoints and logs (default: OUT.run).")
    Path runDir;

    @Option(names = "--delta", defaultValue = "lora",
            description = "Weight update during the search: lora (adapters on every Linear, base frozen), full (all "
                    + "weights), none (gates only). Default: ${DEFAULT-VALUE}.")
    String delta;

    @Option(names = "--lora-rank", defaultValue = "8", description = "LoRA rank (${DEFAULT-VALUE}).")
    int loraRank;

    @Option(names = "--lora-alpha", description = "LoRA alpha (default: 2 x rank, as the original; scale = alpha/rank).")
    Double loraAlpha;

    @Option(names = "--tau", defaultValue = "4:0.1", description = "Gumbel-softmax temperature, start:end, linear per step (${DEFAULT-VALUE}).")
    String tau;

    @Option(names = "--scaling", defaultValue = "100:100", description = "Logit scaling, start:end, linear per step (${DEFAULT-VALUE}).")
    String scaling;

    @Option(names = "--lr", defaultValue = "1e-4", description = "Learning rate of the weight update (${DEFAULT-VALUE}; constant).")
    double lr;

    @Option(names = "--gate-lr-scale", defaultValue = "10", description = "Gate learning rate = lr x this (${DEFAULT-VALUE}).")
    double gateLrScale;

    @Option(names = "--ema", defaultValue = "0.999", description = "EMA decay of gates and weight update (${DEFAULT-VALUE}).")
    double emaDecay;

    @Option(names = "--decision-every", defaultValue = "10", description = "Log the EMA decision every N steps (${DEFAULT-VALUE}).")
    int decisionEvery;

    @Option(names = "--resume", arity = "0..1", fallbackValue = "",
            description = "Resume the search: from the given checkpoint, or (without a value) the newest one in the run directory.")
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
        if (!method.equalsIgnoreCase("learned")) {
            throw new IllegalArgumentException("unknown pruning method '" + method + "' (available: learned)");
        }
        double[] tauRange = range("--tau", tau);
        double[] scalingRange = range("--scaling", scaling);
        LearnedPruning.Options o = new LearnedPruning.Options().pattern(pattern).delta(DeltaMode.parse(delta))
                .lora(loraRank, loraAlpha == null ? 2.0 * loraRank : loraAlpha).tau(tauRange[0], tauRange[1])
                .scaling(scalingRange[0], scalingRange[1]).lr(lr).gateLrScale(gateLrScale).ema(emaDecay).clip(loop.clip)
                .decisionEvery(decisionEvery).logEvery(loop.logEvery).checkpoints(loop.ckptEvery, loop.keep)
                .seed(model.seed).progress(!loop.noProgress);
        Path run = runDir != null ? runDir : out.resolveSibling(out.getFileName() + ".run");
        Path resumeFrom = resume == null ? null : resume.isEmpty() ? run : Path.of(resume);
        Dataset dataset = data.open();

        String sha = null;
        Path sourcePath = null;
        if (model.isFile()) {
            sourcePath = Path.of(model.model);
            System.out.println("hashing " + sourcePath + " ...");
            sha = FileHashes.sha256(sourcePath);
        }
        Engine.getInstance().setRandomSeed((int) model.seed);
        LearnedPruning.Outcome outcome;
        DecisionRecord.Source source;
        try (NDManager manager = NDManager.newBaseManager(model.device())) {
            DiT dit = model.load(manager);
            LoopOptions.checkFits(dit, dataset);
            source = new DecisionRecord.Source(sourcePath == null ? null : sourcePath.toString(), sha, model.describe(),
                    dit.depth());
            Batcher batcher = loop.batcher(dataset, model.seed);
            long total = loop.totalSteps(batcher);
            LoopOptions.recordCommand(run);
            outcome = LearnedPruning.search(dit, batcher, total, o, run, resumeFrom, sha);
            DecisionRecord rec = LearnedPruning.record(outcome, o, source, loop.batch);
            PrunedModels.Saved saved;
            if (sourcePath != null) {
                saved = PrunedModels.save(rec, out, model.heads); // the original weights, reloaded from the file
            } else {
                try (NDManager fresh = NDManager.newBaseManager(model.device())) {
                    saved = PrunedModels.save(model.load(fresh), rec, out); // the preset re-initialised from its seed
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
        System.out.printf(Locale.ROOT, "time:        %.1f s for %d steps in this run (%.3f s/step); %d steps in total, %d non-finite skipped%n",
                r.train().seconds(), done, r.train().seconds() / Math.max(1, done), r.train().steps(),
                r.train().skippedNonFinite());
        System.out.printf(Locale.ROOT, "trainable:   %,d values = %.3f%% of the %,d base values%n", r.trainableParameters(),
                100 * r.trainableShare(), r.baseParameters());
        System.out.println("pruned:      " + saved.model() + " (depth " + saved.decision().prunedDepth() + ", "
                + String.format(Locale.ROOT, "%,d", saved.decision().output().parameters()) + " parameters)");
        System.out.println("record:      " + saved.record());
        System.out.println("dynamics:    " + r.plot());
    }
}
