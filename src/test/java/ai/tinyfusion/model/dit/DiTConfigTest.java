package ai.tinyfusion.model.dit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import ai.tinyfusion.Fixtures;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DiTConfigTest {
    @Test
    void parameterCountsMatchTheOriginal() {
        assertEquals(675_129_632L, Flops.parameters(DiTConfig.preset("DiT-XL/2")));
        assertEquals(340_457_504L, Flops.parameters(DiTConfig.preset("DiT-D14/2")));
        assertEquals(173_121_440L, Flops.parameters(DiTConfig.preset("DiT-D7/2")));
    }

    @Test
    void builtModelsHaveTheCountedParameters() {
        try (NDManager m = NDManager.newBaseManager()) {
            // A real (uninitialised) DiT-D7/2: 173M values, built and counted tensor by tensor.
            DiT d7 = new DiT(m, DiTConfig.preset("DiT-D7/2"), false);
            assertEquals(173_121_440L, d7.parameterCount());
            for (String name : new String[] {"DiT-S/8", "DiT-B/4", "DiT-F28"}) {
                DiTConfig c = DiTConfig.preset(name);
                DiT d = new DiT(m, c, false);
                assertEquals(Flops.parameters(c), d.parameterCount(), name);
            }
        }
    }

    @Test
    void dit_xl_2_macsMatchThePaper() {
        // The DiT paper reports 118.6 "Gflops" (fvcore multiply-accumulates) for DiT-XL/2.
        assertEquals(118.6, Flops.macsPerImage(DiTConfig.preset("DiT-XL/2")) / 1e9, 0.05);
        assertEquals(
                0.5,
                (double) Flops.macsPerImage(DiTConfig.preset("DiT-D14/2"))
                        / Flops.macsPerImage(DiTConfig.preset("DiT-XL/2")),
                0.01);
    }

    @Test
    void presetsAndValidation() {
        DiTConfig s8 = DiTConfig.preset("DiT-S/8");
        assertEquals(12, s8.depth());
        assertEquals(384, s8.hiddenSize());
        assertEquals(8, s8.patchSize());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> DiTConfig.preset("DiT-Q/2"));
        assertTrue(e.getMessage().contains("DiT-Q/2"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> DiTConfig.preset("DiT-D14/4"));
        e = assertThrows(IllegalArgumentException.class, () -> new DiTConfig(30, 4, 4, 64, 4, 4, 4, 10, true, 0.1));
        assertTrue(e.getMessage().contains("patch_size"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new DiTConfig(32, 2, 4, 66, 4, 4, 4, 10, true, 0.1));
        assertTrue(e.getMessage().contains("num_heads"), e.getMessage());
    }

    @Test
    void configJsonRoundTrip() {
        DiTConfig c = DiTConfig.preset("DiT-F28");
        assertEquals(c, DiTConfig.fromJson(c.toJson()));
    }

    @Test
    void wrongConfigNamesTheMismatchedKeys(@TempDir Path dir) throws Exception {
        try (NDManager m = NDManager.newBaseManager()) {
            // A checkpoint of a wider model loaded into the reference config: every shape differs.
            DiTConfig wide = new DiTConfig(8, 2, 4, 96, 4, 4, 4.0, 10, true, 0.1);
            DiT small = ModelFiles.load(Fixtures.reference("dit_small.pt"), m, null);
            DiT other = new DiT(m, wide, false);
            IllegalArgumentException e =
                    assertThrows(IllegalArgumentException.class, () -> other.loadStateDict(small.stateDict(), true));
            assertTrue(
                    e.getMessage().contains("blocks.0.attn.qkv.weight: checkpoint (192, 64) vs model (288, 96)"),
                    e.getMessage());
            // Fewer blocks in the checkpoint than the model: the missing keys are named.
            Path shallow = dir.resolve("shallow.safetensors");
            ModelFiles.save(
                    LayerSubset.renumber(small.stateDict(), new int[] {0, 1}, 4), small.config(), shallow, Map.of());
            IOException io = assertThrows(IOException.class, () -> ModelFiles.load(shallow, m, null));
            assertTrue(
                    io.getMessage().contains("missing keys") && io.getMessage().contains("blocks.2.attn.qkv.weight"),
                    io.getMessage());
        }
    }
}
