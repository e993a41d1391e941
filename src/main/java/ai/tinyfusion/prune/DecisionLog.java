package ai.tinyfusion.prune;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The decision trace of a learnable search as CSV, one row every K steps:
 * {@code step,tau,scaling,loss,kept_0..kept_{K-1},conf_0..conf_{B-1},p_0..p_{D-1}} where kept_i is the
 * i-th kept layer (the "winner" of slot i), conf_b the confidence of pattern block b and p_l the
 * marginal keep probability of layer l, all from the EMA gates; loss is the mean training loss
 * since the previous row (after a resume, since the resume). Rows past a resumed step are dropped,
 * as in the metrics log.
 */
public final class DecisionLog {
    /** One row. */
    public record Row(
            long step,
            double tau,
            double scaling,
            double loss,
            int[] kept,
            double[] confidence,
            double[] layerKeepProbability) {}

    private final Path file;
    private final Pattern pattern;

    public DecisionLog(Path file, Pattern pattern) {
        this.file = file;
        this.pattern = pattern;
    }

    public Path file() {
        return file;
    }

    private String header() {
        List<String> cols = new ArrayList<>(List.of("step", "tau", "scaling", "loss"));
        for (int i = 0; i < pattern.keptCount(); i++) {
            cols.add("kept_" + i);
        }
        for (int b = 0; b < pattern.blocks().size(); b++) {
            cols.add("conf_" + b);
        }
        for (int l = 0; l < pattern.depth(); l++) {
            cols.add("p_" + l);
        }
        return String.join(",", cols);
    }

    /** Appends a row (writing the header first when the file is new). */
    public void append(long step, double tau, double scaling, double loss, GateDecision d) throws IOException {
        StringBuilder sb = new StringBuilder();
        if (!Files.exists(file) || Files.size(file) == 0) {
            if (file.getParent() != null) {
                Files.createDirectories(file.getParent());
            }
            sb.append(header()).append('\n');
        }
        sb.append(step)
                .append(',')
                .append(fmt(tau))
                .append(',')
                .append(fmt(scaling))
                .append(',')
                .append(Double.isFinite(loss) ? fmt(loss) : "");
        for (int k : d.kept()) {
            sb.append(',').append(k);
        }
        for (double c : d.confidence()) {
            sb.append(',').append(fmt(c));
        }
        for (double p : d.layerKeepProbability()) {
            sb.append(',').append(fmt(p));
        }
        sb.append('\n');
        Files.writeString(file, sb, StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
    }

    private static String fmt(double v) {
        return String.format(Locale.ROOT, "%.6g", v);
    }

    /** Drops rows after {@code step} (resume); checks that an existing header fits the pattern. */
    public void truncateAfter(long step) throws IOException {
        if (!Files.exists(file)) {
            return;
        }
        List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        if (lines.isEmpty()) {
            return;
        }
        if (!lines.get(0).equals(header())) {
            throw new IOException(file + " was written for a different pattern or depth (header differs)");
        }
        List<String> kept = new ArrayList<>();
        kept.add(lines.get(0));
        for (int i = 1; i < lines.size(); i++) {
            if (!lines.get(i).isBlank() && Long.parseLong(lines.get(i).split(",", 2)[0]) <= step) {
                kept.add(lines.get(i));
            }
        }
        if (kept.size() != lines.size()) {
            Files.write(file, kept, StandardCharsets.UTF_8);
        }
    }

    /** Reads every row of a decision log. */
    public static List<Row> read(Path file) throws IOException {
        List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        List<Row> rows = new ArrayList<>();
        if (lines.isEmpty()) {
            return rows;
        }
        String[] h = lines.get(0).split(",");
        int kept = 0;
        int conf = 0;
        int layers = 0;
        for (String c : h) {
            if (c.startsWith("kept_")) {
                kept++;
            } else if (c.startsWith("conf_")) {
                conf++;
            } else if (c.startsWith("p_")) {
                layers++;
            }
        }
        if (h.length < 4 || !h[0].equals("step") || 4 + kept + conf + layers != h.length) {
            throw new IOException(file + " is not a decision log");
        }
        for (int r = 1; r < lines.size(); r++) {
            if (lines.get(r).isBlank()) {
                continue;
            }
            String[] v = lines.get(r).split(",", -1);
            if (v.length != h.length) {
                throw new IOException(file + ": row " + r + " has " + v.length + " fields, expected " + h.length);
            }
            int[] k = new int[kept];
            double[] c = new double[conf];
            double[] p = new double[layers];
            for (int i = 0; i < kept; i++) {
                k[i] = Integer.parseInt(v[4 + i]);
            }
            for (int i = 0; i < conf; i++) {
                c[i] = Double.parseDouble(v[4 + kept + i]);
            }
            for (int i = 0; i < layers; i++) {
                p[i] = Double.parseDouble(v[4 + kept + conf + i]);
            }
            rows.add(new Row(
                    Long.parseLong(v[0]),
                    Double.parseDouble(v[1]),
                    Double.parseDouble(v[2]),
                    v[3].isEmpty() ? Double.NaN : Double.parseDouble(v[3]),
                    k,
                    c,
                    p));
        }
        return rows;
    }
}
