package ai.tinyfusion.model.dit;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * Everything that fixes a DiT's architecture. Field names follow the original constructor
 * arguments. {@link #preset(String)} knows the original sizes (DiT-XL/L/B/S × patch 2/4/8, the
 * TinyFusion depth variants DiT-D19/D14/D7/2) and this project's Fashion-MNIST models.
 */
public record DiTConfig(
        int inputSize,
        int patchSize,
        int inChannels,
        int hiddenSize,
        int depth,
        int numHeads,
        double mlpRatio,
        int numClasses,
        boolean learnSigma,
        double classDropoutProb) {

    private static final Gson GSON = new GsonBuilder().setPrettyPrinting().create();

    public DiTConfig {
        require(
                inputSize > 0 && patchSize > 0 && inputSize % patchSize == 0,
                "input_size " + inputSize + " must be a positive multiple of patch_size " + patchSize);
        require(inChannels > 0, "in_channels must be positive, got " + inChannels);
        require(depth >= 0, "depth must be >= 0, got " + depth);
        require(
                numHeads > 0 && hiddenSize > 0 && hiddenSize % numHeads == 0,
                "hidden_size " + hiddenSize + " must be a positive multiple of num_heads " + numHeads);
        require(
                hiddenSize % 4 == 0,
                "hidden_size must be divisible by 4 for the 2-D sin-cos embedding, got " + hiddenSize);
        require(mlpRatio > 0, "mlp_ratio must be positive, got " + mlpRatio);
        require(numClasses > 0, "num_classes must be positive, got " + numClasses);
        require(
                classDropoutProb >= 0 && classDropoutProb < 1,
                "class_dropout_prob must be in [0,1), got " + classDropoutProb);
    }

    private static void require(boolean ok, String message) {
        if (!ok) {
            throw new IllegalArgumentException("invalid DiT config: " + message);
        }
    }

    public int outChannels() {
        return learnSigma ? inChannels * 2 : inChannels;
    }

    public int gridSize() {
        return inputSize / patchSize;
    }

    public int numPatches() {
        return gridSize() * gridSize();
    }

    public int mlpHidden() {
        return (int) (hiddenSize * mlpRatio);
    }

    /** Rows of the label table: one extra null class when label dropout (CFG) is on. */
    public int labelTableRows() {
        return numClasses + (classDropoutProb > 0 ? 1 : 0);
    }

    public DiTConfig withDepth(int newDepth) {
        return new DiTConfig(
                inputSize,
                patchSize,
                inChannels,
                hiddenSize,
                newDepth,
                numHeads,
                mlpRatio,
                numClasses,
                learnSigma,
                classDropoutProb);
    }

    private static final Map<String, int[]> SIZES = new LinkedHashMap<>();

    static {
        // name → {depth, hidden, heads}
        SIZES.put("XL", new int[] {28, 1152, 16});
        SIZES.put("L", new int[] {24, 1024, 16});
        SIZES.put("B", new int[] {12, 768, 12});
        SIZES.put("S", new int[] {12, 384, 6});
        SIZES.put("D19", new int[] {19, 1152, 16});
        SIZES.put("D14", new int[] {14, 1152, 16});
        SIZES.put("D7", new int[] {7, 1152, 16});
    }

    /**
     * This project's pixel-space models for Fashion-MNIST (28×28 grey images, 10 classes): name →
     * depth. Patch 4 → 7×7 = 49 tokens; width 64 with 4 heads. Measured here (2 cores): fwd+bwd ≈ 110
     * img/s at batch 64, so one Fashion-MNIST epoch takes about 9-10 minutes, and the 28-layer model
     * has 2.1M parameters (8.5 MB as float32 safetensors).
     */
    private static final Map<String, Integer> FASHION_DEPTHS = new LinkedHashMap<>();

    static {
        FASHION_DEPTHS.put("F28", 28);
        FASHION_DEPTHS.put("F14", 14);
        FASHION_DEPTHS.put("F7", 7);
    }

    /** The names {@link #preset} accepts. */
    public static String presetNames() {
        return "DiT-{XL,L,B,S}/{2,4,8}, DiT-{D19,D14,D7}/2 (ImageNet 256: latent 32x32x4, 1000 classes), " + "DiT-"
                + String.join(", DiT-", FASHION_DEPTHS.keySet()) + " (Fashion-MNIST: 28x28x1, 10 classes)";
    }

    /**
     * A named preset. The original names give the ImageNet-256 latent model (input 32, 4 channels,
     * 1000 classes, learned sigma, label dropout 0.1).
     */
    public static DiTConfig preset(String name) {
        String n = name.trim();
        if (n.toUpperCase(Locale.ROOT).startsWith("DIT-")) {
            Integer fashionDepth = FASHION_DEPTHS.get(n.substring(4).toUpperCase(Locale.ROOT));
            if (fashionDepth != null) {
                return new DiTConfig(28, 4, 1, 64, fashionDepth, 4, 4.0, 10, true, 0.1);
            }
            String[] parts = n.substring(4).split("/");
            int[] s = parts.length == 2 ? SIZES.get(parts[0].toUpperCase(Locale.ROOT)) : null;
            if (s != null && parts[1].matches("[248]")) {
                int patch = Integer.parseInt(parts[1]);
                boolean depthVariant = parts[0].toUpperCase(Locale.ROOT).startsWith("D");
                if (!depthVariant || patch == 2) {
                    return new DiTConfig(32, patch, 4, s[1], s[0], s[2], 4.0, 1000, true, 0.1);
                }
            }
        }
        throw new IllegalArgumentException("unknown model preset '" + name + "'; known: " + presetNames());
    }

    public String toJson() {
        return GSON.toJson(this);
    }

    /**
     * The config a JSON object (as written by {@link #toJson()}) describes.
     *
     * @throws IllegalArgumentException if the JSON is malformed, {@code null}, or describes an invalid config
     */
    public static DiTConfig fromJson(String json) {
        DiTConfig c;
        try {
            c = GSON.fromJson(json, DiTConfig.class);
        } catch (IllegalArgumentException e) {
            throw e;
        } catch (RuntimeException e) {
            // Gson's parse errors, and the bare RuntimeException it wraps a refused constructor in.
            Throwable cause = e.getCause() instanceof IllegalArgumentException ? e.getCause() : e;
            throw new IllegalArgumentException(
                    "invalid DiT config JSON: " + (cause.getMessage() != null ? cause.getMessage() : cause), e);
        }
        if (c == null) {
            throw new IllegalArgumentException("invalid DiT config JSON: it is empty or null, not an object");
        }
        // Re-run validation (Gson bypasses the canonical constructor).
        return new DiTConfig(
                c.inputSize,
                c.patchSize,
                c.inChannels,
                c.hiddenSize,
                c.depth,
                c.numHeads,
                c.mlpRatio,
                c.numClasses,
                c.learnSigma,
                c.classDropoutProb);
    }

    @Override
    public String toString() {
        return String.format(
                Locale.ROOT,
                "DiT(input=%d, patch=%d, in_ch=%d, hidden=%d, depth=%d, heads=%d, mlp_ratio=%s, classes=%d, learn_sigma=%s, class_dropout=%s)",
                inputSize,
                patchSize,
                inChannels,
                hiddenSize,
                depth,
                numHeads,
                mlpRatio,
                numClasses,
                learnSigma,
                classDropoutProb);
    }
}
