package ai.tinyfusion.model.dit;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.tinyfusion.nn.Functional;
import ai.tinyfusion.nn.Linear;
import ai.tinyfusion.nn.Module;
import ai.tinyfusion.nn.ModuleList;
import ai.tinyfusion.nn.Parameter;
import ai.tinyfusion.nn.Scopes;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Diffusion Transformer (Peebles &amp; Xie), numerically identical to facebookresearch/DiT's
 * {@code models.py}; state-dict keys are the original ones.
 *
 * <pre>
 *   x (N,C,H,W) ─ x_embedder + pos_embed → (N,T,D)
 *   t (N) ─ t_embedder ─┐
 *   y (N) ─ y_embedder ─┴→ c (N,D)
 *   blocks[0..depth) : (N,T,D) × c → (N,T,D), each optionally gated per sample (pruning)
 *   final_layer → (N,T,p·p·out) ─ unpatchify → (N,out,H,W)
 * </pre>
 */
public final class DiT extends Module {
    private final DiTConfig config;
    final Blocks.PatchEmbed xEmbedder;
    final Blocks.TimestepEmbedder tEmbedder;
    final Blocks.LabelEmbedder yEmbedder;
    final Parameter posEmbed; // (1, T, D), fixed
    final ModuleList<Blocks.DiTBlock> blocks;
    final Blocks.FinalLayer finalLayer;
    private final Blocks.Norm norms; // shared, holds buffers only

    @Override
    public java.util.List<NDArray> arrays() {
        java.util.List<NDArray> out = super.arrays();
        out.addAll(norms.arrays());
        return out;
    }

    /** Builds the model with the original initialisation (uses the engine's seeded RNG). */
    public DiT(NDManager manager, DiTConfig config) {
        this(manager, config, true);
    }

    /**
     * @param initialise false leaves every parameter at zero (cheap; for models about to be loaded
     *     from a checkpoint)
     */
    public DiT(NDManager manager, DiTConfig config, boolean initialise) {
        super(manager);
        this.config = config;
        int d = config.hiddenSize();
        Blocks.Norm norm = new Blocks.Norm(manager, d);
        norms = norm;
        xEmbedder = child("x_embedder", new Blocks.PatchEmbed(manager, config.inChannels(), d, config.patchSize()));
        tEmbedder = child("t_embedder", new Blocks.TimestepEmbedder(manager, d));
        yEmbedder = child(
                "y_embedder", new Blocks.LabelEmbedder(manager, config.numClasses(), d, config.classDropoutProb()));
        posEmbed = param("pos_embed", manager.zeros(new Shape(1, config.numPatches(), d)), false);
        blocks = child("blocks", new ModuleList<>(manager));
        for (int i = 0; i < config.depth(); i++) {
            blocks.add(new Blocks.DiTBlock(manager, d, config.numHeads(), config.mlpHidden(), norm));
        }
        finalLayer =
                child("final_layer", new Blocks.FinalLayer(manager, d, config.patchSize(), config.outChannels(), norm));
        if (initialise) {
            Init.original(this);
        } else {
            try (NDManager tmp = manager.newSubManager()) {
                posEmbed.set(tmp.create(PosEmbed.sincos2d(d, config.gridSize()), new Shape(1, config.numPatches(), d)));
            }
        }
    }

    /** The architecture. */
    public DiTConfig config() {
        return config;
    }

    /** Number of transformer blocks. */
    public int depth() {
        return blocks.size();
    }

    public Blocks.DiTBlock block(int i) {
        return blocks.get(i);
    }

    /** Every Linear in the model keyed by its state-dict prefix (LoRA targets). */
    public Map<String, Linear> linears() {
        Map<String, Linear> out = new TreeMap<>();
        namedModules().forEach((k, m) -> {
            if (m instanceof Linear l) {
                out.put(k, l);
            }
        });
        return out;
    }

    /** Options of one forward pass. All fields are optional. */
    public static final class Options {
        /** Training mode: random label dropout with {@code class_dropout_prob}. */
        public boolean train;
        /** (N) ints; 1 forces the null label (classifier-free guidance), overriding {@link #train}. */
        public NDArray forceDropIds;
        /** Per-sample layer masks (pruning search). */
        public LayerGate gate;
        /** Block indices whose outputs are recorded into {@link #hidden} (in ascending order). */
        public int[] capture;
        /** Filled with the captured block outputs, each (N, T, D). */
        public final List<NDArray> hidden = new ArrayList<>();

        public Options train(boolean on) {
            this.train = on;
            return this;
        }

        public Options forceDrop(NDArray ids) {
            this.forceDropIds = ids;
            return this;
        }

        public Options gate(LayerGate g) {
            this.gate = g;
            return this;
        }

        public Options capture(int... layers) {
            this.capture = layers;
            return this;
        }
    }

    /** Eval-mode forward: x (N,C,H,W), t (N), y (N) → (N, out_channels, H, W). */
    public NDArray forward(NDArray x, NDArray t, NDArray y) {
        return forward(x, t, y, new Options());
    }

    public NDArray forward(NDArray x, NDArray t, NDArray y, Options o) {
        NDArray h = embed(x); // (N,T,D)
        NDArray c = condition(t, y, o); // (N,D)
        // Without autograd nothing needs a block's intermediates after it returns: each block runs in
        // its own sub-manager and the previous hidden state is freed, so a forward pass holds about one
        // block's activations at a time instead of all of them (DiT-XL/2 CFG sampling at batch 32: the
        // difference between 4 and more than 12 GB).
        boolean scoped = Functional.gradOff();
        NDManager owner = h.getManager();
        int nextCapture = 0;
        for (int i = 0; i < blocks.size(); i++) {
            final int layer = i;
            final NDArray in = h;
            NDArray mask = o.gate == null ? null : o.gate.mask(i);
            NDArray out = !scoped
                    ? gatedBlock(layer, in, c, mask)
                    : mask == null
                            ? Scopes.keep(owner, blocks.get(i), op -> gatedBlock(layer, in, c, null), in, c)
                            : Scopes.keep(owner, blocks.get(i), op -> gatedBlock(layer, in, c, mask), in, c, mask);
            if (o.capture != null && nextCapture < o.capture.length && o.capture[nextCapture] == i) {
                o.hidden.add(out);
                nextCapture++;
            }
            if (scoped && !heldByCaller(in, o)) {
                in.close();
            }
            h = out;
        }
        return head(h, c); // (N,out,H,W)
    }

    private static boolean heldByCaller(NDArray a, Options o) {
        return o.hidden.stream().anyMatch(k -> k == a);
    }

    /** Block {@code i} on h, mixed with h per sample by the (N) mask m (null: no mixing). */
    private NDArray gatedBlock(int i, NDArray h, NDArray c, NDArray m) {
        NDArray out = blocks.get(i).forward(h, c);
        if (m != null) {
            NDArray mm = m.reshape(m.getShape().get(0), 1, 1);
            out = out.mul(mm).add(h.mul(mm.neg().add(1)));
        }
        return out;
    }

    /*
     * The three stages of forward, for callers that run the block stack themselves (e.g. evaluating
     * many layer subsets from shared intermediate states): forward = head(blocks(embed(x), c), c).
     */

    /** Patch embedding plus the fixed positional embedding: x (N,C,H,W) → tokens (N,T,D). */
    public NDArray embed(NDArray x) {
        return xEmbedder.forward(x).add(posEmbed.value());
    }

    /** The conditioning vector: t (N), y (N) → c (N,D), labels dropped as {@code o} says. */
    public NDArray condition(NDArray t, NDArray y, Options o) {
        return tEmbedder.forward(t).add(yEmbedder.forward(y, o.train, o.forceDropIds));
    }

    /** Final layer and unpatchify: h (N,T,D), c (N,D) → (N, out_channels, H, W). */
    public NDArray head(NDArray h, NDArray c) {
        return unpatchify(finalLayer.forward(h, c));
    }

    /** (N, T, p·p·C) → (N, C, H, W). */
    NDArray unpatchify(NDArray x) {
        int p = config.patchSize();
        int c = config.outChannels();
        long n = x.getShape().get(0);
        int g = config.gridSize();
        return x.reshape(n, g, g, p, p, c).transpose(0, 5, 1, 3, 2, 4).reshape(n, c, (long) g * p, (long) g * p);
    }

    /**
     * Classifier-free guidance in one batched pass, as the original {@code forward_with_cfg}: the first
     * half of x is duplicated, y holds [labels | null labels], and the guided output
     * {@code uncond + s·(cond − uncond)} replaces the first {@code guidedChannels} channels of both
     * halves (the original guides 3 channels; pass {@code in_channels} or more for all of eps).
     */
    public NDArray forwardWithCfg(NDArray x, NDArray t, NDArray y, double cfgScale, int guidedChannels) {
        long n = x.getShape().get(0);
        NDArray half = x.get("0:" + (n / 2));
        NDArray out = forward(half.concat(half, 0), t, y);
        long k = Math.min(guidedChannels, out.getShape().get(1));
        NDArray eps = out.get(":, 0:" + k);
        NDArray rest = out.get(":, " + k + ":");
        NDList condUncond = eps.split(2, 0);
        NDArray cond = condUncond.get(0);
        NDArray uncond = condUncond.get(1);
        NDArray guided = uncond.add(ai.tinyfusion.nn.Scalars.mul(cond.sub(uncond), cfgScale));
        NDArray epsOut = guided.concat(guided, 0);
        return rest.getShape().get(1) == 0 ? epsOut : epsOut.concat(rest, 1);
    }
}
