package ai.tinyfusion.model.dit;

/**
 * Multiply-accumulates of one forward pass per image, counted analytically (matmuls and the patch
 * convolution; elementwise work is ignored, as fvcore does for the DiT paper's "Gflops" column,
 * which therefore equals MACs: DiT-XL/2 at 256×256 ≈ 118.6 G).
 */
public final class Flops {
    private Flops() {}

    public static long macsPerImage(DiTConfig c) {
        return macsPerImage(c, c.depth());
    }

    /** MACs with {@code depth} transformer blocks (the rest of the model unchanged). */
    public static long macsPerImage(DiTConfig c, int depth) {
        long d = c.hiddenSize();
        long t = c.numPatches();
        long pp = (long) c.patchSize() * c.patchSize();
        long embed = t * d * c.inChannels() * pp + (long) Blocks.TimestepEmbedder.FREQ_DIM * d + d * d;
        long block = 6 * d * d // adaLN modulation (per image, not per token)
                + t * 3 * d * d // qkv
                + 2 * t * t * d // q·kᵀ and attn·v
                + t * d * d // proj
                + 2 * t * d * c.mlpHidden(); // fc1 + fc2
        long last = 2 * d * d + t * d * pp * c.outChannels();
        return embed + depth * block + last;
    }

    /** Parameters of a config, counted without building the model (includes the fixed pos_embed). */
    public static long parameters(DiTConfig c) {
        long d = c.hiddenSize();
        long pp = (long) c.patchSize() * c.patchSize();
        long h = c.mlpHidden();
        long embed = d * c.inChannels() * pp
                + d // x_embedder
                + (Blocks.TimestepEmbedder.FREQ_DIM * d + d)
                + (d * d + d) // t_embedder
                + (long) c.labelTableRows() * d // y_embedder
                + (long) c.numPatches() * d; // pos_embed
        long block = (3 * d * d + 3 * d) + (d * d + d) + (h * d + h) + (d * h + d) + (6 * d * d + 6 * d);
        long last = (2 * d * d + 2 * d) + (pp * c.outChannels() * d + pp * c.outChannels());
        return embed + c.depth() * block + last;
    }
}
