package ai.tinyfusion.model.vae;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * The shape of a KL autoencoder as diffusers' {@code AutoencoderKL} describes it ({@code config.json}).
 *
 * @param blockOutChannels  width of each level, finest first (LDM: {@code ch · ch_mult})
 * @param layersPerBlock    ResNet blocks per encoder level; decoder levels have one more (LDM {@code num_res_blocks})
 * @param latentChannels    z channels; the encoder emits twice as many (mean ‖ logvar)
 * @param encoderAttnLevels encoder levels (finest = 0) whose blocks each carry a self-attention
 *                          ({@code AttnDownEncoderBlock2D}); LDM's {@code attn_resolutions}
 * @param decoderAttnBlocks decoder up-block indices (coarsest = 0, diffusers order) with attention
 *                          ({@code AttnUpDecoderBlock2D})
 * @param midAttention      the mid blocks' single-head self-attention ({@code mid_block_add_attention})
 * @param scalingFactor     latent scale used by diffusion models on top of the VAE (z·s to diffuse, z/s to decode)
 * @param shiftFactor       latent shift (null: none), applied as (z − shift)·s
 */
public record VaeConfig(
        int inChannels,
        int outChannels,
        List<Integer> blockOutChannels,
        int layersPerBlock,
        int latentChannels,
        int normGroups,
        Set<Integer> encoderAttnLevels,
        Set<Integer> decoderAttnBlocks,
        boolean midAttention,
        boolean useQuantConv,
        boolean usePostQuantConv,
        double scalingFactor,
        Double shiftFactor) {

    /** GroupNorm epsilon of every norm in the encoder and decoder (LDM's {@code Normalize}, diffusers' 1e-6). */
    public static final double NORM_EPS = 1e-6;

    public VaeConfig {
        blockOutChannels = List.copyOf(blockOutChannels);
        encoderAttnLevels = Set.copyOf(new TreeSet<>(encoderAttnLevels));
        decoderAttnBlocks = Set.copyOf(new TreeSet<>(decoderAttnBlocks));
        if (blockOutChannels.isEmpty()
                || layersPerBlock < 1
                || latentChannels < 1
                || inChannels < 1
                || outChannels < 1) {
            throw new IllegalArgumentException("invalid VAE config: " + blockOutChannels + ", " + layersPerBlock
                    + " layers per block, " + latentChannels + " latent channels");
        }
        for (int c : blockOutChannels) {
            if (c <= 0 || c % normGroups != 0) {
                throw new IllegalArgumentException(
                        "VAE width " + c + " is not a multiple of " + normGroups + " norm groups");
            }
        }
        for (int l : encoderAttnLevels) {
            checkLevel(l, blockOutChannels.size(), "encoder attention level");
        }
        for (int l : decoderAttnBlocks) {
            checkLevel(l, blockOutChannels.size(), "decoder attention block");
        }
    }

    private static void checkLevel(int l, int levels, String what) {
        if (l < 0 || l >= levels) {
            throw new IllegalArgumentException(what + " " + l + " outside 0.." + (levels - 1));
        }
    }

    public int levels() {
        return blockOutChannels.size();
    }

    /** Spatial downsampling factor of the latent (2^(levels − 1)). */
    public int downsampleFactor() {
        return 1 << (levels() - 1);
    }

    /** The SD VAE (LDM kl-f8; stabilityai/sd-vae-ft-ema and -mse share it). */
    public static VaeConfig sd() {
        return new VaeConfig(
                3, 3, List.of(128, 256, 512, 512), 2, 4, 32, Set.of(), Set.of(), true, true, true, 0.18215, null);
    }

    /**
     * MAR's KL-16 ({@code LTH14/mar models/vae.py}: {@code AutoencoderKL(embed_dim=16, ch_mult=(1,1,2,2,4))},
     * ch 128, 2 res blocks, encoder attention at resolution 16 of 256, i.e. level 4; latent scale 0.2325).
     */
    public static VaeConfig kl16() {
        return new VaeConfig(
                3, 3, List.of(128, 128, 256, 256, 512), 2, 16, 32, Set.of(4), Set.of(), true, true, true, 0.2325, null);
    }

    /** Named presets. */
    public static Map<String, VaeConfig> presets() {
        Map<String, VaeConfig> out = new LinkedHashMap<>();
        out.put("sd-vae-ft-ema", sd());
        out.put("sd-vae-ft-mse", sd());
        out.put("kl-f8", sd());
        out.put("kl-16", kl16());
        return out;
    }

    /** A preset by name (case-insensitive), or an error listing the names. */
    public static VaeConfig preset(String name) {
        VaeConfig c = presets().get(name.toLowerCase(java.util.Locale.ROOT));
        if (c == null) {
            throw new IllegalArgumentException(
                    "unknown VAE preset '" + name + "'; known: " + presets().keySet());
        }
        return c;
    }

    /** Reads a diffusers {@code config.json}. */
    public static VaeConfig fromDiffusersJson(Path file) throws IOException {
        String text = Files.readString(file, StandardCharsets.UTF_8);
        try {
            return fromDiffusersJson(JsonParser.parseString(text).getAsJsonObject());
        } catch (RuntimeException e) {
            throw new IOException(file + ": not a usable diffusers AutoencoderKL config: " + e.getMessage(), e);
        }
    }

    /**
     * Builds the config from diffusers' {@code AutoencoderKL} arguments; absent keys take that class's
     * defaults. Block types other than (Attn)DownEncoderBlock2D / (Attn)UpDecoderBlock2D, activations
     * other than SiLU and a mismatched number of block types are refused.
     */
    public static VaeConfig fromDiffusersJson(JsonObject o) {
        if (o.has("_class_name") && !"AutoencoderKL".equals(o.get("_class_name").getAsString())) {
            throw new IllegalArgumentException(
                    "_class_name is " + o.get("_class_name").getAsString() + ", not AutoencoderKL");
        }
        String act = o.has("act_fn") ? o.get("act_fn").getAsString() : "silu";
        if (!act.equals("silu") && !act.equals("swish")) {
            throw new IllegalArgumentException("act_fn " + act + " is not supported (only silu)");
        }
        List<Integer> widths = new ArrayList<>();
        if (o.has("block_out_channels")) {
            for (JsonElement e : o.getAsJsonArray("block_out_channels")) {
                widths.add(e.getAsInt());
            }
        } else {
            widths.add(64);
        }
        Set<Integer> enc = blockAttention(o, "down_block_types", "DownEncoderBlock2D", widths.size());
        Set<Integer> dec = blockAttention(o, "up_block_types", "UpDecoderBlock2D", widths.size());
        Double shift = o.has("shift_factor") && !o.get("shift_factor").isJsonNull()
                ? o.get("shift_factor").getAsDouble()
                : null;
        return new VaeConfig(
                intOr(o, "in_channels", 3),
                intOr(o, "out_channels", 3),
                widths,
                intOr(o, "layers_per_block", 1),
                intOr(o, "latent_channels", 4),
                intOr(o, "norm_num_groups", 32),
                enc,
                dec,
                boolOr(o, "mid_block_add_attention", true),
                boolOr(o, "use_quant_conv", true),
                boolOr(o, "use_post_quant_conv", true),
                o.has("scaling_factor") ? o.get("scaling_factor").getAsDouble() : 0.18215,
                shift);
    }

    /** The indices of block types {@code "Attn" + plain}; every entry must be one of the two. */
    private static Set<Integer> blockAttention(JsonObject o, String key, String plain, int levels) {
        Set<Integer> out = new TreeSet<>();
        if (!o.has(key)) {
            if (levels != 1) {
                throw new IllegalArgumentException(key + " missing for " + levels + " levels");
            }
            return out;
        }
        JsonArray types = o.getAsJsonArray(key);
        if (types.size() != levels) {
            throw new IllegalArgumentException(
                    key + " has " + types.size() + " entries for " + levels + " block_out_channels");
        }
        for (int i = 0; i < types.size(); i++) {
            String t = types.get(i).getAsString();
            if (t.equals("Attn" + plain)) {
                out.add(i);
            } else if (!t.equals(plain)) {
                throw new IllegalArgumentException(
                        key + "[" + i + "] = " + t + " is not supported (" + plain + " or Attn" + plain + ")");
            }
        }
        return out;
    }

    private static int intOr(JsonObject o, String key, int dflt) {
        return o.has(key) ? o.get(key).getAsInt() : dflt;
    }

    private static boolean boolOr(JsonObject o, String key, boolean dflt) {
        return o.has(key) ? o.get(key).getAsBoolean() : dflt;
    }
}
