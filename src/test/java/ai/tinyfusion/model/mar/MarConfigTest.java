package ai.tinyfusion.model.mar;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.tinyfusion.io.HostTensor;
import ai.tinyfusion.io.TorchCheckpoint;
import ai.tinyfusion.model.dit.DiT;
import ai.tinyfusion.model.dit.DiTConfig;
import ai.tinyfusion.model.dit.ModelFiles;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import org.apache.commons.math3.distribution.NormalDistribution;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** MAR presets, parameter counts, state-dict layout, checkpoint loading and its errors, training masks. */
class MarConfigTest {

    @Test
    void presetParameterCountsAreTheReferenceCodes() {
        // Built with LTH14/mar models/mar.py (mar_base / mar_large with the released heads), counted exactly.
        assertEquals(207_924_768L, MarConfig.preset("MAR-B").parameters());
        assertEquals(35_749_920L, MarConfig.preset("MAR-B").headParameters());
        assertEquals(478_326_304L, MarConfig.preset("mar_large").parameters());
        assertEquals(72_230_432L, MarConfig.preset("MAR-L").headParameters());
        // MAR-H is too large to build here: the published 942.40M / 151.21M (docs: families-reference).
        MarConfig h = MarConfig.preset("MAR-H");
        assertEquals(942.40, Math.round(h.parameters() / 1e4) / 100.0);
        assertEquals(151.21, Math.round(h.headParameters() / 1e4) / 100.0);
        // TinyMAR-D16: 8 + 8 of MAR-L's 16 + 16 blocks, ≈ 277M in the paper
        MarConfig d16 = MarConfig.preset("MAR-L").withDepths(8, 8);
        assertEquals(277, Math.round(d16.parameters() / 1e6));
        assertEquals(
                MarConfig.preset("MAR-L").parameters()
                        - 16 * MarConfig.preset("MAR-L").encoderBlockParameters(),
                d16.parameters());
        assertEquals(32, MarConfig.preset("MAR-L").depth());
        assertEquals(256, MarConfig.preset("MAR-L").seqLen());
        assertEquals("MAR-H", h.presetName());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> MarConfig.preset("MAR-X"));
        assertTrue(e.getMessage().contains("unknown MAR preset 'MAR-X'"), e.getMessage());
    }

    @Test
    void theModelsStateDictIsTheOriginals() throws IOException {
        // keys and shapes of the reference model (the fixture checkpoint) = the built model = the shape table
        Map<String, List<Long>> reference = new TreeMap<>();
        TorchCheckpoint.read(MarFixture.checkpoint(), "model_ema")
                .forEach((k, v) ->
                        reference.put(k, Arrays.stream(v.shape()).boxed().toList()));
        try (NDManager m = NDManager.newBaseManager()) {
            Mar model = new Mar(m, MarFixture.CONFIG);
            Map<String, List<Long>> built = new TreeMap<>();
            model.stateDict()
                    .forEach((k, v) -> built.put(
                            k, Arrays.stream(v.getShape().getShape()).boxed().toList()));
            assertEquals(reference, built);
            assertEquals(reference, new TreeMap<>(MarFixture.CONFIG.parameterShapes()));
            assertEquals(89_936L, model.parameterCount());
            assertEquals(MarFixture.CONFIG.parameters(), model.parameterCount());
            // the original initialisation: zero adaLN and output layers in the head, unit LayerNorms
            Map<String, NDArray> sd = model.stateDict();
            assertEquals(
                    0f,
                    sd.get("diffloss.net.final_layer.linear.weight").abs().max().getFloat());
            assertEquals(
                    0f,
                    sd.get("diffloss.net.res_blocks.1.adaLN_modulation.1.weight")
                            .abs()
                            .max()
                            .getFloat());
            assertEquals(1f, sd.get("encoder_blocks.0.norm1.weight").min().getFloat());
            assertTrue(sd.get("encoder_pos_embed_learned").abs().max().getFloat() > 0);
        }
    }

    @Test
    void theEmaWeightsAreLoadedAndTheConfigInferred() throws IOException {
        MarFiles.Loaded read = MarFiles.read(MarFixture.checkpoint(), 4);
        assertTrue(
                read.config().sameArchitecture(MarFixture.CONFIG), read.config().toString());
        LinkedHashMap<String, HostTensor> plain = TorchCheckpoint.read(MarFixture.checkpoint(), "model");
        float[] ema = read.tensors().get("fake_latent").toFloatArray();
        float[] raw = plain.get("fake_latent").toFloatArray();
        for (int i = 0; i < ema.length; i++) {
            assertEquals(raw[i] - 1f, ema[i], 1e-6f, "the fixture's 'model' is its 'model_ema' + 1");
        }
    }

    @Test
    void aWrongHeadSizeIsOneClearError() {
        IOException e = assertThrows(IOException.class, () -> {
            try (NDManager m = NDManager.newBaseManager()) {
                MarFiles.load(MarFixture.checkpoint(), m, MarFixture.CONFIG.withHead(3, 64));
            }
        });
        assertTrue(e.getMessage().contains("mar_small-checkpoint.pth"), e.getMessage());
        assertTrue(e.getMessage().contains("diffusion head is 2 × 48"), e.getMessage());
        assertTrue(e.getMessage().contains("but 3 × 64 is expected"), e.getMessage());
        IOException preset = assertThrows(IOException.class, () -> {
            try (NDManager m = NDManager.newBaseManager()) {
                MarFiles.load(MarFixture.checkpoint(), m, MarConfig.preset("MAR-B"));
            }
        });
        assertTrue(preset.getMessage().contains("does not fit MAR-B"), preset.getMessage());
        assertTrue(preset.getMessage().contains("but 6 × 1024 is expected"), preset.getMessage());
    }

    @Test
    void aDitCheckpointPassedAsMarIsOneClearError(@TempDir Path dir) throws IOException {
        Path dit = dir.resolve("dit.safetensors");
        try (NDManager m = NDManager.newBaseManager()) {
            DiTConfig c = new DiTConfig(8, 2, 4, 32, 2, 2, 4.0, 10, true, 0.1);
            ModelFiles.save(new DiT(m, c, false), dit, Map.of());
            IOException e = assertThrows(IOException.class, () -> MarFiles.load(dit, m, null));
            assertTrue(e.getMessage().contains("dit.safetensors"), e.getMessage());
            assertTrue(e.getMessage().contains("not a MAR checkpoint"), e.getMessage());
            assertTrue(e.getMessage().contains("DiT"), e.getMessage());
        }
    }

    @Test
    void trainingMaskRatiosFollowTheTruncatedNormal() {
        Mar.sampleOrders(1, 4, new Random(0)); // warm-up of the static path
        MarConfig c = MarConfig.preset("MAR-L");
        try (NDManager m = NDManager.newBaseManager()) {
            Mar model = new Mar(m, MarFixture.CONFIG, false);
            Random rng = new Random(0);
            int n = 20_000;
            double sum = 0, min = 1, max = 0;
            for (int i = 0; i < n; i++) {
                double r = model.sampleMaskRatio(rng);
                sum += r;
                min = Math.min(min, r);
                max = Math.max(max, r);
            }
            // truncnorm((0.7 − 1)/0.25, 0, loc 1, scale 0.25): mean 1 + 0.25·(φ(a) − φ(0))/(Φ(0) − Φ(a))
            NormalDistribution std = new NormalDistribution(null, 0, 1);
            double a = (c.maskRatioMin() - 1) / 0.25;
            double mean = 1
                    + 0.25
                            * (std.density(a) - std.density(0))
                            / (std.cumulativeProbability(0) - std.cumulativeProbability(a));
            assertEquals(mean, sum / n, 0.002);
            assertTrue(min >= 0.7 && max <= 1.0, min + " " + max);
            assertTrue(min < 0.71 && max > 0.99, "covers the range: " + min + " " + max);
            assertEquals(13, model.maskedCount(0.8));
            assertEquals(16, model.maskedCount(1.0));

            long[][] orders = Mar.sampleOrders(3, 16, new Random(1));
            for (long[] o : orders) {
                assertEquals(
                        List.of(0L, 1L, 2L, 3L, 4L, 5L, 6L, 7L, 8L, 9L, 10L, 11L, 12L, 13L, 14L, 15L),
                        Arrays.stream(o.clone()).sorted().boxed().toList());
            }
            assertFalse(Arrays.equals(orders[0], orders[1]));
            float[] mask = Mar.maskByOrder(m, orders, 5, 16).toFloatArray();
            for (int i = 0; i < 3; i++) {
                float count = 0;
                for (int j = 0; j < 16; j++) {
                    count += mask[i * 16 + j];
                }
                assertEquals(5f, count);
                for (int j = 0; j < 5; j++) {
                    assertEquals(1f, mask[i * 16 + (int) orders[i][j]]);
                }
            }
        }
    }
}
