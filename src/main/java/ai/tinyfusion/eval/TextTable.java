package ai.tinyfusion.eval;

import java.util.Arrays;
import java.util.List;

/** Renders rows of cells (the first row the header) as an aligned text table or a markdown table. */
public final class TextTable {
    private TextTable() {}

    /** First column left-aligned, the others right-aligned, two spaces apart, a dashed rule under the header. */
    public static String aligned(List<String[]> rows) {
        int[] w = new int[rows.get(0).length];
        for (String[] row : rows) {
            for (int i = 0; i < w.length; i++) {
                w[i] = Math.max(w[i], row[i].length());
            }
        }
        StringBuilder sb = new StringBuilder();
        for (int r = 0; r < rows.size(); r++) {
            for (int i = 0; i < w.length; i++) {
                String s = rows.get(r)[i];
                String fill = " ".repeat(w[i] - s.length());
                sb.append(i == 0 ? s + fill : "  " + fill + s);
            }
            sb.append('\n');
            if (r == 0) {
                sb.append("-".repeat(Arrays.stream(w).sum() + 2 * (w.length - 1)))
                        .append('\n');
            }
        }
        return sb.toString();
    }

    /** A GitHub markdown table, numbers (every column but the first) right-aligned. */
    public static String markdown(List<String[]> rows) {
        StringBuilder sb = new StringBuilder();
        for (int r = 0; r < rows.size(); r++) {
            sb.append("| ").append(String.join(" | ", rows.get(r))).append(" |\n");
            if (r == 0) {
                sb.append("| --- |")
                        .append(" ---: |".repeat(rows.get(0).length - 1))
                        .append('\n');
            }
        }
        return sb.toString();
    }
}
