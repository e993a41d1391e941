package ai.tinyfusion.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDManager;
import ai.tinyfusion.eval.MetricsReport;
import ai.tinyfusion.model.dit.DiT;
import ai.tinyfusion.model.dit.DiTConfig;
import ai.tinyfusion.model.dit.LayerSubset;
import ai.tinyfusion.model.dit.ModelFiles;
import com.google.gson.JsonArray;
import com.google.gson.JsonParser;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code tinyfusion report}: rows per model, the first is the speedup baseline, eval metrics are joined. */
class ReportCommandTest {
    @Test
    void reportsSizesSpeedupAndMetrics(@TempDir Path dir) throws Exception {
        DiTConfig c = new DiTConfig(8, 2, 1, 32, 4, 2, 4.0, 3, true, 0.1);
        Path full = dir.resolve("full.safetensors");
        Path half = dir.resolve("half.safetensors");
        try (NDManager m = NDManager.newBaseManager()) {
            Engine.getInstance().setRandomSeed(0);
            DiT model = new DiT(m, c);
            ModelFiles.save(model, full, Map.of());
            ModelFiles.save(LayerSubset.keep(model, new int[] {0, 2}, m), half, Map.of());
        }
        Path metrics = dir.resolve("half.json");
        Files.writeString(
                metrics, "[" + new MetricsReport("half", 10, 12.5, 20.0, 3.0, 0.5, 0.25, 0.75).toJson() + "]");
        Path json = dir.resolve("report.json");
        StringWriter out = new StringWriter();
        CommandLine cli = Main.commandLine();
        cli.setOut(new PrintWriter(out));
        int rc = cli.execute(
                "report",
                full.toString(),
                half.toString(),
                "--name",
                "teacher,pruned",
                "--metrics",
                "-," + metrics,
                "--batch",
                "2",
                "--rounds",
                "3",
                "--warmup",
                "1",
                "--json",
                json.toString(),
                "--calib-loss",
                "-,0.25",
                "--markdown",
                dir.resolve("r.md").toString());
        assertTrue(
                Files.readString(dir.resolve("r.md")).contains("| pruned | 2 |"),
                Files.readString(dir.resolve("r.md")));
        assertEquals(
                0.25,
                JsonParser.parseString(Files.readString(json))
                        .getAsJsonArray()
                        .get(1)
                        .getAsJsonObject()
                        .get("calibrationLoss")
                        .getAsDouble());
        assertEquals(0, rc);
        JsonArray rows = JsonParser.parseString(Files.readString(json)).getAsJsonArray();
        assertEquals(2, rows.size());
        assertEquals("teacher", rows.get(0).getAsJsonObject().get("model").getAsString());
        assertEquals(4, rows.get(0).getAsJsonObject().get("depth").getAsInt());
        assertEquals(2, rows.get(1).getAsJsonObject().get("depth").getAsInt());
        assertEquals(1.0, rows.get(0).getAsJsonObject().get("speedup").getAsDouble(), 1e-12);
        assertTrue(rows.get(1).getAsJsonObject().get("itPerSec").getAsDouble() > 0);
        assertEquals(
                0.75,
                rows.get(1)
                        .getAsJsonObject()
                        .getAsJsonObject("metrics")
                        .get("classAccuracy")
                        .getAsDouble());
        assertTrue(rows.get(0).getAsJsonObject().get("metrics") == null);
        double p0 = rows.get(0).getAsJsonObject().get("parameters").getAsDouble();
        double p1 = rows.get(1).getAsJsonObject().get("parameters").getAsDouble();
        assertTrue(p1 < p0);
    }

    @Test
    void mismatchedMetricsListIsAClearError(@TempDir Path dir) {
        StringWriter err = new StringWriter();
        CommandLine cli = Main.commandLine();
        cli.setErr(new PrintWriter(err));
        assertEquals(1, cli.execute("report", "a.safetensors", "b.safetensors", "--metrics", "x.json"));
        assertTrue(err.toString().contains("--metrics: 1 files for 2 models"), err.toString());
    }
}
