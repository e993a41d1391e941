package ai.tinyfusion.train;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Per-step metrics as CSV ({@code step,seconds,<name>...}); the header is fixed by the first row.
 * Rows past a resumed step are dropped so that the file always describes one consistent run.
 */
public final class MetricsLog {
    private final Path file;
    private List<String> columns;

    MetricsLog(Path file) throws IOException {
        this.file = file;
        if (Files.exists(file)) {
            List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
            if (!lines.isEmpty()) {
                columns = List.of(lines.get(0).split(","));
            }
        }
    }

    public Path file() {
        return file;
    }

    void append(long step, Map<String, Double> values, double seconds) throws IOException {
        StringBuilder sb = new StringBuilder();
        if (columns == null) {
            columns = new ArrayList<>(List.of("step", "seconds"));
            columns.addAll(values.keySet());
            sb.append(String.join(",", columns)).append('\n');
        }
        sb.append(step).append(',').append(String.format(Locale.ROOT, "%.3f", seconds));
        for (String c : columns.subList(2, columns.size())) {
            Double v = values.get(c);
            sb.append(',').append(v == null ? "" : String.format(Locale.ROOT, "%.6g", v));
        }
        sb.append('\n');
        Files.writeString(file, sb, StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
    }

    void truncateAfter(long step) throws IOException {
        if (!Files.exists(file)) {
            return;
        }
        List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        List<String> kept = new ArrayList<>();
        for (int i = 0; i < lines.size(); i++) {
            if (i == 0 || Long.parseLong(lines.get(i).split(",", 2)[0]) <= step) {
                kept.add(lines.get(i));
            }
        }
        if (kept.size() != lines.size()) {
            Files.write(file, kept, StandardCharsets.UTF_8);
        }
    }

    /** Column name → values (NaN where empty), in row order. */
    public static LinkedHashMap<String, double[]> read(Path file) throws IOException {
        List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        LinkedHashMap<String, double[]> out = new LinkedHashMap<>();
        if (lines.isEmpty()) {
            return out;
        }
        String[] header = lines.get(0).split(",");
        int n = lines.size() - 1;
        for (String h : header) {
            out.put(h, new double[n]);
        }
        for (int r = 0; r < n; r++) {
            String[] cells = lines.get(r + 1).split(",", -1);
            for (int c = 0; c < header.length; c++) {
                out.get(header[c])[r] =
                        c < cells.length && !cells[c].isEmpty() ? Double.parseDouble(cells[c]) : Double.NaN;
            }
        }
        return out;
    }
}
