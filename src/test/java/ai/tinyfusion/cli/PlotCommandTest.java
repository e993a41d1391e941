package ai.tinyfusion.cli;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code tinyfusion plot curves|scatter}: PNGs from run metrics and report JSON; bad input is named. */
class PlotCommandTest {
    @Test
    void curvesFromRunDirectories(@TempDir Path dir) throws Exception {
        for (String r : new String[] {"a", "b"}) {
            Files.createDirectories(dir.resolve(r));
            StringBuilder sb = new StringBuilder("step,seconds,loss\n");
            for (int s = 1; s <= 40; s++) {
                sb.append(s).append(',').append(s * 0.1).append(',').append(1.0 / s + (r.equals("b") ? 0.1 : 0)).append('\n');
            }
            Files.writeString(dir.resolve(r).resolve("metrics.csv"), sb);
        }
        Path png = dir.resolve("curves.png");
        StringWriter err = new StringWriter();
        assertEquals(0, CliRun.run(err, "plot", "curves", "A=" + dir.resolve("a"), "B=" + dir.resolve("b/metrics.csv"), "--out",
                png.toString()), err.toString());
        BufferedImage img = ImageIO.read(png.toFile());
        assertNotNull(img);
        assertEquals(900, img.getWidth());

        assertTrue(ai.tinyfusion.util.Plots.spansDecade(java.util.List.of(new double[] {0.05, 0.6})));
        assertTrue(!ai.tinyfusion.util.Plots.spansDecade(java.util.List.of(new double[] {0.05, 0.07}, new double[] {-1, Double.NaN})));

        err = new StringWriter();
        assertEquals(1, CliRun.run(err, "plot", "curves", "A=" + dir.resolve("a"), "--column", "kd", "--out", png.toString()));
        assertTrue(err.toString().contains("no column 'kd'"), err.toString());
        err = new StringWriter();
        assertEquals(1, CliRun.run(err, "plot", "curves", dir.resolve("a").toString(), "--out", png.toString()));
        assertTrue(err.toString().contains("expected NAME=PATH"), err.toString());
    }

    @Test
    void scatterOfReportFields(@TempDir Path dir) throws Exception {
        Path report = dir.resolve("report.json");
        Files.writeString(report, "[{\"model\":\"teacher\",\"speedup\":1.0,\"metrics\":{\"fid\":10.0}},"
                + "{\"model\":\"p1\",\"speedup\":2.0,\"calibrationLoss\":0.3,\"metrics\":{\"fid\":20.0}},"
                + "{\"model\":\"p2\",\"speedup\":2.0,\"calibrationLoss\":0.5,\"metrics\":{\"fid\":15.0}}]");
        Path png = dir.resolve("s.png");
        StringWriter err = new StringWriter();
        assertEquals(0, CliRun.run(err, "plot", "scatter", "--report", report.toString(), "--x", "calibrationLoss", "--y",
                "metrics.fid", "--out", png.toString()), err.toString());
        assertNotNull(ImageIO.read(png.toFile()));

        assertEquals("Spearman rho = -1.00, n = 3", PlotCommand.correlation(java.util.List.of(new double[] {1, 5},
                new double[] {2, 4}, new double[] {3, 1}, new double[] {Double.NaN, 0})));
        assertEquals("", PlotCommand.correlation(java.util.List.of(new double[] {1, 5}, new double[] {2, 4})));

        JsonObject row = JsonParser.parseString("{\"a\":{\"b\":2.5},\"s\":\"x\"}").getAsJsonObject();
        assertEquals(2.5, PlotCommand.field(row, "a.b"));
        assertTrue(Double.isNaN(PlotCommand.field(row, "a.c")));
        assertTrue(Double.isNaN(PlotCommand.field(row, "s.t")));

        err = new StringWriter();
        assertEquals(1, CliRun.run(err, "plot", "scatter", "--report", report.toString(), "--x", "model", "--y", "speedup", "--out",
                png.toString()));
        assertTrue(err.toString().contains("'model' is not a number"), err.toString());
        err = new StringWriter();
        assertEquals(1, CliRun.run(err, "plot", "scatter", "--report", report.toString(), "--x", "nope", "--y", "speedup", "--out",
                png.toString()));
        assertTrue(err.toString().contains("no point has both coordinates"), err.toString());
    }
}
