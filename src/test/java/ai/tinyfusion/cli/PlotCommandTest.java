package ai.tinyfusion.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.awt.image.BufferedImage;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code tinyfusion plot curves|scatter}: PNGs from run metrics and report JSON; bad input is named. */
class PlotCommandTest {
    @Test
    void curvesFromRunDirectories(@TempDir Path dir) throws Exception {
        for (String r : new String[] {"a", "b"}) {
            Files.createDirectories(dir.resolve(r));
            StringBuilder sb = new StringBuilder("step,seconds,loss\n");
            for (int s = 1; s <= 40; s++) {
                sb.append(s)
                        .append(',')
                        .append(s * 0.1)
                        .append(',')
                        .append(1.0 / s + (r.equals("b") ? 0.1 : 0))
                        .append('\n');
            }
            Files.writeString(dir.resolve(r).resolve("metrics.csv"), sb);
        }
        Path png = dir.resolve("curves.png");
        StringWriter err = new StringWriter();
        assertEquals(
                0,
                CliRun.run(
                        err,
                        "plot",
                        "curves",
                        "A=" + dir.resolve("a"),
                        "B=" + dir.resolve("b/metrics.csv"),
                        "--out",
                        png.toString()),
                err.toString());
        BufferedImage img = ImageIO.read(png.toFile());
        assertNotNull(img);
        assertEquals(900, img.getWidth());

        assertTrue(ai.tinyfusion.util.Plots.spansDecade(java.util.List.of(new double[] {0.05, 0.6})));
        assertTrue(!ai.tinyfusion.util.Plots.spansDecade(
                java.util.List.of(new double[] {0.05, 0.07}, new double[] {-1, Double.NaN})));

        err = new StringWriter();
        assertEquals(
                1,
                CliRun.run(err, "plot", "curves", "A=" + dir.resolve("a"), "--column", "kd", "--out", png.toString()));
        assertTrue(err.toString().contains("no column 'kd'"), err.toString());
        err = new StringWriter();
        assertEquals(1, CliRun.run(err, "plot", "curves", dir.resolve("a").toString(), "--out", png.toString()));
        assertTrue(err.toString().contains("expected NAME=PATH"), err.toString());
    }

    @Test
    void scatterOfReportFields(@TempDir Path dir) throws Exception {
        Path report = dir.resolve("report.json");
        Files.writeString(
                report,
                "[{\"model\":\"teacher\",\"speedup\":1.0,\"metrics\":{\"fid\":10.0}},"
                        + "{\"model\":\"p1\",\"speedup\":2.0,\"calibrationLoss\":0.3,\"metrics\":{\"fid\":20.0}},"
                        + "{\"model\":\"p2\",\"speedup\":2.0,\"calibrationLoss\":0.5,\"metrics\":{\"fid\":15.0}}]");
        Path png = dir.resolve("s.png");
        StringWriter err = new StringWriter();
        assertEquals(
                0,
                CliRun.run(
                        err,
                        "plot",
                        "scatter",
                        "--report",
                        report.toString(),
                        "--x",
                        "calibrationLoss",
                        "--y",
                        "metrics.fid",
                        "--out",
                        png.toString()),
                err.toString());
        assertNotNull(ImageIO.read(png.toFile()));

        assertEquals(
                "Spearman rho = -1.00, n = 3",
                PlotCommand.correlation(java.util.List.of(
                        new double[] {1, 5}, new double[] {2, 4}, new double[] {3, 1}, new double[] {Double.NaN, 0})));
        assertEquals("", PlotCommand.correlation(java.util.List.of(new double[] {1, 5}, new double[] {2, 4})));

        JsonObject row =
                JsonParser.parseString("{\"a\":{\"b\":2.5},\"s\":\"x\"}").getAsJsonObject();
        assertEquals(2.5, PlotCommand.field(row, "a.b"));
        assertTrue(Double.isNaN(PlotCommand.field(row, "a.c")));
        assertTrue(Double.isNaN(PlotCommand.field(row, "s.t")));

        err = new StringWriter();
        assertEquals(
                1,
                CliRun.run(
                        err,
                        "plot",
                        "scatter",
                        "--report",
                        report.toString(),
                        "--x",
                        "model",
                        "--y",
                        "speedup",
                        "--out",
                        png.toString()));
        assertTrue(err.toString().contains("'model' is not a number"), err.toString());
        err = new StringWriter();
        assertEquals(
                1,
                CliRun.run(
                        err,
                        "plot",
                        "scatter",
                        "--report",
                        report.toString(),
                        "--x",
                        "nope",
                        "--y",
                        "speedup",
                        "--out",
                        png.toString()));
        assertTrue(err.toString().contains("no point has both coordinates"), err.toString());
    }

    @Test
    void budgetTableAndPlotFromEvalFiles(@TempDir Path dir) throws Exception {
        double[][] fid = {{300, 250, 200}, {280, 260, 240}, {320, 240, 190}}; // rows a, b, c at 10, 20, 50 steps
        long[] steps = {10, 20, 50};
        String[] names = {"a", "b", "c"};
        for (int r = 0; r < 3; r++) {
            Path d = Files.createDirectories(dir.resolve(names[r]));
            for (int k = 0; k < 3; k++) {
                if (r == 1 && k == 2) {
                    continue; // row b has no 50-step result yet
                }
                Files.writeString(
                        d.resolve("step-" + steps[k] + ".json"),
                        "[{\"fid\":" + fid[r][k] + ",\"fidStd\":5.0,\"classAccuracy\":0.5}]");
            }
        }
        Files.writeString(dir.resolve("a/notes.json"), "{}"); // not a step file: ignored
        Files.writeString(dir.resolve("teacher.json"), "{\"fid\":150.0}");
        Path png = dir.resolve("budget.png");
        Path md = dir.resolve("budget.md");
        StringWriter err = new StringWriter();
        assertEquals(
                0,
                CliRun.run(
                        err,
                        "plot",
                        "budget",
                        "A=" + dir.resolve("a"),
                        "B=" + dir.resolve("b"),
                        "C=" + dir.resolve("c"),
                        "--reference",
                        "teacher=" + dir.resolve("teacher.json"),
                        "--calib",
                        "A=0.1",
                        "--calib",
                        "B=0.2",
                        "--calib",
                        "C=0.3",
                        "--per-epoch",
                        "10",
                        "--out",
                        png.toString(),
                        "--markdown",
                        md.toString()),
                err.toString());
        assertNotNull(ImageIO.read(png.toFile()));
        String table = Files.readString(md);
        assertTrue(table.contains("| row | 10 steps (1 ep) | 20 steps (2 ep) | 50 steps (5 ep) |"), table);
        assertTrue(table.contains("| A | 300.0 ± 5.0 | 250.0 ± 5.0 | 200.0 ± 5.0 |"), table);
        assertTrue(table.contains("| B | 280.0 ± 5.0 | 260.0 ± 5.0 |  |"), table);
        assertTrue(table.contains("| teacher (reference) | 150.0 | 150.0 | 150.0 |"), table);
        // rho at 10 steps: calib 0.1, 0.2, 0.3 vs FID 300, 280, 320 -> 0.5; at 50 steps only two rows: no value
        assertTrue(table.contains("| Spearman rho (fid, calibration score) | 0.50, n = 3 | -0.50, n = 3 |  |"), table);

        err = new StringWriter();
        assertEquals(1, CliRun.run(err, "plot", "budget", "A=" + dir.resolve("missing"), "--out", png.toString()));
        assertTrue(err.toString().contains("'A': expected NAME=DIR"), err.toString());
    }
}
