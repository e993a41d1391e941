package ai.tinyfusion.model.vae;

import static ai.tinyfusion.Reference.assertClose;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.tinyfusion.Fixtures;
import ai.tinyfusion.io.HostTensor;
import ai.tinyfusion.io.Safetensors;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Configs, presets, key placement and the errors of {@link VaeCheckpoints}. */
class VaeCheckpointsTest extends VaeTestBase {
    private static LinkedHashMap<String, HostTensor> diffusersTensors(String name) throws IOException {
        return Safetensors.read(VaeFixtures.diffusers(name).resolve("diffusion_pytorch_model.safetensors"));
    }

    /** A diffusers folder holding {@code tensors} and the case's config.json. */
    private static Path folder(Path dir, String name, Map<String, HostTensor> tensors) throws IOException {
        Files.createDirectories(dir);
        Safetensors.write(dir.resolve("diffusion_pytorch_model.safetensors"), tensors, Map.of());
        Files.copy(VaeFixtures.diffusers(name).resolve("config.json"), dir.resolve("config.json"));
        return dir;
    }

    private static String loadError(Path path, String preset) {
        try (NDManager local = m.newSubManager()) {
            return assertThrows(IOException.class, () -> VaeCheckpoints.load(path, preset, local))
                    .getMessage();
        }
    }

    @Test
    void configJsonOfTheFixtures() throws Exception {
        VaeConfig sd = VaeFixtures.config("sd_small");
        assertEquals(
                new VaeConfig(
                        3, 3, List.of(32, 64, 64, 64), 2, 4, 32, Set.of(), Set.of(), true, true, true, 0.18215, null),
                sd);
        VaeConfig kl = VaeFixtures.config("kl16_small");
        assertEquals(List.of(32, 32, 32, 32, 64), kl.blockOutChannels());
        assertEquals(Set.of(4), kl.encoderAttnLevels());
        assertEquals(16, kl.latentChannels());
        assertEquals(16, kl.downsampleFactor());
        assertEquals(0.2325, kl.scalingFactor());
    }

    @Test
    void unsupportedConfigsAreRefused() {
        String base = "{\"block_out_channels\":[32,64],\"up_block_types\":[\"UpDecoderBlock2D\",\"UpDecoderBlock2D\"],";
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class,
                () -> VaeConfig.fromDiffusersJson(JsonParser.parseString(
                                base + "\"down_block_types\":[\"DownEncoderBlock2D\",\"CrossAttnDownBlock2D\"]}")
                        .getAsJsonObject()));
        assertTrue(e.getMessage().contains("CrossAttnDownBlock2D"), e.getMessage());
        e = assertThrows(
                IllegalArgumentException.class,
                () -> VaeConfig.fromDiffusersJson(
                        JsonParser.parseString(base + "\"down_block_types\":[\"DownEncoderBlock2D\"]}")
                                .getAsJsonObject()));
        assertTrue(e.getMessage().contains("1 entries for 2"), e.getMessage());
        e = assertThrows(
                IllegalArgumentException.class,
                () -> VaeConfig.fromDiffusersJson(
                        JsonParser.parseString("{\"block_out_channels\":[48],\"act_fn\":\"silu\"}")
                                .getAsJsonObject()));
        assertTrue(e.getMessage().contains("not a multiple of 32"), e.getMessage());
    }

    @Test
    void presetsHaveTheReferenceParameterCounts() {
        // Counted from the reference code: latent-diffusion Encoder/Decoder with the kl-f8 ddconfig plus
        // quant convs (SD VAE), and MAR's AutoencoderKL(embed_dim=16, ch_mult=(1,1,2,2,4)).
        try (NDManager local = m.newSubManager()) {
            AutoencoderKL sd = new AutoencoderKL(local, VaeConfig.preset("sd-vae-ft-mse"));
            assertEquals(248, sd.stateDict().size());
            assertEquals(83_653_863L, sd.parameterCount());
        }
        try (NDManager local = m.newSubManager()) {
            AutoencoderKL kl = new AutoencoderKL(local, VaeConfig.preset("KL-16"));
            assertEquals(312, kl.stateDict().size());
            assertEquals(66_456_019L, kl.parameterCount());
        }
        assertEquals(VaeConfig.preset("sd-vae-ft-ema"), VaeConfig.preset("sd-vae-ft-mse"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> VaeConfig.preset("kl-32"));
        assertTrue(e.getMessage().contains("sd-vae-ft-ema"), e.getMessage());
    }

    @Test
    void ldmKeysAreRenamedAsDiffusersConvertsThem() {
        assertEquals(
                "decoder.up_blocks.3.resnets.0.conv_shortcut.weight",
                VaeCheckpoints.fromLdm("decoder.up.0.block.0.nin_shortcut.weight", 4));
        assertEquals(
                "decoder.up_blocks.0.upsamplers.0.conv.bias",
                VaeCheckpoints.fromLdm("decoder.up.3.upsample.conv.bias", 4));
        assertEquals(
                "encoder.down_blocks.4.attentions.1.to_out.0.weight",
                VaeCheckpoints.fromLdm("encoder.down.4.attn.1.proj_out.weight", 5));
        assertEquals(
                "encoder.mid_block.attentions.0.group_norm.bias",
                VaeCheckpoints.fromLdm("encoder.mid.attn_1.norm.bias", 4));
        assertEquals(
                "decoder.mid_block.resnets.1.norm2.weight",
                VaeCheckpoints.fromLdm("decoder.mid.block_2.norm2.weight", 4));
        assertEquals("encoder.conv_norm_out.weight", VaeCheckpoints.fromLdm("encoder.norm_out.weight", 4));
        assertNull(VaeCheckpoints.fromLdm("encoder.up.0.block.0.conv1.weight", 4));
        assertNull(VaeCheckpoints.fromLdm("decoder.up.1.downsample.conv.weight", 4));
        assertNull(VaeCheckpoints.fromLdm("encoder.mid.attn_1.qkv.weight", 4));
        assertEquals(
                "decoder.mid_block.attentions.0.to_out.0.bias",
                VaeCheckpoints.fromDiffusers("decoder.mid_block.attentions.0.proj_attn.bias"));
        assertEquals(
                "encoder.mid_block.resnets.0.conv1.weight",
                VaeCheckpoints.fromDiffusers("encoder.mid_block.resnets.0.conv1.weight"));
    }

    @Test
    void deprecatedAttentionNamesAndConvShapedWeightsLoad(@TempDir Path tmp) throws Exception {
        LinkedHashMap<String, HostTensor> legacy = new LinkedHashMap<>();
        int renamed = 0;
        for (Map.Entry<String, HostTensor> e : diffusersTensors("sd_small").entrySet()) {
            String k = e.getKey();
            String old = k.replace(".to_q.", ".query.")
                    .replace(".to_k.", ".key.")
                    .replace(".to_v.", ".value.")
                    .replace(".to_out.0.", ".proj_attn.");
            HostTensor t = e.getValue();
            if (old.endsWith(".query.weight")) { // as a 1×1 conv
                t = HostTensor.of(t.dtype(), new long[] {t.shape()[0], t.shape()[1], 1, 1}, t.data());
            }
            renamed += old.equals(k) ? 0 : 1;
            legacy.put(old, t);
        }
        assertEquals(16, renamed); // 4 projections × (weight, bias) × 2 mid blocks
        Path dir = folder(tmp.resolve("legacy"), "sd_small", legacy);
        try (NDManager local = m.newSubManager()) {
            Map<String, NDArray> expected =
                    VaeFixtures.load("sd_small", "diffusers", local).stateDict();
            Map<String, NDArray> actual =
                    VaeCheckpoints.load(dir, (String) null, local).stateDict();
            assertEquals(expected.keySet(), actual.keySet());
            expected.forEach((k, v) -> assertClose(k, v, actual.get(k), 0, 0));
        }
    }

    @Test
    void aBadLayoutNamesTheKeysItCouldNotPlaceAndTheMissingOnes(@TempDir Path tmp) throws Exception {
        LinkedHashMap<String, HostTensor> bad = new LinkedHashMap<>();
        diffusersTensors("sd_small")
                .forEach((k, v) ->
                        bad.put(k.replace("down_blocks.0.resnets.0.norm1.", "down_blocks.0.resnets.0.norm_1."), v));
        bad.remove("decoder.conv_out.bias");
        String msg = loadError(folder(tmp.resolve("bad"), "sd_small", bad), null);
        assertTrue(msg.contains("diffusers layout, 241 of 243 keys placed"), msg);
        assertTrue(
                msg.contains(
                        "checkpoint keys that could not be placed (2):\n  encoder.down_blocks.0.resnets.0.norm_1.weight\n"
                                + "  encoder.down_blocks.0.resnets.0.norm_1.bias"),
                msg);
        assertTrue(msg.contains("model keys missing from the checkpoint (diffusers names) (3):"), msg);
        for (String k : List.of(
                "encoder.down_blocks.0.resnets.0.norm1.weight",
                "encoder.down_blocks.0.resnets.0.norm1.bias",
                "decoder.conv_out.bias")) {
            assertTrue(msg.contains("\n  " + k), k + " not named in: " + msg);
        }
    }

    @Test
    void aForeignCheckpointIsAnUnknownLayout() {
        String msg = loadError(Fixtures.reference("dit_small.pt"), "sd-vae-ft-ema");
        assertTrue(msg.contains("unknown layout, 0 of"), msg);
        assertTrue(msg.contains("\n  x_embedder.proj.weight"), msg);
        assertTrue(msg.contains("model keys missing from the checkpoint (diffusers names) (248):"), msg);
    }

    @Test
    void weightsOfAnotherConfigAreRefused() throws Exception {
        String msg;
        try (NDManager local = m.newSubManager()) {
            msg = assertThrows(
                            IOException.class,
                            () -> VaeCheckpoints.load(
                                    VaeFixtures.ldm("kl16_small"), VaeFixtures.config("sd_small"), local))
                    .getMessage();
        }
        assertTrue(msg.contains("ldm layout"), msg);
        assertTrue(msg.contains("\n  encoder.down.4.block.0.conv1.weight"), msg);
        assertTrue(msg.contains("shape mismatches (diffusers names)"), msg);
    }

    @Test
    void anLdmCheckpointNeedsAPreset() throws Exception {
        String msg = loadError(VaeFixtures.ldm("sd_small"), null);
        assertTrue(msg.contains("no diffusers config.json") && msg.contains("sd-vae-ft-ema"), msg);
        msg = loadError(VaeFixtures.ldm("sd_small"), "sd-vae");
        assertTrue(msg.contains("unknown VAE preset 'sd-vae'"), msg);
        // the full-size preset does not fit the reduced fixture: shape mismatches, not a crash
        msg = loadError(VaeFixtures.ldm("sd_small"), "sd-vae-ft-ema");
        assertTrue(msg.contains("shape mismatches"), msg);
        assertEquals(
                VaeFixtures.diffusers("sd_small").resolve("config.json"),
                VaeCheckpoints.resolve(VaeFixtures.diffusers("sd_small").resolve("diffusion_pytorch_model.safetensors"))
                        .config());
    }

    @Test
    void aPipelineFolderWithABinFileIsFound(@TempDir Path tmp) throws Exception {
        // diffusers' .bin is a torch.save zip; the layout is decided by the keys, not the file name
        Path vaeDir = Files.createDirectories(tmp.resolve("pipeline").resolve("vae"));
        Files.copy(VaeFixtures.ldm("sd_small"), vaeDir.resolve("diffusion_pytorch_model.bin"));
        Files.copy(VaeFixtures.diffusers("sd_small").resolve("config.json"), vaeDir.resolve("config.json"));
        VaeCheckpoints.Source src = VaeCheckpoints.resolve(tmp.resolve("pipeline"));
        assertEquals(vaeDir.resolve("diffusion_pytorch_model.bin"), src.weights());
        assertEquals(vaeDir.resolve("config.json"), src.config());
        try (NDManager local = m.newSubManager()) {
            Map<String, NDArray> expected =
                    VaeFixtures.load("sd_small", "diffusers", local).stateDict();
            Map<String, NDArray> actual = VaeCheckpoints.load(tmp.resolve("pipeline"), (String) null, local)
                    .stateDict();
            expected.forEach((k, v) -> assertClose(k, v, actual.get(k), 0, 0));
        }
        String msg = assertThrows(
                        IOException.class, () -> VaeCheckpoints.resolve(Files.createDirectories(tmp.resolve("empty"))))
                .getMessage();
        assertTrue(msg.contains("no VAE weights"), msg);
    }

    @Test
    void diffusionLatentScaling() throws Exception {
        try (NDManager local = m.newSubManager()) {
            AutoencoderKL vae = new AutoencoderKL(local, VaeFixtures.config("kl16_small"));
            NDArray z = local.create(new float[] {1f, -2f});
            assertClose("scaled", local.create(new float[] {0.2325f, -0.465f}), vae.toDiffusionLatents(z), 1e-7, 0);
            assertClose("round trip", z, vae.fromDiffusionLatents(vae.toDiffusionLatents(z)), 1e-6, 0);
            assertEquals(0.18215, VaeConfig.preset("sd-vae-ft-ema").scalingFactor());
            AutoencoderKL shifted = new AutoencoderKL(
                    local, new VaeConfig(3, 3, List.of(32), 1, 4, 32, Set.of(), Set.of(), true, true, true, 0.5, 0.1));
            assertClose("shifted", local.create(new float[] {0.45f, -1.05f}), shifted.toDiffusionLatents(z), 1e-6, 0);
            assertClose("shifted round trip", z, shifted.fromDiffusionLatents(shifted.toDiffusionLatents(z)), 1e-6, 0);
        }
    }
}
