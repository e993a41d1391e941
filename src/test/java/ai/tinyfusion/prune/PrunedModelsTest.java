package ai.tinyfusion.prune;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.tinyfusion.OneThread;
import ai.tinyfusion.io.FileHashes;
import ai.tinyfusion.io.Safetensors;
import ai.tinyfusion.model.dit.DiT;
import ai.tinyfusion.model.dit.LayerSubset;
import ai.tinyfusion.model.dit.Lora;
import ai.tinyfusion.model.dit.ModelFiles;
import com.google.gson.JsonObject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

@ExtendWith(OneThread.class)
class PrunedModelsTest {
    private static NDArray run(DiT model, NDManager s) {
        model.useIn(s);
        Engine.getInstance().setRandomSeed(31);
        NDArray x = s.randomNormal(new Shape(3, 1, 8, 8));
        return model.forward(x, s.create(new long[] {1, 400, 999}), s.create(new long[] {0, 2, 3}));
    }

    private static DecisionRecord.Source source(Path file, int depth) throws IOException {
        return new DecisionRecord.Source(file.toString(), FileHashes.sha256(file), "test source", depth);
    }

    @Test
    void savedModelsReloadWithRenumberedKeysAndPruneAgain(@TempDir Path dir) throws Exception {
        try (NDManager m = NDManager.newBaseManager();
                NDManager s = m.newSubManager()) {
            DiT src = Tiny.randomModel(m, 4, 12);
            Path srcFile = dir.resolve("src.safetensors");
            ModelFiles.save(src, srcFile, Map.of());

            double[] scores = {0.9, 0.1, 0.8, 0.2};
            DecisionRecord rec = DecisionRecord.of(
                    "learned",
                    source(srcFile, 4),
                    new int[] {0, 2},
                    "1:2",
                    scores,
                    "marginal keep probability",
                    7L,
                    null,
                    null);
            assertArrayEquals(new int[] {1, 3}, rec.removed());
            Path out = dir.resolve("pruned/d2.safetensors");
            PrunedModels.Saved saved = PrunedModels.save(rec, out, null);
            assertEquals(dir.resolve("pruned/d2.safetensors.decision.json"), saved.record());

            DiT d2 = ModelFiles.load(out, m, null);
            assertEquals(2, d2.depth());
            assertEquals(src.config().withDepth(2), d2.config());
            Set<String> expectKeys = new TreeSet<>(
                    new DiT(m, src.config().withDepth(2), false).stateDict().keySet());
            assertEquals(expectKeys, new TreeSet<>(d2.stateDict().keySet()));
            // blocks.1 of the pruned model is blocks.2 of the source; non-block weights unchanged.
            assertEquals(
                    src.stateDict().get("blocks.2.attn.qkv.weight"),
                    d2.stateDict().get("blocks.1.attn.qkv.weight"));
            assertEquals(
                    src.stateDict().get("blocks.0.mlp.fc2.bias"), d2.stateDict().get("blocks.0.mlp.fc2.bias"));
            assertEquals(
                    src.stateDict().get("final_layer.linear.weight"),
                    d2.stateDict().get("final_layer.linear.weight"));
            try (NDManager km = m.newSubManager()) {
                assertEquals(run(LayerSubset.keep(src, new int[] {0, 2}, km), s), run(d2, s));
            }
            Map<String, String> meta = Safetensors.readMetadata(out);
            assertEquals("learned", meta.get("prune_method"));
            assertEquals("0,2", meta.get("kept_layers"));
            assertEquals(rec.source().sha256(), meta.get("source_sha256"));

            DecisionRecord back = PrunedModels.readRecord(out);
            assertEquals("learned", back.method());
            assertArrayEquals(new int[] {0, 2}, back.kept());
            assertArrayEquals(new int[] {1, 3}, back.removed());
            assertArrayEquals(scores, back.layerScores());
            assertEquals(rec.source(), back.source());
            assertEquals(7L, back.seed());
            assertEquals(FileHashes.sha256(out), back.output().sha256());
            assertEquals(d2.parameterCount(), back.output().parameters());
            assertNull(back.learned());

            // Iterative: 4 → 2 → 1, the second step from the saved 2-layer file, by another method.
            JsonObject details = new JsonObject();
            details.addProperty("note", "any method-specific detail");
            DecisionRecord rec2 =
                    DecisionRecord.of("random", source(out, 2), new int[] {1}, null, null, null, 5L, null, details);
            PrunedModels.save(rec2, dir.resolve("d1.safetensors"), null);
            DiT d1 = ModelFiles.load(dir.resolve("d1.safetensors"), m, null);
            assertEquals(1, d1.depth());
            assertEquals(
                    src.stateDict().get("blocks.2.adaLN_modulation.1.weight"),
                    d1.stateDict().get("blocks.0.adaLN_modulation.1.weight"));
            try (NDManager km = m.newSubManager()) {
                assertEquals(run(LayerSubset.keep(src, new int[] {2}, km), s), run(d1, s));
            }
            assertEquals(
                    "any method-specific detail",
                    PrunedModels.readRecord(dir.resolve("d1.safetensors"))
                            .details()
                            .get("note")
                            .getAsString());

            // The source changed after the decision: refused.
            ModelFiles.save(Tiny.randomModel(m, 4, 13), srcFile, Map.of());
            IOException changed =
                    assertThrows(IOException.class, () -> PrunedModels.save(rec, dir.resolve("x.safetensors"), null));
            assertTrue(changed.getMessage().contains("has changed"), changed.getMessage());

            // A model that still carries adapters is refused.
            Lora.attachAll(src, 2, 4);
            assertThrows(
                    IllegalArgumentException.class, () -> PrunedModels.save(src, rec, dir.resolve("y.safetensors")));
        }
    }

    @Test
    void recordsValidate() {
        DecisionRecord.Source src = new DecisionRecord.Source(null, null, "preset", 4);
        assertThrows(
                IllegalArgumentException.class,
                () -> DecisionRecord.of("bi", src, new int[] {0, 4}, null, null, null, null, null, null));
        assertThrows(
                IllegalArgumentException.class,
                () -> DecisionRecord.of("bi", src, new int[] {2, 1}, null, null, null, null, null, null));
        assertThrows(
                IllegalArgumentException.class,
                () -> DecisionRecord.of("bi", src, new int[] {0}, null, new double[3], "x", null, null, null));
        assertThrows(
                IllegalArgumentException.class,
                () -> DecisionRecord.of("", src, new int[] {0}, null, null, null, null, null, null));
        DecisionRecord ok = DecisionRecord.of(
                "bi", src, new int[] {1, 3}, null, new double[] {0.1, 0.2, 0.3, 0.4}, "1 - cos", null, null, null);
        DecisionRecord back = DecisionRecord.fromJson(ok.toJson());
        assertArrayEquals(new int[] {0, 2}, back.removed());
        assertEquals(DecisionRecord.FORMAT, back.format());
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class,
                () -> DecisionRecord.fromJson(ok.toJson().replace(DecisionRecord.FORMAT, "other/9")));
        assertTrue(e.getMessage().contains("other/9"));
        assertThrows(
                IllegalArgumentException.class,
                () -> DecisionRecord.fromJson(ok.toJson().replace("\"kept\": [\n    1,", "\"kept\": [\n    7,")));
    }

    @Test
    void learnedRecordCarriesTheSearch(@TempDir Path dir) throws Exception {
        Pattern p = Pattern.parse("2:4,1:2", 6);
        GateDecision d = GateDecision.of(p, List.of(new float[] {0, 0, 0, 0, 0.03f, 0}, new float[] {0.01f, 0}), 100);
        assertArrayEquals(new int[] {4, 0}, d.choice());
        assertArrayEquals(new int[] {1, 3, 4}, d.kept());
        double e3 = Math.exp(3);
        assertEquals(e3 / (5 + e3), d.confidence()[0], 1e-6); // 100 · 0.03f = 3.0000001
        assertEquals(Math.exp(1) / (1 + Math.exp(1)), d.confidence()[1], 1e-6);
        // Layer 1 is kept by candidates {0,1}, {1,2}, {1,3} (indices 0, 3, 4).
        assertEquals((2 + e3) / (5 + e3), d.layerKeepProbability()[1], 1e-6);
        double sum = 0;
        for (double v : d.layerKeepProbability()) {
            sum += v;
        }
        assertEquals(3.0, sum, 1e-12, "marginals add up to the kept count");

        LearnedPruning.Outcome out = new LearnedPruning.Outcome(
                p,
                d,
                List.of(),
                100,
                new ai.tinyfusion.train.TrainLoop.Result(50, 0, 0.1, 2.5, null),
                0,
                1234,
                100000,
                dir,
                dir.resolve("decisions.csv"),
                dir.resolve("decisions.png"));
        LearnedPruning.Options o = new LearnedPruning.Options();
        DecisionRecord rec = LearnedPruning.record(out, o, new DecisionRecord.Source(null, null, "preset", 6), 16);
        DecisionRecord back = DecisionRecord.fromJson(rec.toJson());
        assertEquals("learned", back.method());
        assertEquals("2:4,1:2", back.pattern());
        assertArrayEquals(d.layerKeepProbability(), back.layerScores());
        assertEquals(2, back.learned().blocks().size());
        assertArrayEquals(new int[] {1, 3}, back.learned().blocks().get(0).keptLayers());
        assertArrayEquals(d.probabilities()[0], back.learned().blocks().get(0).probabilities());
        assertArrayEquals(new double[] {4, 0.1}, back.learned().tau());
        assertArrayEquals(new double[] {100, 100}, back.learned().scaling());
        assertEquals("lora", back.learned().delta());
        assertEquals(8, back.learned().loraRank());
        assertEquals(16.0, back.learned().loraAlpha());
        assertEquals(0.01234, back.learned().trainableShare(), 1e-12);
        assertEquals(50, back.learned().steps());
        assertEquals(0L, back.seed());
    }

    @Test
    void decisionPlotIsWritten(@TempDir Path dir) throws Exception {
        Pattern p = Pattern.parse("1:2", 6);
        DecisionLog log = new DecisionLog(dir.resolve("d.csv"), p);
        for (int step = 0; step <= 40; step += 10) {
            float x = step * 0.001f;
            GateDecision d = GateDecision.of(
                    p,
                    List.of(new float[] {0.02f + x, 0.02f}, new float[] {0.02f, 0.02f + x}, new float[] {
                        0.02f, 0.02f - x
                    }),
                    100);
            log.append(step, 4 - step * 0.05, 100, step == 0 ? Double.NaN : 0.5, d);
        }
        List<DecisionLog.Row> rows = DecisionLog.read(dir.resolve("d.csv"));
        assertEquals(5, rows.size());
        assertArrayEquals(new int[] {0, 3, 4}, rows.get(4).kept());
        assertTrue(Double.isNaN(rows.get(0).loss()));
        log.truncateAfter(20);
        assertEquals(3, DecisionLog.read(dir.resolve("d.csv")).size());
        IOException e =
                assertThrows(IOException.class, () -> new DecisionLog(dir.resolve("d.csv"), Pattern.parse("2:4", 8))
                        .truncateAfter(0));
        assertTrue(e.getMessage().contains("different pattern"));

        Path png = dir.resolve("plot/decisions.png");
        DecisionPlot.render(rows, p, "test", png);
        java.awt.image.BufferedImage img = javax.imageio.ImageIO.read(png.toFile());
        assertEquals(1000, img.getWidth());
        assertTrue(img.getHeight() > 100);
        assertEquals(0f, DecisionPlot.alpha(0.5, 2), 0.05f);
        assertEquals(1f, DecisionPlot.alpha(1.0, 2));
        assertEquals(0.5f, DecisionPlot.alpha(0.625, 4), 1e-6f);
        assertEquals(1f, DecisionPlot.alpha(1.0, 1));
        assertTrue(Files.size(png) > 1000);
    }

    @Test
    void sha256OfFilesAndDirectories(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("a.txt"), "abc");
        // sha256("abc")
        assertEquals(
                "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
                FileHashes.sha256(dir.resolve("a.txt")));
        Path shards = Files.createDirectories(dir.resolve("shards"));
        Files.writeString(shards.resolve("x"), "abc");
        String one = FileHashes.sha256(shards);
        Files.writeString(shards.resolve("y"), "d");
        assertTrue(!one.equals(FileHashes.sha256(shards)));
    }
}
