package ai.tinyfusion.model.mar;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Everything that fixes a MAR's architecture and its fixed training and sampling settings. Field names
 * follow the constructor arguments of LTH14/mar {@code models/mar.py}; {@link #preset(String)} knows
 * MAR-B/L/H with the diffusion-head sizes of the released checkpoints.
 *
 * @param imgSize image side in pixels (256)
 * @param vaeStride the VAE's downsampling (16 for KL-16)
 * @param patchSize VAE latent pixels per token side (1)
 * @param vaeEmbedDim VAE latent channels (16)
 * @param mlpRatio transformer MLP width over model width (4)
 * @param maskRatioMin lower end of the training mask ratio (0.7)
 * @param labelDropProb class-embedding drop probability in training (0.1)
 * @param bufferSize class-embedding buffer tokens in front of the sequence (64)
 * @param difflossD residual blocks of the diffusion head
 * @param difflossW width of the diffusion head
 * @param numSamplingSteps respacing of the head's 1,000-step process for sampling ("100")
 * @param diffusionBatchMul how many (t, noise) draws per token in training (4)
 */
public record MarConfig(
        int imgSize,
        int vaeStride,
        int patchSize,
        int encoderEmbedDim,
        int encoderDepth,
        int encoderNumHeads,
        int decoderEmbedDim,
        int decoderDepth,
        int decoderNumHeads,
        double mlpRatio,
        int vaeEmbedDim,
        double maskRatioMin,
        double labelDropProb,
        int classNum,
        double attnDropout,
        double projDropout,
        int bufferSize,
        int difflossD,
        int difflossW,
        String numSamplingSteps,
        int diffusionBatchMul) {

    /** Sinusoidal frequencies of the head's timestep embedding (as DiT's). */
    public static final int FREQ_DIM = 256;

    public MarConfig {
        require(vaeStride > 0 && patchSize > 0, "vae_stride and patch_size must be positive");
        require(
                imgSize > 0 && imgSize % (vaeStride * patchSize) == 0,
                "img_size " + imgSize + " must be a positive multiple of vae_stride·patch_size");
        require(
                encoderNumHeads > 0 && encoderEmbedDim % encoderNumHeads == 0,
                "encoder_embed_dim " + encoderEmbedDim + " must be a multiple of encoder_num_heads " + encoderNumHeads);
        require(
                decoderNumHeads > 0 && decoderEmbedDim % decoderNumHeads == 0,
                "decoder_embed_dim " + decoderEmbedDim + " must be a multiple of decoder_num_heads " + decoderNumHeads);
        require(encoderDepth >= 0 && decoderDepth >= 0, "depths must be >= 0");
        require(mlpRatio > 0 && vaeEmbedDim > 0 && classNum > 0, "mlp_ratio, vae_embed_dim, class_num must be > 0");
        require(maskRatioMin > 0 && maskRatioMin <= 1, "mask_ratio_min must lie in (0, 1], got " + maskRatioMin);
        require(labelDropProb >= 0 && labelDropProb < 1, "label_drop_prob must lie in [0, 1)");
        require(attnDropout >= 0 && attnDropout < 1 && projDropout >= 0 && projDropout < 1, "dropouts in [0, 1)");
        require(bufferSize >= 0, "buffer_size must be >= 0");
        require(difflossD >= 0 && difflossW > 0, "diffloss_d >= 0 and diffloss_w > 0 required");
        require(numSamplingSteps != null && !numSamplingSteps.isBlank(), "num_sampling_steps is required");
        require(diffusionBatchMul > 0, "diffusion_batch_mul must be positive");
    }

    private static void require(boolean ok, String message) {
        if (!ok) {
            throw new IllegalArgumentException("invalid MAR config: " + message);
        }
    }

    /** Tokens per side. */
    public int seqSide() {
        return imgSize / vaeStride / patchSize;
    }

    /** Image tokens (256 for 256-pixel images). */
    public int seqLen() {
        return seqSide() * seqSide();
    }

    /** Values per token: VAE channels × patch². */
    public int tokenEmbedDim() {
        return vaeEmbedDim * patchSize * patchSize;
    }

    public int encoderMlpHidden() {
        return (int) (encoderEmbedDim * mlpRatio);
    }

    public int decoderMlpHidden() {
        return (int) (decoderEmbedDim * mlpRatio);
    }

    /** Transformer blocks in all (encoder + decoder), the layers depth pruning works on. */
    public int depth() {
        return encoderDepth + decoderDepth;
    }

    /** The same model with other encoder and decoder depths (e.g. after pruning). */
    public MarConfig withDepths(int encoder, int decoder) {
        return with(encoder, decoder, difflossD, difflossW);
    }

    /** The same model with another diffusion head. */
    public MarConfig withHead(int depth, int width) {
        return with(encoderDepth, decoderDepth, depth, width);
    }

    private MarConfig with(int encoder, int decoder, int headDepth, int headWidth) {
        return new MarConfig(
                imgSize,
                vaeStride,
                patchSize,
                encoderEmbedDim,
                encoder,
                encoderNumHeads,
                decoderEmbedDim,
                decoder,
                decoderNumHeads,
                mlpRatio,
                vaeEmbedDim,
                maskRatioMin,
                labelDropProb,
                classNum,
                attnDropout,
                projDropout,
                bufferSize,
                headDepth,
                headWidth,
                numSamplingSteps,
                diffusionBatchMul);
    }

    /** A MAR at ImageNet 256 (KL-16 latents, 256 tokens, 64 buffer tokens) with the original defaults. */
    public static MarConfig imagenet256(int width, int depth, int heads, int headDepth, int headWidth) {
        return new MarConfig(
                256, 16, 1, width, depth, heads, width, depth, heads, 4.0, 16, 0.7, 0.1, 1000, 0.1, 0.1, 64, headDepth,
                headWidth, "100", 4);
    }

    private static final Map<String, MarConfig> PRESETS = new LinkedHashMap<>();

    static {
        // models/mar.py mar_base / mar_large / mar_huge; head sizes as the README's training commands
        // and the released checkpoints (diffloss_d × diffloss_w).
        PRESETS.put("MAR-B", imagenet256(768, 12, 12, 6, 1024));
        PRESETS.put("MAR-L", imagenet256(1024, 16, 16, 8, 1280));
        PRESETS.put("MAR-H", imagenet256(1280, 20, 16, 12, 1536));
    }

    /** The preset names, e.g. for help texts. */
    public static List<String> presetNames() {
        return List.copyOf(PRESETS.keySet());
    }

    /** Whether {@code name} names a preset ({@code MAR-L}, also {@code mar_large} as the original). */
    public static boolean isPreset(String name) {
        return PRESETS.containsKey(canonical(name));
    }

    /** A preset by name: {@code MAR-B}, {@code MAR-L}, {@code MAR-H} (or {@code mar_base}, ...). */
    public static MarConfig preset(String name) {
        MarConfig c = PRESETS.get(canonical(name));
        if (c == null) {
            throw new IllegalArgumentException("unknown MAR preset '" + name + "'; known: " + presetNames());
        }
        return c;
    }

    /** The preset name whose architecture this is, or null. */
    public String presetName() {
        for (Map.Entry<String, MarConfig> e : PRESETS.entrySet()) {
            if (e.getValue().sameArchitecture(this)) {
                return e.getKey();
            }
        }
        return null;
    }

    private static String canonical(String name) {
        String n = name.trim().toLowerCase(Locale.ROOT).replace('_', '-');
        switch (n) {
            case "mar-base":
                return "MAR-B";
            case "mar-large":
                return "MAR-L";
            case "mar-huge":
                return "MAR-H";
            default:
                return n.toUpperCase(Locale.ROOT);
        }
    }

    /** Whether the two configs give the same state-dict shapes (sampling and training settings aside). */
    public boolean sameArchitecture(MarConfig o) {
        return parameterShapes().equals(o.parameterShapes())
                && encoderNumHeads == o.encoderNumHeads
                && decoderNumHeads == o.decoderNumHeads
                && patchSize == o.patchSize;
    }

    /**
     * Every state-dict key of the original with its shape, in no particular order: the single source of the
     * parameter count (tested against the built model).
     */
    public Map<String, List<Long>> parameterShapes() {
        Map<String, List<Long>> s = new LinkedHashMap<>();
        long de = encoderEmbedDim, dd = decoderEmbedDim, tok = tokenEmbedDim(), seq = seqLen(), buf = bufferSize;
        s.put("class_emb.weight", List.of((long) classNum, de));
        s.put("fake_latent", List.of(1L, de));
        linear(s, "z_proj", tok, de);
        norm(s, "z_proj_ln", de);
        s.put("encoder_pos_embed_learned", List.of(1L, seq + buf, de));
        for (int i = 0; i < encoderDepth; i++) {
            block(s, "encoder_blocks." + i, de, encoderMlpHidden());
        }
        norm(s, "encoder_norm", de);
        linear(s, "decoder_embed", de, dd);
        s.put("mask_token", List.of(1L, 1L, dd));
        s.put("decoder_pos_embed_learned", List.of(1L, seq + buf, dd));
        for (int i = 0; i < decoderDepth; i++) {
            block(s, "decoder_blocks." + i, dd, decoderMlpHidden());
        }
        norm(s, "decoder_norm", dd);
        s.put("diffusion_pos_embed_learned", List.of(1L, seq, dd));
        headShapes(s);
        return s;
    }

    /** The diffusion head's keys ({@code diffloss.net.*}) and shapes. */
    void headShapes(Map<String, List<Long>> s) {
        long w = difflossW, tok = tokenEmbedDim();
        String net = "diffloss.net.";
        linear(s, net + "time_embed.mlp.0", FREQ_DIM, w);
        linear(s, net + "time_embed.mlp.2", w, w);
        linear(s, net + "cond_embed", decoderEmbedDim, w);
        linear(s, net + "input_proj", tok, w);
        for (int i = 0; i < difflossD; i++) {
            String b = net + "res_blocks." + i + ".";
            norm(s, b + "in_ln", w);
            linear(s, b + "mlp.0", w, w);
            linear(s, b + "mlp.2", w, w);
            linear(s, b + "adaLN_modulation.1", w, 3 * w);
        }
        linear(s, net + "final_layer.linear", w, 2 * tok);
        linear(s, net + "final_layer.adaLN_modulation.1", w, 2 * w);
    }

    private static void block(Map<String, List<Long>> s, String p, long d, long hidden) {
        norm(s, p + ".norm1", d);
        linear(s, p + ".attn.qkv", d, 3 * d);
        linear(s, p + ".attn.proj", d, d);
        norm(s, p + ".norm2", d);
        linear(s, p + ".mlp.fc1", d, hidden);
        linear(s, p + ".mlp.fc2", hidden, d);
    }

    private static void linear(Map<String, List<Long>> s, String p, long in, long out) {
        s.put(p + ".weight", List.of(out, in));
        s.put(p + ".bias", List.of(out));
    }

    private static void norm(Map<String, List<Long>> s, String p, long d) {
        s.put(p + ".weight", List.of(d));
        s.put(p + ".bias", List.of(d));
    }

    /** Parameters of the whole model, diffusion head included, counted from the shapes. */
    public long parameters() {
        return count(parameterShapes());
    }

    /** Parameters of the diffusion head alone. */
    public long headParameters() {
        Map<String, List<Long>> s = new LinkedHashMap<>();
        headShapes(s);
        return count(s);
    }

    /** Parameters of one encoder block (all encoder blocks are alike, as are the decoder's). */
    public long encoderBlockParameters() {
        Map<String, List<Long>> s = new LinkedHashMap<>();
        block(s, "b", encoderEmbedDim, encoderMlpHidden());
        return count(s);
    }

    public long decoderBlockParameters() {
        Map<String, List<Long>> s = new LinkedHashMap<>();
        block(s, "b", decoderEmbedDim, decoderMlpHidden());
        return count(s);
    }

    private static long count(Map<String, List<Long>> shapes) {
        return shapes.values().stream()
                .mapToLong(l -> l.stream().reduce(1L, (a, b) -> a * b))
                .sum();
    }

    @Override
    public String toString() {
        return String.format(
                Locale.ROOT,
                "MAR(img %d, tokens %d×%d, encoder %d×%d/%dh, decoder %d×%d/%dh, buffer %d, head %d×%d, classes %d)",
                imgSize,
                seqLen(),
                tokenEmbedDim(),
                encoderDepth,
                encoderEmbedDim,
                encoderNumHeads,
                decoderDepth,
                decoderEmbedDim,
                decoderNumHeads,
                bufferSize,
                difflossD,
                difflossW,
                classNum);
    }
}
