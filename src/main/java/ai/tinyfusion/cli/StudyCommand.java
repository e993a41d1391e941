package ai.tinyfusion.cli;

import ai.djl.ndarray.NDManager;
import ai.tinyfusion.data.Dataset;
import ai.tinyfusion.model.dit.DiT;
import ai.tinyfusion.prune.CalibrationSet;
import ai.tinyfusion.prune.CalibrationStudy;
import ai.tinyfusion.prune.DecisionRecord;
import ai.tinyfusion.prune.PrunedModels;
import ai.tinyfusion.prune.Target;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code tinyfusion study}: experiments about pruning decisions. */
@Command(
        name = "study",
        mixinStandardHelpOptions = true,
        description = "Studies of pruning decisions.",
        subcommands = {StudyCommand.Calibration.class})
public final class StudyCommand implements Runnable {
    @Override
    public void run() {
        CommandLine.usage(this, System.out);
    }

    /** {@code tinyfusion study calibration}. */
    @Command(
            name = "calibration",
            mixinStandardHelpOptions = true,
            description = {
                "The calibration-loss study: draw --samples random layer masks (uniform over all C(L,K) subsets "
                        + "for --depth K, or uniform under --pattern), compute each pruned, un-tuned model's calibration loss "
                        + "(the model objective's training loss: DDPM MSE + VB, or SiT's transport loss; --objective; on a fixed "
                        + "calibration set with fixed noise and t), and write "
                        + "OUT/study.csv (mask, kept, loss), study.png (histogram), marks.csv, study.json, and the masks of "
                        + "minimum, median and maximum loss as pruned models random-{min,median,max}.safetensors.",
                "--mark NAME=RECORD places a method's decision (a .decision.json, or the pruned model next to it) on the "
                        + "same calibration set."
            })
    public static final class Calibration implements Callable<Integer> {
        @Mixin
        ModelOptions model;

        @Mixin
        DataOptions data;

        @Mixin
        TargetOptions target;

        @Mixin
        CalibrationOptions calibration;

        @Mixin
        ObjectiveOptions objectiveOptions;

        @Option(
                names = "--samples",
                defaultValue = "1000",
                description = "Random masks (${DEFAULT-VALUE}); --seed seeds them.")
        int samples;

        @Option(
                names = "--mark",
                mapFallbackValue = "",
                description = "NAME=PATH of a decision record (or its pruned model) to mark; repeatable.")
        Map<String, Path> marks = new LinkedHashMap<>();

        @Option(names = "--no-export", description = "Do not save the min/median/max masks as pruned models.")
        boolean noExport;

        @Option(names = "--out", required = true, description = "Output directory.")
        Path out;

        @Override
        public Integer call() throws Exception {
            Map<String, DecisionRecord> records = new LinkedHashMap<>();
            for (Map.Entry<String, Path> e : marks.entrySet()) {
                if (e.getValue() == null || e.getValue().toString().isEmpty()) {
                    throw new IllegalArgumentException("--mark " + e.getKey() + ": expected NAME=PATH");
                }
                records.put(e.getKey(), PrunedModels.readRecord(e.getValue()));
            }
            Dataset dataset = data.open();
            PruneCommand.SourceFile src = PruneCommand.hashSource(model);
            try (NDManager manager = NDManager.newBaseManager(model.device())) {
                DiT dit = model.load(manager);
                Target t = target.resolve(dit.depth());
                LoopOptions.checkFits(dit, dataset);
                CalibrationSet cal = calibration.draw(
                        dataset, data.data, 128, objectiveOptions.resolve(model.metadata(), model.describe(), false));
                CalibrationStudy.Result r = CalibrationStudy.run(
                        dit,
                        cal,
                        new CalibrationStudy.Settings(t, samples, model.seed, records, !noExport),
                        src.describe(model, dit.depth()),
                        out);
                System.out.printf(
                        Locale.ROOT,
                        "masks:       %d under %s; %.1f s, %d block evaluations (%d without prefix sharing)%n",
                        r.rows().size(),
                        t,
                        r.work().seconds(),
                        r.work().blockEvaluations(),
                        r.work().naiveBlockEvaluations());
                for (CalibrationStudy.Mark m : r.marks()) {
                    System.out.printf(
                            Locale.ROOT,
                            "mark:        %-12s loss %.5f, %5.1f%% of random masks lower  %s%n",
                            m.name(),
                            m.loss(),
                            m.percentile(),
                            Arrays.toString(m.kept()));
                }
                r.exports()
                        .forEach((q, saved) -> System.out.printf(
                                Locale.ROOT,
                                "%-12s %s  loss %.5f  %s%n",
                                q + ":",
                                Arrays.toString(saved.decision().kept()),
                                saved.decision()
                                        .details()
                                        .getAsJsonObject("study")
                                        .get("calibration_loss")
                                        .getAsDouble(),
                                saved.model()));
                System.out.println("table:       " + r.csv());
                System.out.println("histogram:   " + r.png());
            }
            return 0;
        }
    }
}
