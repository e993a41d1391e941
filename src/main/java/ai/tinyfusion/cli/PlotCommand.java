package ai.tinyfusion.cli;

import ai.tinyfusion.train.MetricsLog;
import ai.tinyfusion.util.Plots;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code tinyfusion plot}: charts over finished runs, for write-ups. {@code curves} overlays the
 * smoothed training curves of several runs (e.g. the recovery of differently pruned models);
 * {@code scatter} plots two fields of a {@code report --json} file against each other, one labelled
 * point per model (e.g. calibration loss against FID after recovery); {@code budget} plots evaluation
 * results against the training budget that produced them (FID after 1, 2, 5 epochs of recovery), one line
 * per pruned model, with the rank correlation of a pre-recovery score at each budget.
 */
@Command(
        name = "plot",
        mixinStandardHelpOptions = true,
        description = "PNG charts over finished runs and reports.",
        subcommands = {PlotCommand.Curves.class, PlotCommand.Scatter.class, PlotCommand.Budget.class})
public final class PlotCommand implements Runnable {
    @Override
    public void run() {
        picocli.CommandLine.usage(this, System.out);
    }

    @Command(
            name = "curves",
            mixinStandardHelpOptions = true,
            description = "Overlay one metrics.csv column of several runs (moving average), e.g. recovery loss curves.")
    static final class Curves implements Callable<Integer> {
        @Parameters(
                arity = "1..*",
                paramLabel = "NAME=RUN",
                mapFallbackValue = "",
                description = "A label and a run directory (holding metrics.csv) or a metrics.csv file.")
        Map<String, Path> runs = new LinkedHashMap<>();

        @Option(names = "--column", defaultValue = "loss", description = "Column to plot (${DEFAULT-VALUE}).")
        String column;

        @Option(
                names = "--smooth",
                defaultValue = "25",
                description = "Moving-average window in logged rows (${DEFAULT-VALUE}).")
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
                    throw new IllegalArgumentException(
                            csv + " has no column '" + column + "' (columns: " + m.keySet() + ")");
                }
                series.put(run.getKey(), new double[][] {m.get("step"), m.get(column)});
            }
            Plots.smoothedLines(
                    out,
                    title,
                    "step",
                    column + (smooth > 1 ? " (moving average of " + smooth + ")" : ""),
                    series,
                    smooth,
                    !linear);
            System.out.println("wrote " + out);
            return 0;
        }
    }

    @Command(
            name = "scatter",
            mixinStandardHelpOptions = true,
            description =
                    "Plot two fields of a `report --json` file, one labelled point per model. Fields are dotted paths, "
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

    @Command(
            name = "budget",
            mixinStandardHelpOptions = true,
            description =
                    "One metric of `eval --json` results against the training steps that produced them, one line per "
                            + "row: each row directory holds step-<N>.json files. Writes the PNG (with ± bars from the metric's "
                            + "spread when present, e.g. fidStd) and prints a markdown table; with --calib, Spearman's rho between "
                            + "that score and the metric at each budget.")
    static final class Budget implements Callable<Integer> {
        @Parameters(
                arity = "1..*",
                paramLabel = "NAME=DIR",
                mapFallbackValue = "",
                description = "A row label and a directory of step-<N>.json evaluation files.")
        Map<String, Path> rows = new LinkedHashMap<>();

        @Option(names = "--field", defaultValue = "fid", description = "Metric to plot (${DEFAULT-VALUE}).")
        String field;

        @Option(
                names = "--error",
                description = "Field holding the metric's standard deviation (default: <field>Std when present).")
        String error;

        @Option(
                names = "--reference",
                paramLabel = "NAME=JSON",
                mapFallbackValue = "",
                description = "A horizontal reference line from an eval JSON, e.g. teacher=metrics/teacher.json.")
        Map<String, Path> references = new LinkedHashMap<>();

        @Option(
                names = "--calib",
                paramLabel = "NAME=SCORE",
                mapFallbackValue = "",
                description =
                        "A pre-recovery score of a row (e.g. its calibration loss) for the per-budget rank correlation.")
        Map<String, String> calib = new LinkedHashMap<>();

        @Option(names = "--per-epoch", description = "Steps per epoch: also label budgets in epochs.")
        Long perEpoch;

        @Option(names = "--title", defaultValue = "quality against recovery budget", description = "Chart title.")
        String title;

        @Option(names = "--out", required = true, description = "PNG file to write.")
        Path out;

        @Option(names = "--markdown", description = "Also write the table to this file.")
        Path markdown;

        @Override
        public Integer call() throws IOException {
            String err = error != null ? error : field + "Std";
            Map<String, java.util.TreeMap<Long, double[]>> table = new LinkedHashMap<>();
            java.util.TreeSet<Long> budgets = new java.util.TreeSet<>();
            for (Map.Entry<String, Path> row : rows.entrySet()) {
                Path dir = row.getValue();
                if (dir == null || dir.toString().isEmpty() || !Files.isDirectory(dir)) {
                    throw new IllegalArgumentException(
                            "'" + row.getKey() + "': expected NAME=DIR with an existing directory");
                }
                java.util.TreeMap<Long, double[]> points = new java.util.TreeMap<>();
                try (var files = Files.list(dir)) {
                    for (Path f : (Iterable<Path>) files::iterator) {
                        java.util.regex.Matcher m =
                                STEP_FILE.matcher(f.getFileName().toString());
                        if (m.matches()) {
                            JsonObject o = metricsObject(f);
                            double e = field(o, err);
                            points.put(
                                    Long.parseLong(m.group(1)),
                                    new double[] {field(o, field), Double.isNaN(e) ? 0 : e});
                        }
                    }
                }
                budgets.addAll(points.keySet());
                table.put(row.getKey(), points);
            }
            if (budgets.isEmpty()) {
                throw new IllegalArgumentException("no step-<N>.json file in any row directory");
            }
            Map<String, double[][]> series = new LinkedHashMap<>();
            table.forEach((name, points) -> {
                double[][] v = new double[3][points.size()];
                int i = 0;
                for (Map.Entry<Long, double[]> p : points.entrySet()) {
                    v[0][i] = p.getKey();
                    v[1][i] = p.getValue()[0];
                    v[2][i++] = p.getValue()[1];
                }
                series.put(name, v);
            });
            Map<String, Double> refs = new LinkedHashMap<>();
            for (Map.Entry<String, Path> r : references.entrySet()) {
                refs.put(r.getKey(), field(metricsObject(r.getValue()), field));
            }
            Plots.linesWithErrors(out, title, "recovery steps", field, series, refs);
            String md = table(table, budgets, refs, err);
            System.out.print(md);
            if (markdown != null) {
                Files.writeString(markdown, md);
            }
            System.out.println("wrote " + out);
            return 0;
        }

        private String table(
                Map<String, java.util.TreeMap<Long, double[]>> table,
                java.util.SortedSet<Long> budgets,
                Map<String, Double> refs,
                String err) {
            StringBuilder sb = new StringBuilder("| row |");
            StringBuilder rule = new StringBuilder("| --- |");
            for (long b : budgets) {
                sb.append(' ').append(b).append(" steps");
                if (perEpoch != null && perEpoch > 0) {
                    sb.append(" (")
                            .append(new java.text.DecimalFormat(
                                            "0.##", java.text.DecimalFormatSymbols.getInstance(java.util.Locale.ROOT))
                                    .format((double) b / perEpoch))
                            .append(" ep)");
                }
                sb.append(" |");
                rule.append(" ---: |");
            }
            sb.append('\n').append(rule).append('\n');
            table.forEach((name, points) -> {
                sb.append("| ").append(name).append(" |");
                for (long b : budgets) {
                    double[] p = points.get(b);
                    sb.append(' ')
                            .append(
                                    p == null
                                            ? ""
                                            : p[1] > 0
                                                    ? String.format(java.util.Locale.ROOT, "%.1f ± %.1f", p[0], p[1])
                                                    : String.format(java.util.Locale.ROOT, "%.4g", p[0]))
                            .append(" |");
                }
                sb.append('\n');
            });
            refs.forEach((name, v) -> sb.append("| ")
                    .append(name)
                    .append(" (reference) |")
                    .append(String.format(java.util.Locale.ROOT, " %.4g |", v).repeat(budgets.size()))
                    .append('\n'));
            if (!calib.isEmpty()) {
                sb.append("| Spearman rho (").append(field).append(", calibration score) |");
                for (long b : budgets) {
                    List<double[]> pts = new java.util.ArrayList<>();
                    table.forEach((name, points) -> {
                        if (calib.containsKey(name) && points.containsKey(b)) {
                            pts.add(new double[] {Double.parseDouble(calib.get(name)), points.get(b)[0]});
                        }
                    });
                    String c = correlation(pts);
                    sb.append(' ')
                            .append(c.isEmpty() ? "" : c.replace("Spearman rho = ", ""))
                            .append(" |");
                }
                sb.append('\n');
            }
            return sb.toString();
        }

        private static final java.util.regex.Pattern STEP_FILE = java.util.regex.Pattern.compile("step-(\\d+)\\.json");

        /** The first (or only) object of an {@code eval --json} file. */
        private static JsonObject metricsObject(Path file) throws IOException {
            JsonElement e = ReportCommand.readJson(file);
            if (e.isJsonArray() && !e.getAsJsonArray().isEmpty()) {
                e = e.getAsJsonArray().get(0);
            }
            if (!e.isJsonObject()) {
                throw new IllegalArgumentException(file + ": expected an eval --json object or list");
            }
            return e.getAsJsonObject();
        }
    }
}
