package ai.tinyfusion.cli;

import ai.tinyfusion.util.Plots;
import ai.tinyfusion.train.MetricsLog;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code tinyfusion plot}: charts over finished runs, for write-ups. {@code curves} overlays the
 * smoothed training curves of several runs (e.g. the recovery of differently pruned models);
 * {@code scatter} plots two fields of a {@code report --json} file against each other, one labelled
 * point per model (e.g. calibration loss against FID after recovery).
 */
@Command(name = "plot", mixinStandardHelpOptions = true, description = "PNG charts over finished runs and reports.",
        subcommands = {PlotCommand.Curves.class, PlotCommand.Scatter.class})
public final class PlotCommand implements Runnable {
    @Override
    public void run() {
        picocli.CommandLine.usage(this, System.out);
    }

    @Command(name = "curves", mixinStandardHelpOptions = true,
            description = "Overlay one metrics.csv column of several runs (moving average), e.g. recovery loss curves.")
    static final class Curves implements Callable<Integer> {
        @Parameters(arity = "1..*", paramLabel = "NAME=RUN", mapFallbackValue = "",
                description = "A label and a run directory (holding metrics.csv) or a metrics.csv file.")
        Map<String, Path> runs = new LinkedHashMap<>();

        @Option(names = "--column", defaultValue = "loss", description = "Column to plot (${DEFAULT-VALUE}).")
        String column;

        @Option(names = "--smooth", defaultValue = "25", description = "Moving-average window in logged rows (${DEFAULT-VALUE}).")
        int smooth;

        @Option(names = "--linear", description = "Linear y axis (default logarithmic).")
        boolean linear;

        @Option(names = "--title", defaultValue = "training curves", description = "Chart title.")
        String title;

        @Option(names = "--out", required = true, description = "PNG file to write.")
        Path out;

        @Override
        public Integer call() throws IOException {
            Map<String, double[][]> series = new LinkedHashMap<>();
            for (Map.Entry<String, Path> run : runs.entrySet()) {
                if (run.getValue() == null || run.getValue().toString().isEmpty()) {
                    throw new IllegalArgumentException("'" + run.getKey() + "': expected NAME=PATH");
                }
                Path csv = Files.isDirectory(run.getValue()) ? run.getValue().resolve("metrics.csv") : run.getValue();
                if (!Files.isRegularFile(csv)) {
                    throw new IllegalArgumentException(run.getKey() + ": no metrics file at " + csv);
                }
                Map<String, double[]> m = MetricsLog.read(csv);
                if (!m.containsKey(column)) {
                    throw new IllegalArgumentException(csv + " has no column '" + column + "' (columns: " + m.keySet() + ")");
                }
                series.put(run.getKey(), new double[][] {m.get("step"), m.get(column)});
            }
            Plots.smoothedLines(out, title, "step", column + (smooth > 1 ? " (moving average of " + smooth + ")" : ""),
                    series, smooth, !linear);
            System.out.println("wrote " + out);
            return 0;
        }
    }

    @Command(name = "scatter", mixinStandardHelpOptions = true,
            description = "Plot two fields of a `report --json` file, one labelled point per model. Fields are dotted paths, "
                    + "e.g. calibrationLoss, speedup, metrics.fid, metrics.classAccuracy.")
    static final class Scatter implements Callable<Integer> {
        @Option(names = "--report", required = true, description = "JSON written by `tinyfusion report --json`.")
        Path report;

        @Option(names = "--x", required = true, description = "Field for the x axis.")
        String x;

        @Option(names = "--y", required = true, description = "Field for the y axis.")
        String y;

        @Option(names = "--title", description = "Chart title (default: 'y vs x').")
        String title;

        @Option(names = "--out", required = true, description = "PNG file to write.")
        Path out;

        @Override
        public Integer call() throws IOException {
            JsonElement root = ReportCommand.readJson(report);
            if (!root.isJsonArray()) {
                throw new IllegalArgumentException(report + ": expected a JSON list of report rows");
            }
            Map<String, double[]> points = new LinkedHashMap<>();
            for (JsonElement row : root.getAsJsonArray()) {
                JsonObject o = row.getAsJsonObject();
                String name = o.has("model") ? o.get("model").getAsString() : "row " + (points.size() + 1);
                points.put(name, new double[] {field(o, x), field(o, y)});
            }
            String corr = correlation(points.values());
            String t = (title != null ? title : y + " vs " + x) + (corr.isEmpty() ? "" : " (" + corr + ")");
            Plots.scatter(out, t, x, y, points);
            System.out.println((corr.isEmpty() ? "" : corr + "; ") + "wrote " + out);
            return 0;
        }
    }

    /** "Spearman ρ = …, n = …" over the points with both coordinates finite; empty below 3 points. */
    static String correlation(Iterable<double[]> points) {
        List<double[]> ok = new java.util.ArrayList<>();
        for (double[] p : points) {
            if (Double.isFinite(p[0]) && Double.isFinite(p[1])) {
                ok.add(p);
            }
        }
        if (ok.size() < 3) {
            return "";
        }
        double[] xs = ok.stream().mapToDouble(p -> p[0]).toArray();
        double[] ys = ok.stream().mapToDouble(p -> p[1]).toArray();
        double rho = new org.apache.commons.math3.stat.correlation.SpearmansCorrelation().correlation(xs, ys);
        return String.format(java.util.Locale.ROOT, "Spearman rho = %.2f, n = %d", rho, ok.size());
    }

    /** The number at a dotted path of a report row, NaN when the row lacks it (e.g. no calibration loss). */
    static double field(JsonObject row, String path) {
        JsonElement e = row;
        for (String part : path.split("\\.")) {
            if (e == null || !e.isJsonObject()) {
                return Double.NaN;
            }
            e = e.getAsJsonObject().get(part);
        }
        if (e == null || e.isJsonNull()) {
            return Double.NaN;
        }
        if (!e.isJsonPrimitive() || !e.getAsJsonPrimitive().isNumber()) {
            throw new IllegalArgumentException("field '" + path + "' is not a number: " + e);
        }
        return e.getAsDouble();
    }
}
