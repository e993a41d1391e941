package ai.tinyfusion.model.mar;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.tinyfusion.model.dit.Blocks;
import ai.tinyfusion.nn.Functional;
import ai.tinyfusion.nn.LayerNorm;
import ai.tinyfusion.nn.Linear;
import ai.tinyfusion.nn.Module;
import ai.tinyfusion.nn.ModuleList;
import ai.tinyfusion.nn.Parameter;
import ai.tinyfusion.nn.Scalars;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.apache.commons.math3.distribution.NormalDistribution;

/**
 * MAR (Li et al., "Autoregressive Image Generation without Vector Quantization"), numerically as
 * LTH14/mar {@code models/mar.py} and the network of {@code models/diffloss.py}; state-dict keys are the
 * original ones. The diffusion process of the head (training loss, sampling) and the generation loop
 * live in {@code ai.tinyfusion.diffusion.mar}, above this layer.
 *
 * <pre>
 *   tokens (N,L,C) ─ z_proj → (N,L,De); prepend B buffer tokens = class embedding (or fake_latent)
 *     + encoder_pos_embed_learned, z_proj_ln; keep the unmasked positions      → (N,K,De)
 *   encoder_blocks[0..Ee) (timm ViT blocks), encoder_norm                      → (N,K,De)
 *   decoder_embed → (N,K,Dd); masked positions filled with mask_token          → (N,B+L,Dd)
 *     + decoder_pos_embed_learned, decoder_blocks[0..Ed), decoder_norm
 *   drop the buffer, + diffusion_pos_embed_learned                             → z (N,L,Dd)
 *   diffloss.net (SimpleMLPAdaLN): x_t (M,C), t (M), z (M,Dd)                  → (M,2C) [ε | σ range]
 * </pre>
 * L = seq_len tokens of C = vae_embed_dim·patch² values; B = buffer_size; K = B + unmasked count. Every
 * sample of a batch must mask the same number of tokens (as the original, which reshapes after dropping).
 */
public final class Mar extends Module {
    private final MarConfig config;
    final Table classEmb; // class_emb.weight (classes, De)
    final Parameter fakeLatent; // (1, De)
    final Linear zProj; // C → De
    final LayerNorm zProjLn;
    final Parameter encoderPos; // (1, B+L, De)
    final ModuleList<Block> encoderBlocks;
    final LayerNorm encoderNorm;
    final Linear decoderEmbed; // De → Dd
    final Parameter maskToken; // (1, 1, Dd)
    final Parameter decoderPos; // (1, B+L, Dd)
    final ModuleList<Block> decoderBlocks;
    final LayerNorm decoderNorm;
    final Parameter diffusionPos; // (1, L, Dd)
    final DiffLoss diffloss;

    /** Builds the model with the original initialisation (the engine's seeded generator). */
    public Mar(NDManager manager, MarConfig config) {
        this(manager, config, true);
    }

    /** @param initialise false leaves the parameters at zero / one (for models about to be loaded) */
    public Mar(NDManager manager, MarConfig config, boolean initialise) {
        super(manager);
        this.config = config;
        int de = config.encoderEmbedDim(), dd = config.decoderEmbedDim(), c = config.tokenEmbedDim();
        long positions = (long) config.seqLen() + config.bufferSize();
        fakeLatent = param("fake_latent", manager.zeros(new Shape(1, de)), true);
        encoderPos = param("encoder_pos_embed_learned", manager.zeros(new Shape(1, positions, de)), true);
        maskToken = param("mask_token", manager.zeros(new Shape(1, 1, dd)), true);
        decoderPos = param("decoder_pos_embed_learned", manager.zeros(new Shape(1, positions, dd)), true);
        diffusionPos = param("diffusion_pos_embed_learned", manager.zeros(new Shape(1, config.seqLen(), dd)), true);
        classEmb = child("class_emb", new Table(manager, config.classNum(), de));
        zProj = child("z_proj", new Linear(manager, c, de, true));
        zProjLn = child("z_proj_ln", new LayerNorm(manager, de, 1e-6f));
        encoderBlocks = child("encoder_blocks", new ModuleList<>(manager));
        for (int i = 0; i < config.encoderDepth(); i++) {
            encoderBlocks.add(new Block(manager, de, config.encoderNumHeads(), config.encoderMlpHidden()));
        }
        encoderNorm = child("encoder_norm", new LayerNorm(manager, de, 1e-6f));
        decoderEmbed = child("decoder_embed", new Linear(manager, de, dd, true));
        decoderBlocks = child("decoder_blocks", new ModuleList<>(manager));
        for (int i = 0; i < config.decoderDepth(); i++) {
            decoderBlocks.add(new Block(manager, dd, config.decoderNumHeads(), config.decoderMlpHidden()));
        }
        decoderNorm = child("decoder_norm", new LayerNorm(manager, dd, 1e-6f));
        diffloss = child("diffloss", new DiffLoss(manager, config));
        if (initialise) {
            initialise();
        }
    }

    public MarConfig config() {
        return config;
    }

    /** The diffusion head (SimpleMLPAdaLN), key prefix {@code diffloss.net}. */
    public Head head() {
        return diffloss.net;
    }

    public int encoderDepth() {
        return encoderBlocks.size();
    }

    public int decoderDepth() {
        return decoderBlocks.size();
    }

    /** Encoder block i (0-based). */
    public Block encoderBlock(int i) {
        return encoderBlocks.get(i);
    }

    /** Decoder block i (0-based). */
    public Block decoderBlock(int i) {
        return decoderBlocks.get(i);
    }

    // ---------------------------------------------------------------------------------------------
    // Tokens

    /** VAE latents (N, c, h·p, w·p) → tokens (N, h·w, c·p·p), channel-major inside a token. */
    public NDArray patchify(NDArray x) {
        Shape s = x.getShape();
        int p = config.patchSize();
        long n = s.get(0), c = s.get(1), h = s.get(2) / p, w = s.get(3) / p;
        return x.reshape(n, c, h, p, w, p).transpose(0, 2, 4, 1, 3, 5).reshape(n, h * w, c * p * p);
    }

    /** Tokens (N, L, c·p·p) → VAE latents (N, c, side·p, side·p). */
    public NDArray unpatchify(NDArray x) {
        int p = config.patchSize(), side = config.seqSide(), c = config.vaeEmbedDim();
        long n = x.getShape().get(0);
        return x.reshape(n, side, side, c, p, p)
                .transpose(0, 3, 1, 4, 2, 5)
                .reshape(n, c, (long) side * p, (long) side * p);
    }

    /** labels (N) → class embeddings (N, De). */
    public NDArray classEmbedding(NDArray labels) {
        return classEmb.weight.value().get(labels.toType(DataType.INT64, false));
    }

    /** The unconditional (fake) class embedding repeated: (n, De). */
    public NDArray fakeLatent(long n) {
        return fakeLatent.value().repeat(0, n);
    }

    // ---------------------------------------------------------------------------------------------
    // Encoder and decoder

    /**
     * {@code forward_mae_encoder}: tokens (N,L,C), mask (N,L) with 1 = masked (the same count per sample), class
     * embeddings (N,De) → (N, B + unmasked, De).
     *
     * @param train dropout as configured and, with probability {@code label_drop_prob} per sample, the class
     *     embedding replaced by {@code fake_latent}
     */
    public NDArray forwardEncoder(NDArray tokens, NDArray mask, NDArray classEmbedding, boolean train) {
        NDArray x = zProj.forward(tokens); // (N,L,De)
        long n = x.getShape().get(0), d = x.getShape().get(2);
        int buffer = config.bufferSize();
        if (train && config.labelDropProb() > 0) {
            NDArray drop = x.getManager()
                    .randomUniform(0f, 1f, new Shape(n))
                    .lt(config.labelDropProb())
                    .toType(x.getDataType(), false)
                    .expandDims(1); // (N,1)
            classEmbedding =
                    drop.mul(fakeLatent.value()).add(Scalars.rsub(1.0, drop).mul(classEmbedding));
        }
        NDArray buf = classEmbedding.expandDims(1).broadcast(new Shape(n, buffer, d)); // (N,B,De)
        x = buf.concat(x, 1).add(encoderPos.value()); // (N,B+L,De)
        x = zProjLn.forward(x);
        x = x.gather(keptIndex(mask, x), 1); // (N,K,De)
        double drop = train ? config.attnDropout() : 0, proj = train ? config.projDropout() : 0;
        for (Block b : encoderBlocks.items()) {
            x = b.forward(x, drop, proj);
        }
        return encoderNorm.forward(x);
    }

    /** {@code forward_mae_decoder}: encoder output (N,K,De), mask (N,L) → z (N,L,Dd). */
    public NDArray forwardDecoder(NDArray encoded, NDArray mask, boolean train) {
        NDArray x = decoderEmbed.forward(encoded); // (N,K,Dd)
        long n = x.getShape().get(0), k = x.getShape().get(1), d = x.getShape().get(2);
        NDArray padded = x.concat(maskToken.value().broadcast(new Shape(n, 1, d)), 1); // (N,K+1,Dd)
        x = padded.gather(scatterIndex(mask, k, padded), 1).add(decoderPos.value()); // (N,B+L,Dd)
        double drop = train ? config.attnDropout() : 0, proj = train ? config.projDropout() : 0;
        for (Block b : decoderBlocks.items()) {
            x = b.forward(x, drop, proj);
        }
        x = decoderNorm.forward(x);
        x = x.get(":, " + config.bufferSize() + ":, :"); // (N,L,Dd)
        return x.add(diffusionPos.value());
    }

    /** Positions (buffer first) that the encoder keeps, per sample, as a gather index (N, K, D). */
    private NDArray keptIndex(NDArray mask, NDArray like) {
        boolean[][] masked = masked(mask);
        int n = masked.length, l = masked[0].length, buffer = config.bufferSize();
        long kept = -1;
        List<long[]> rows = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            long[] row = new long[buffer + l];
            int c = 0;
            for (int j = 0; j < buffer + l; j++) {
                if (j < buffer || !masked[i][j - buffer]) {
                    row[c++] = j;
                }
            }
            if (kept >= 0 && c != kept) {
                throw new IllegalArgumentException("every sample must mask the same number of tokens; sample " + i
                        + " keeps " + (c - buffer) + ", sample 0 keeps " + (kept - buffer));
            }
            kept = c;
            rows.add(java.util.Arrays.copyOf(row, c));
        }
        long[] flat = rows.stream().flatMapToLong(java.util.Arrays::stream).toArray();
        long d = like.getShape().get(2);
        return index(like.getManager(), flat, new Shape(n, kept, 1)).broadcast(new Shape(n, kept, d));
    }

    /** For each of the B+L positions, where its value is in [kept (K) | mask token]: (N, B+L, D). */
    private NDArray scatterIndex(NDArray mask, long k, NDArray like) {
        boolean[][] masked = masked(mask);
        int n = masked.length, l = masked[0].length, buffer = config.bufferSize();
        long[] flat = new long[n * (buffer + l)];
        for (int i = 0; i < n; i++) {
            int c = 0;
            for (int j = 0; j < buffer + l; j++) {
                boolean isMasked = j >= buffer && masked[i][j - buffer];
                flat[i * (buffer + l) + j] = isMasked ? k : c++;
            }
            if (c != k) {
                throw new IllegalArgumentException("mask keeps " + (c - buffer) + " tokens of sample " + i
                        + " but the encoder output has " + (k - buffer));
            }
        }
        long d = like.getShape().get(2);
        return index(like.getManager(), flat, new Shape(n, buffer + l, 1)).broadcast(new Shape(n, buffer + l, d));
    }

    private boolean[][] masked(NDArray mask) {
        Shape s = mask.getShape();
        if (s.dimension() != 2 || s.get(1) != config.seqLen()) {
            throw new IllegalArgumentException("mask must be (N, " + config.seqLen() + "), got " + s);
        }
        float[] v = mask.toType(DataType.FLOAT32, false).toFloatArray();
        int n = (int) s.get(0), l = (int) s.get(1);
        boolean[][] out = new boolean[n][l];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < l; j++) {
                out[i][j] = v[i * l + j] != 0;
            }
        }
        return out;
    }

    /** An int64 array in libtorch-owned memory (gather's backward keeps the index). */
    static NDArray index(NDManager manager, long[] values, Shape shape) {
        try (NDArray javaOwned = manager.create(values, shape)) {
            return javaOwned.duplicate();
        }
    }

    // ---------------------------------------------------------------------------------------------
    // Masking for training (models/mar.py sample_orders, random_masking, mask_ratio_generator)

    /** A random generation order (a permutation of the L positions) per sample. */
    public static long[][] sampleOrders(int n, int seqLen, Random rng) {
        long[][] out = new long[n][seqLen];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < seqLen; j++) {
                out[i][j] = j;
            }
            for (int j = seqLen - 1; j > 0; j--) {
                int r = rng.nextInt(j + 1);
                long t = out[i][j];
                out[i][j] = out[i][r];
                out[i][r] = t;
            }
        }
        return out;
    }

    /**
     * The training mask ratio: a normal of mean 1 and standard deviation 0.25 truncated to
     * [mask_ratio_min, 1] (scipy's {@code truncnorm((min − 1)/0.25, 0, loc=1, scale=0.25)}), drawn by
     * inverting the CDF as scipy does.
     */
    public double sampleMaskRatio(Random rng) {
        NormalDistribution std = new NormalDistribution(null, 0, 1);
        double a = (config.maskRatioMin() - 1.0) / 0.25;
        double lo = std.cumulativeProbability(a), hi = std.cumulativeProbability(0);
        double u = lo + rng.nextDouble() * (hi - lo);
        return Math.min(1.0, Math.max(config.maskRatioMin(), 1.0 + 0.25 * std.inverseCumulativeProbability(u)));
    }

    /** How many tokens a mask ratio masks: ceil(L · ratio). */
    public int maskedCount(double ratio) {
        return (int) Math.ceil(config.seqLen() * ratio);
    }

    /** (N, L) float mask with 1 at the first {@code count} positions of each order. */
    public static NDArray maskByOrder(NDManager manager, long[][] orders, int count, int seqLen) {
        float[] v = new float[orders.length * seqLen];
        for (int i = 0; i < orders.length; i++) {
            for (int j = 0; j < count; j++) {
                v[i * seqLen + (int) orders[i][j]] = 1f;
            }
        }
        try (NDArray javaOwned = manager.create(v, new Shape(orders.length, seqLen))) {
            return javaOwned.duplicate();
        }
    }

    // ---------------------------------------------------------------------------------------------
    // Initialisation (initialize_weights of MAR and of SimpleMLPAdaLN)

    private void initialise() {
        try (NDManager m = manager.newSubManager()) {
            for (Parameter p :
                    new Parameter[] {classEmb.weight, fakeLatent, maskToken, encoderPos, decoderPos, diffusionPos}) {
                p.set(m.randomNormal(0f, 0.02f, p.value().getShape(), DataType.FLOAT32));
            }
            namedModules().forEach((name, module) -> {
                if (module instanceof Linear l) {
                    float a = (float) Math.sqrt(6.0 / (l.inFeatures() + l.outFeatures()));
                    l.weight().set(m.randomUniform(-a, a, l.weight().value().getShape()));
                    l.bias().set(m.zeros(l.bias().value().getShape()));
                }
            });
            Head h = diffloss.net;
            for (String k : new String[] {"mlp.0", "mlp.2"}) {
                Linear l = (Linear) h.timeEmbed.namedModules().get(k);
                l.weight().set(m.randomNormal(0f, 0.02f, l.weight().value().getShape(), DataType.FLOAT32));
            }
            for (ResBlock b : h.resBlocks.items()) {
                zero(m, b.adaLN.get(0));
            }
            zero(m, h.finalLayer.adaLN.get(0));
            zero(m, h.finalLayer.linear);
        }
    }

    private static void zero(NDManager m, Linear l) {
        l.weight().set(m.zeros(l.weight().value().getShape()));
        l.bias().set(m.zeros(l.bias().value().getShape()));
    }

    // ---------------------------------------------------------------------------------------------
    // Pieces

    /** {@code nn.Embedding}: one parameter {@code weight}. */
    static final class Table extends Module {
        final Parameter weight;

        Table(NDManager m, int rows, int width) {
            super(m);
            weight = param("weight", m.zeros(new Shape(rows, width)), true);
        }
    }

    /**
     * timm's ViT {@code Block} as MAR builds it: pre-norm (LayerNorm eps 1e-6), attention with qkv bias,
     * MLP with exact GELU, dropout on the attention probabilities and after each projection in training.
     */
    public static final class Block extends Module {
        final LayerNorm norm1;
        final Blocks.Attention attn;
        final LayerNorm norm2;
        final Blocks.Mlp mlp;

        Block(NDManager m, int dim, int heads, int mlpHidden) {
            super(m);
            norm1 = child("norm1", new LayerNorm(m, dim, 1e-6f));
            attn = child("attn", new Blocks.Attention(m, dim, heads));
            norm2 = child("norm2", new LayerNorm(m, dim, 1e-6f));
            mlp = child("mlp", new Blocks.Mlp(m, dim, mlpHidden, true));
        }

        /** (N,T,D) → (N,T,D); attnDrop / projDrop 0 in evaluation. */
        public NDArray forward(NDArray x, double attnDrop, double projDrop) {
            x = x.add(Functional.dropout(attn.forward(norm1.forward(x), attnDrop), projDrop));
            return x.add(Functional.dropout(mlp.forward(norm2.forward(x), projDrop), projDrop));
        }
    }

    /** {@code DiffLoss}: holds the network under the key {@code net}. */
    static final class DiffLoss extends Module {
        final Head net;

        DiffLoss(NDManager m, MarConfig c) {
            super(m);
            net = child("net", new Head(m, c));
        }
    }

    /**
     * {@code SimpleMLPAdaLN}: the per-token denoiser. x_t (M,C) → input_proj; y = time_embed(t) + cond_embed(z);
     * res blocks with adaLN from y; final layer → (M, 2C): ε and the learned-range variance values.
     */
    public static final class Head extends Module {
        final Blocks.TimestepEmbedder timeEmbed;
        final Linear condEmbed;
        final Linear inputProj;
        final ModuleList<ResBlock> resBlocks;
        final FinalLayer finalLayer;
        private final int channels;

        Head(NDManager m, MarConfig c) {
            super(m);
            int w = c.difflossW();
            channels = c.tokenEmbedDim();
            timeEmbed = child("time_embed", new Blocks.TimestepEmbedder(m, w));
            condEmbed = child("cond_embed", new Linear(m, c.decoderEmbedDim(), w, true));
            inputProj = child("input_proj", new Linear(m, channels, w, true));
            resBlocks = child("res_blocks", new ModuleList<>(m));
            for (int i = 0; i < c.difflossD(); i++) {
                resBlocks.add(new ResBlock(m, w));
            }
            finalLayer = child("final_layer", new FinalLayer(m, w, 2 * channels));
        }

        /** x (M,C), t (M) timesteps of the 1,000-step process, z (M,Dd) → (M, 2C). */
        public NDArray forward(NDArray x, NDArray t, NDArray z) {
            NDArray h = inputProj.forward(x); // (M,W)
            NDArray y = timeEmbed.forward(t).add(condEmbed.forward(z)); // (M,W)
            for (ResBlock b : resBlocks.items()) {
                h = b.forward(h, y);
            }
            return finalLayer.forward(h, y);
        }

        /**
         * {@code forward_with_cfg}: the first half of x is run twice (z holds [cond | uncond]); the guided ε
         * {@code uncond + s·(cond − uncond)} replaces all C ε channels of both halves; the variance channels are
         * kept as computed.
         *
         * @param cfgScale as a float32 scalar (the original's schedule computes it as a float32 tensor)
         */
        public NDArray forwardWithCfg(NDArray x, NDArray t, NDArray z, float cfgScale) {
            long n = x.getShape().get(0);
            NDArray half = x.get("0:" + (n / 2));
            NDArray out = forward(half.concat(half, 0), t, z);
            NDArray eps = out.get(":, 0:" + channels);
            NDArray rest = out.get(":, " + channels + ":");
            NDList condUncond = eps.split(2, 0);
            NDArray cond = condUncond.get(0), uncond = condUncond.get(1);
            NDArray guided = uncond.add(Scalars.mul(cond.sub(uncond), cfgScale));
            return guided.concat(guided, 0).concat(rest, 1);
        }

        /** Token values per sample (C); the output has 2C. */
        public int channels() {
            return channels;
        }
    }

    /** x·(1 + scale) + shift for (M, W) rows. */
    private static NDArray modulate(NDArray x, NDArray shift, NDArray scale) {
        return x.mul(scale.add(1)).add(shift);
    }

    /** Head residual block: LN (affine) → adaLN modulate → Linear–SiLU–Linear, gated. */
    static final class ResBlock extends Module {
        final LayerNorm inLn;
        final ModuleList<Linear> mlp; // 0 and 2 (1 is the SiLU)
        final ModuleList<Linear> adaLN; // 1 (0 is the SiLU)

        ResBlock(NDManager m, int w) {
            super(m);
            inLn = child("in_ln", new LayerNorm(m, w, 1e-6f));
            mlp = child("mlp", new ModuleList<>(m));
            mlp.put(0, new Linear(m, w, w, true));
            mlp.put(2, new Linear(m, w, w, true));
            adaLN = child("adaLN_modulation", new ModuleList<>(m));
            adaLN.put(1, new Linear(m, w, 3L * w, true));
        }

        NDArray forward(NDArray x, NDArray y) {
            NDList mod = adaLN.get(0).forward(Functional.silu(y)).split(3, 1); // shift, scale, gate
            NDArray h = modulate(inLn.forward(x), mod.get(0), mod.get(1));
            h = mlp.get(1).forward(Functional.silu(mlp.get(0).forward(h)));
            return x.add(mod.get(2).mul(h));
        }
    }

    /** Head output: LN without affine parameters → adaLN modulate → Linear to 2C. */
    static final class FinalLayer extends Module {
        final Linear linear;
        final ModuleList<Linear> adaLN;
        private final NDArray ones;
        private final NDArray zeros;

        FinalLayer(NDManager m, int w, int out) {
            super(m);
            linear = child("linear", new Linear(m, w, out, true));
            adaLN = child("adaLN_modulation", new ModuleList<>(m));
            adaLN.put(1, new Linear(m, w, 2L * w, true));
            ones = buffer(m.ones(new Shape(w)));
            zeros = buffer(m.zeros(new Shape(w)));
        }

        NDArray forward(NDArray x, NDArray y) {
            NDList mod = adaLN.get(0).forward(Functional.silu(y)).split(2, 1);
            return linear.forward(modulate(Functional.layerNorm(x, ones, zeros, 1e-6f), mod.get(0), mod.get(1)));
        }
    }
}
