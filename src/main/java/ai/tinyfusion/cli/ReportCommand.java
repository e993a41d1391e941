package ai.tinyfusion.cli;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDManager;
import ai.tinyfusion.bench.SpeedBench;
import ai.tinyfusion.eval.MetricsReport;
import ai.tinyfusion.eval.ModelReport;
import ai.tinyfusion.model.dit.DiT;
import ai.tinyfusion.model.dit.Flops;
import ai.tinyfusion.model.dit.ModelFiles;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonParser;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code tinyfusion report}: depth, parameters, MACs and CFG sampling speed of several models measured
 * in one run (round-robin, medians), the speedup against the first, joined with their evaluation
 * metrics when given.
 */
@Command(
        name = "report",
        mixinStandardHelpOptions = true,
        description = "Compare models: depth, parameters, MACs per image, CFG sampling throughput at a batch size "
                + "(measured round-robin in one run) and speedup against the first model; optionally joined with "
                + "`tinyfusion eval --json` results. Prints a table; --json writes it.")
public final class ReportCommand implements Callable<Integer> {
    @Parameters(
            arity = "1..*",
            paramLabel = "MODEL",
            description = "Model checkpoints; the first is the speedup baseline.")
    List<Path> models;

    @Option(names = "--name", split = ",", description = "Row labels, one per model (default: file names).")
    List<String> names;

    @Option(
            names = "--metrics",
            split = ",",
            description = "Eval JSON files (from `eval --json`), one per model in the same order; '-' for none.")
    List<String> metrics;

    @Option(
            names = "--calib-loss",
            split = ",",
            description =
                    "Calibration loss of each model's layer mask (e.g. from `study calibration` marks.csv), one per "
                            + "model in the same order; '-' for none.")
    List<String> calibLoss;

    @Option(names = "--markdown", description = "Also write the table as markdown to this file.")
    Path markdown;

    @Option(names = "--batch", defaultValue = "100", description = "Images per sampling batch (${DEFAULT-VALUE}).")
    int batch;

    @Option(
            names = "--steps",
            defaultValue = "50",
            description = "Sampling steps for the images/s column (${DEFAULT-VALUE}).")
    int steps;

    @Option(names = "--rounds", defaultValue = "10", description = "Timed round-robin rounds (${DEFAULT-VALUE}).")
    int rounds;

    @Option(names = "--warmup", defaultValue = "2", description = "Untimed rounds first (${DEFAULT-VALUE}).")
    int warmup;

    @Option(names = "--heads", description = "Attention heads for checkpoints without a stored config.")
    Integer heads;

    @Option(names = "--json", description = "Write the rows as JSON.")
    Path json;

    @Override
    public Integer call() throws Exception {
        if (names != null && names.size() != models.size()) {
            throw new IllegalArgumentException("--name: " + names.size() + " labels for " + models.size() + " models");
        }
        if (metrics != null && metrics.size() != models.size()) {
            throw new IllegalArgumentException(
                    "--metrics: " + metrics.size() + " files for " + models.size() + " models");
        }
        if (batch < 1 || steps < 1 || rounds < 1 || warmup < 0) {
            throw new IllegalArgumentException("--batch, --steps and --rounds must be >= 1 and --warmup >= 0");
        }
        if (calibLoss != null && calibLoss.size() != models.size()) {
            throw new IllegalArgumentException(
                    "--calib-loss: " + calibLoss.size() + " values for " + models.size() + " models");
        }
        List<MetricsReport> quality = new ArrayList<>();
        for (int i = 0; i < models.size(); i++) {
            String f = metrics == null ? "-" : metrics.get(i);
            quality.add(f.equals("-") ? null : readMetrics(Path.of(f)));
        }
        Engine.getInstance().setRandomSeed(0);
        try (NDManager manager = NDManager.newBaseManager()) {
            List<DiT> loaded = new ArrayList<>();
            for (Path p : models) {
                loaded.add(ModelFiles.load(p, manager, heads));
            }
            System.out.printf(
                    Locale.ROOT,
                    "timing CFG sampling steps at batch %d: %d warm-up + %d rounds over %d models...%n",
                    batch,
                    warmup,
                    rounds,
                    models.size());
            double[] sec = SpeedBench.interleavedCfgStepSeconds(loaded, batch, warmup, rounds);
            List<ModelReport> rows = new ArrayList<>();
            for (int i = 0; i < loaded.size(); i++) {
                DiT m = loaded.get(i);
                double it = 1.0 / sec[i];
                String label = names != null
                        ? names.get(i)
                        : models.get(i).getFileName().toString();
                rows.add(new ModelReport(
                        label,
                        m.depth(),
                        m.parameterCount(),
                        Flops.macsPerImage(m.config()) / 1e9,
                        batch,
                        it,
                        it * batch / steps,
                        steps,
                        sec[0] / sec[i],
                        quality.get(i),
                        calibrationLoss(i)));
            }
            System.out.print(ModelReport.table(rows));
            if (json != null) {
                Files.writeString(json, ModelReport.toJson(rows) + "\n");
            }
            if (markdown != null) {
                Files.writeString(markdown, ModelReport.markdown(rows));
            }
        }
        return 0;
    }

    private Double calibrationLoss(int i) {
        if (calibLoss == null || calibLoss.get(i).equals("-")) {
            return null;
        }
        try {
            return Double.parseDouble(calibLoss.get(i));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--calib-loss: '" + calibLoss.get(i) + "' is not a number");
        }
    }

    /** A JSON file's content; malformed JSON is an error naming the file. */
    static JsonElement readJson(Path file) throws java.io.IOException {
        try {
            return JsonParser.parseString(Files.readString(file));
        } catch (RuntimeException ex) {
            throw new IllegalArgumentException(file + ": not JSON (" + ex.getMessage() + ")");
        }
    }

    /** The first (or only) report of an {@code eval --json} file. */
    static MetricsReport readMetrics(Path file) throws java.io.IOException {
        JsonElement e = readJson(file);
        if (e.isJsonArray()) {
            JsonArray a = e.getAsJsonArray();
            if (a.isEmpty()) {
                throw new IllegalArgumentException(file + ": empty metrics list");
            }
            e = a.get(0);
        }
        return MetricsReport.fromJson(e.toString());
    }
}
