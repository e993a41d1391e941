package ai.tinyfusion.prune;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDManager;
import ai.tinyfusion.OneThread;
import ai.tinyfusion.cli.Main;
import ai.tinyfusion.io.FileHashes;
import ai.tinyfusion.model.dit.DiT;
import ai.tinyfusion.model.dit.DiTConfig;
import ai.tinyfusion.model.dit.ModelFiles;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

@ExtendWith(OneThread.class)
class CalibrationStudyTest {
    @Test
    void studyWritesTableHistogramMarksAndLoadableQuantileModels(@TempDir Path dir) throws Exception {
        Path model = dir.resolve("src.safetensors");
        CalibrationSet cal = Tiny.calibration(20, 8, 1);
        try (NDManager m = NDManager.newBaseManager()) {
            DiT src = Tiny.randomModel(m, 6, 3);
            ModelFiles.save(src, model, Map.of());
            DecisionRecord.Source source =
                    new DecisionRecord.Source(model.toString(), FileHashes.sha256(model), "tiny", 6);
            Target target = Target.depth(3, 6);
            DecisionRecord first = DecisionRecord.of(
                    "first", source, SimpleSelections.first(target), null, null, null, null, null, null);
            Path out = dir.resolve("study");
            CalibrationStudy.Result r = CalibrationStudy.run(
                    src, cal, new CalibrationStudy.Settings(target, 30, 9, Map.of("first", first), true), source, out);

            List<String> csv = Files.readAllLines(out.resolve(CalibrationStudy.CSV));
            assertEquals(31, csv.size());
            assertEquals("mask,kept,loss", csv.get(0));
            List<int[]> masks = CalibrationStudy.drawMasks(target, 30, 9);
            for (int i = 0; i < 30; i++) {
                String[] f = csv.get(i + 1).split(",");
                assertEquals(Integer.toString(i), f[0]);
                assertArrayEquals(
                        masks.get(i),
                        Arrays.stream(f[1].split(" "))
                                .mapToInt(Integer::parseInt)
                                .toArray());
                assertEquals(
                        r.rows().get(i).loss(),
                        Double.parseDouble(f[2]),
                        1e-7 * r.rows().get(i).loss());
                target.check(masks.get(i));
            }
            assertTrue(Files.size(out.resolve(CalibrationStudy.PNG)) > 1000);
            assertTrue(Files.exists(out.resolve(CalibrationStudy.SUMMARY)));
            assertTrue(r.work().blockEvaluations() < r.work().naiveBlockEvaluations(), "prefixes are shared");

            // The mark: the loss of "first" on the same calibration set, equal to a random row with the same mask.
            List<String> marks = Files.readAllLines(out.resolve(CalibrationStudy.MARKS_CSV));
            assertEquals(2, marks.size());
            assertTrue(marks.get(1).startsWith("first,first,0 1 2,"), marks.get(1));
            CalibrationStudy.Mark mk = r.marks().get(0);
            for (CalibrationStudy.Row row : r.rows()) {
                if (Arrays.equals(row.kept(), mk.kept())) {
                    assertEquals(row.loss(), mk.loss(), 0.0);
                }
            }

            // min ≤ median ≤ max, exported as loadable pruned models with their records.
            double[] sorted = r.rows().stream()
                    .mapToDouble(CalibrationStudy.Row::loss)
                    .sorted()
                    .toArray();
            double[] expect = {sorted[0], sorted[14], sorted[29]};
            String[] q = {"min", "median", "max"};
            for (int i = 0; i < 3; i++) {
                PrunedModels.Saved saved = r.exports().get(q[i]);
                DecisionRecord rec = PrunedModels.readRecord(saved.model());
                assertEquals("random-" + q[i], rec.method());
                assertNull(rec.layerScores());
                assertEquals(9L, rec.seed());
                double loss = rec.details()
                        .getAsJsonObject("study")
                        .get("calibration_loss")
                        .getAsDouble();
                assertEquals(expect[i], loss, 0.0);
                int index =
                        rec.details().getAsJsonObject("study").get("mask_index").getAsInt();
                assertArrayEquals(masks.get(index), rec.kept());
                DiT pruned = ModelFiles.load(saved.model(), m, null);
                assertEquals(3, pruned.depth());
                assertEquals(
                        src.stateDict().get("blocks." + rec.kept()[2] + ".mlp.fc2.weight"),
                        pruned.stateDict().get("blocks.2.mlp.fc2.weight"));
            }
        }
    }

    @Test
    void studyCommandUnderAPatternWithAMarkedMethod(@TempDir Path dir) throws Exception {
        DiTConfig c = new DiTConfig(8, 2, 1, 32, 4, 2, 4.0, 1000, true, 0.1); // latent folders carry 1,000 classes
        Path model = dir.resolve("src.safetensors");
        try (NDManager m = NDManager.newBaseManager()) {
            Engine.getInstance().setRandomSeed(4);
            ModelFiles.save(new DiT(m, c), model, Map.of());
        }
        Path data = Tiny.latentFolder(dir.resolve("data"), 24);
        StringWriter err = new StringWriter();
        CommandLine cl = Main.commandLine();
        cl.setErr(new PrintWriter(err, true));
        Path oracle = dir.resolve("oracle.safetensors");
        assertEquals(
                0,
                cl.execute(
                        "prune",
                        "--method",
                        "oracle",
                        "--depth",
                        "2",
                        "-m",
                        model.toString(),
                        "--out",
                        oracle.toString()),
                err.toString());
        Path out = dir.resolve("study");
        assertEquals(
                0,
                cl.execute(
                        "study",
                        "calibration",
                        "-m",
                        model.toString(),
                        "--data",
                        data.toString(),
                        "--pattern",
                        "1:2",
                        "--samples",
                        "12",
                        "--calib-samples",
                        "16",
                        "--calib-batch",
                        "16",
                        "--seed",
                        "2",
                        "--mark",
                        "oracle=" + oracle + ".decision.json",
                        "--out",
                        out.toString()),
                err.toString());
        assertEquals(13, Files.readAllLines(out.resolve("study.csv")).size());
        assertTrue(Files.readAllLines(out.resolve("marks.csv")).get(1).startsWith("oracle,oracle,0 3,"));
        for (String q : new String[] {"min", "median", "max"}) {
            DecisionRecord rec = PrunedModels.readRecord(out.resolve("random-" + q + ".safetensors"));
            assertEquals("1:2", rec.pattern());
            Target.of(null, "1:2", 4).check(rec.kept());
            assertEquals(
                    16,
                    rec.details().getAsJsonObject("calibration").get("samples").getAsInt());
        }
        // Errors name the problem.
        assertEquals(
                1,
                cl.execute(
                        "study",
                        "calibration",
                        "-m",
                        model.toString(),
                        "--data",
                        data.toString(),
                        "--depth",
                        "5",
                        "--out",
                        out.toString()));
        assertTrue(err.toString().contains("--depth 5: the model has only 4 layers"), err.toString());
        assertEquals(
                1,
                cl.execute(
                        "study",
                        "calibration",
                        "-m",
                        model.toString(),
                        "--data",
                        data.toString(),
                        "--depth",
                        "2",
                        "--calib-samples",
                        "25",
                        "--out",
                        out.toString()));
        assertTrue(err.toString().contains("--calib-samples 25: the data has only 24 items"), err.toString());
    }
}
