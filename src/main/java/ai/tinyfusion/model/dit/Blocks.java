package ai.tinyfusion.model.dit;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.tinyfusion.nn.Functional;
import ai.tinyfusion.nn.Linear;
import ai.tinyfusion.nn.Module;
import ai.tinyfusion.nn.ModuleList;
import ai.tinyfusion.nn.OpProfile;
import ai.tinyfusion.nn.Parameter;
import ai.tinyfusion.nn.Scalars;

/** The pieces of a DiT, each a {@link Module} whose parameter names match the original. */
public final class Blocks {
    private Blocks() {}

    /** Conv patch embedding with stride = patch, computed as patch extraction + matmul. */
    public static final class PatchEmbed extends Module {
        final Parameter weight; // (D, C, p, p), key x_embedder.proj.weight
        final Parameter bias; // (D)
        final int patch;

        PatchEmbed(NDManager m, int inChannels, int hidden, int patch) {
            super(m);
            this.patch = patch;
            Module proj = child("proj", new Holder(m));
            this.weight = ((Holder) proj).add("weight", m.zeros(new Shape(hidden, inChannels, patch, patch)));
            this.bias = ((Holder) proj).add("bias", m.zeros(new Shape(hidden)));
        }

        /** (N, C, H, W) → (N, T, D) with T = (H/p)(W/p), tokens in row-major patch order. */
        NDArray forward(NDArray x) {
            Shape s = x.getShape();
            long n = s.get(0), c = s.get(1), h = s.get(2) / patch, w = s.get(3) / patch;
            NDArray patches = x.reshape(n, c, h, patch, w, patch)
                    .transpose(0, 2, 4, 1, 3, 5)
                    .reshape(n, h * w, c * patch * patch);
            NDArray wFlat = weight.value().reshape(weight.value().getShape().get(0), c * patch * patch);
            return ai.djl.nn.core.Linear.linear(patches, wFlat, bias.value()).singletonOrThrow();
        }
    }

    /** Closes arrays that autograd does not need (each at most once; views share storage safely). */
    static void closeAll(NDArray... arrays) {
        for (NDArray a : arrays) {
            if (!a.isReleased()) {
                a.close();
            }
        }
    }

    /** A parameter-only module (for names like {@code proj.weight} or {@code embedding_table.weight}). */
    static final class Holder extends Module {
        Holder(NDManager m) {
            super(m);
        }

        Parameter add(String name, NDArray value) {
            return param(name, value, true);
        }
    }

    /** Sinusoidal timestep features (256) followed by Linear–SiLU–Linear. */
    public static final class TimestepEmbedder extends Module {
        static final int FREQ_DIM = 256;
        final ModuleList<Linear> mlp;
        private final NDArray freqs; // (FREQ_DIM/2) float32, constant

        public TimestepEmbedder(NDManager m, int hidden) {
            super(m);
            mlp = child("mlp", new ModuleList<>(m));
            mlp.put(0, new Linear(m, FREQ_DIM, hidden, true));
            mlp.put(2, new Linear(m, hidden, hidden, true));
            int half = FREQ_DIM / 2;
            // exp(-ln(10000) · i / half), in float32 exactly as the original builds it.
            NDArray idx = m.arange(0, half, 1, DataType.FLOAT32);
            freqs = buffer(Scalars.div(Scalars.mul(idx, -Math.log(10000)), half).exp());
        }

        /** t: (N) timesteps (may be fractional) → (N, 256) [cos | sin]. */
        NDArray frequencies(NDArray t) {
            NDArray args = t.toType(DataType.FLOAT32, false).expandDims(1).mul(freqs.expandDims(0));
            return args.cos().concat(args.sin(), 1);
        }

        /** t: (N) → (N, hidden). */
        public NDArray forward(NDArray t) {
            NDArray h = mlp.get(0).forward(frequencies(t));
            return mlp.get(1).forward(Functional.silu(h));
        }
    }

    /** Class embedding with an extra null row for classifier-free guidance. */
    public static final class LabelEmbedder extends Module {
        final Parameter table; // (classes + 1, D)
        final int numClasses;
        final double dropoutProb;

        LabelEmbedder(NDManager m, int numClasses, int hidden, double dropoutProb) {
            super(m);
            this.numClasses = numClasses;
            this.dropoutProb = dropoutProb;
            Holder emb = child("embedding_table", new Holder(m));
            int rows = numClasses + (dropoutProb > 0 ? 1 : 0);
            table = emb.add("weight", m.zeros(new Shape(rows, hidden)));
        }

        /**
         * Replaces labels by the null class where dropped: where {@code forceDropIds == 1} if given,
         * else with probability {@code dropoutProb} when training.
         */
        NDArray dropLabels(NDArray labels, boolean train, NDArray forceDropIds) {
            NDArray drop;
            if (forceDropIds != null) {
                drop = forceDropIds.eq(1);
            } else if (train && dropoutProb > 0) {
                drop = labels.getManager()
                        .randomUniform(0f, 1f, new Shape(labels.getShape().get(0)))
                        .lt(dropoutProb);
            } else {
                return labels;
            }
            NDArray nullLabel = labels.getManager().full(labels.getShape(), numClasses, labels.getDataType());
            return NDArrays.where(drop, nullLabel, labels);
        }

        NDArray forward(NDArray labels, boolean train, NDArray forceDropIds) {
            NDArray l = dropLabels(labels, train, forceDropIds).toType(DataType.INT64, false);
            return table.value().get(l);
        }
    }

    /** Multi-head self-attention with a fused qkv projection (timm's Attention, qkv_bias=True). */
    public static final class Attention extends Module {
        final Linear qkv;
        final Linear proj;
        final int heads;

        public Attention(NDManager m, int hidden, int heads) {
            super(m);
            this.heads = heads;
            qkv = child("qkv", new Linear(m, hidden, 3L * hidden, true));
            proj = child("proj", new Linear(m, hidden, hidden, true));
        }

        /** (N, T, D) → (N, T, D). */
        public NDArray forward(NDArray x) {
            return forward(x, 0);
        }

        /**
         * (N, T, D) → (N, T, D), with dropout of rate {@code attnDropout} on the attention probabilities
         * (timm's {@code attn_drop}; 0 for none, as in evaluation).
         */
        public NDArray forward(NDArray x, double attnDropout) {
            Shape s = x.getShape();
            long n = s.get(0), t = s.get(1), d = s.get(2), hd = d / heads;
            // Without autograd each intermediate is freed as soon as it is used: at DiT-XL/2 with 64 rows the
            // scores and probabilities are 268 MB each, and a block's scope would otherwise hold them all.
            boolean free = Functional.gradOff();
            NDArray projected = qkv.forward(x);
            long t0 = OpProfile.t0();
            NDArray split = projected.reshape(n, t, 3, heads, hd);
            NDArray qkvOut = split.transpose(2, 0, 3, 1, 4); // (3,N,H,T,hd)
            NDArray k = qkvOut.get(1);
            NDArray v = qkvOut.get(2);
            OpProfile.add(OpProfile.Kind.RESHAPE, t0, 4);
            t0 = OpProfile.t0();
            NDArray q0 = qkvOut.get(0);
            NDArray q = Scalars.mul(q0, 1.0 / Math.sqrt(hd));
            NDArray kT = k.transpose(0, 1, 3, 2);
            NDArray scores = q.matMul(kT); // (N,H,T,T)
            if (free) {
                closeAll(q0, q, kT, k);
            }
            NDArray probs = scores.softmax(-1);
            if (free) {
                scores.close();
            }
            NDArray attn = Functional.dropout(probs, attnDropout);
            if (free && attn != probs) {
                probs.close();
            }
            NDArray av = attn.matMul(v);
            if (free) {
                closeAll(attn, v, qkvOut, split, projected);
            }
            OpProfile.add(OpProfile.Kind.ATTENTION, t0, 8);
            t0 = OpProfile.t0();
            NDArray avT = av.transpose(0, 2, 1, 3);
            NDArray o = avT.reshape(n, t, d);
            if (free) {
                closeAll(avT, av);
            }
            OpProfile.add(OpProfile.Kind.RESHAPE, t0, 2);
            NDArray out = proj.forward(o);
            if (free) {
                o.close();
            }
            return out;
        }
    }

    /** Linear–GELU–Linear: GELU with the tanh approximation (DiT) or exact (timm's default, MAR). */
    public static final class Mlp extends Module {
        final Linear fc1;
        final Linear fc2;
        private final boolean exactGelu;

        Mlp(NDManager m, int hidden, int inner) {
            this(m, hidden, inner, false);
        }

        public Mlp(NDManager m, int hidden, int inner, boolean exactGelu) {
            super(m);
            this.exactGelu = exactGelu;
            fc1 = child("fc1", new Linear(m, hidden, inner, true));
            fc2 = child("fc2", new Linear(m, inner, hidden, true));
        }

        public NDArray forward(NDArray x) {
            return forward(x, 0);
        }

        /** As timm's Mlp: dropout of rate {@code dropout} after the activation (0 for none). */
        public NDArray forward(NDArray x, double dropout) {
            NDArray h = fc1.forward(x);
            long t0 = OpProfile.t0();
            if (exactGelu) {
                h = Functional.gelu(h);
            } else {
                h = Functional.gradOff() ? Functional.geluTanhInPlace(h) : Functional.geluTanh(h);
            }
            OpProfile.add(OpProfile.Kind.GELU, t0, exactGelu ? 1 : 8);
            NDArray dropped = Functional.dropout(h, dropout);
            NDArray out = fc2.forward(dropped);
            if (Functional.gradOff()) { // nothing keeps the (N, T, 4D) hidden state for a backward pass
                closeAll(h, dropped);
            }
            return out;
        }
    }

    /** LayerNorm without affine parameters, eps 1e-6 (its unit gamma / zero beta are buffers). */
    static final class Norm extends Module {
        final NDArray ones;
        final NDArray zeros;

        Norm(NDManager m, int hidden) {
            super(m);
            ones = buffer(m.ones(new Shape(hidden)));
            zeros = buffer(m.zeros(new Shape(hidden)));
        }

        NDArray apply(NDArray x) {
            return Functional.layerNorm(x, ones, zeros, 1e-6f);
        }
    }

    /** A transformer block with adaLN-Zero conditioning. */
    public static final class DiTBlock extends Module {
        final Attention attn;
        final Mlp mlp;
        final ModuleList<Linear> adaLN; // index 1 (index 0 is the SiLU)
        private final Norm norm;

        DiTBlock(NDManager m, int hidden, int heads, int mlpHidden, Norm norm) {
            super(m);
            this.norm = norm;
            attn = child("attn", new Attention(m, hidden, heads));
            mlp = child("mlp", new Mlp(m, hidden, mlpHidden));
            adaLN = child("adaLN_modulation", new ModuleList<>(m));
            adaLN.put(1, new Linear(m, hidden, 6L * hidden, true));
        }

        public Linear modulation() {
            return adaLN.get(0);
        }

        /** x: (N, T, D), c: (N, D) → (N, T, D). */
        public NDArray forward(NDArray x, NDArray c) {
            NDList mod = adaLN.get(0).forward(Functional.silu(c)).split(6, 1);
            if (Functional.gradOff()) { // inference: the same values, updating fresh intermediates in place
                long t0 = OpProfile.t0();
                NDArray y = Functional.modulateInPlace(norm.apply(x), mod.get(0), mod.get(1));
                OpProfile.add(OpProfile.Kind.NORM_MOD, t0, 8);
                NDArray h = attn.forward(y);
                y.close();
                t0 = OpProfile.t0();
                x = x.add(h.muli(mod.get(2).expandDims(1)));
                h.close();
                y = Functional.modulateInPlace(norm.apply(x), mod.get(3), mod.get(4));
                OpProfile.add(OpProfile.Kind.NORM_MOD, t0, 13);
                h = mlp.forward(y);
                y.close();
                t0 = OpProfile.t0();
                NDArray out = x.add(h.muli(mod.get(5).expandDims(1)));
                h.close();
                x.close();
                OpProfile.add(OpProfile.Kind.NORM_MOD, t0, 6);
                return out;
            }
            NDArray h = attn.forward(Functional.modulate(norm.apply(x), mod.get(0), mod.get(1)));
            x = x.add(mod.get(2).expandDims(1).mul(h));
            h = mlp.forward(Functional.modulate(norm.apply(x), mod.get(3), mod.get(4)));
            return x.add(mod.get(5).expandDims(1).mul(h));
        }
    }

    /** adaLN (shift, scale) + Linear to p·p·out_channels per token. */
    public static final class FinalLayer extends Module {
        final Linear linear;
        final ModuleList<Linear> adaLN;
        private final Norm norm;

        FinalLayer(NDManager m, int hidden, int patch, int outChannels, Norm norm) {
            super(m);
            this.norm = norm;
            linear = child("linear", new Linear(m, hidden, (long) patch * patch * outChannels, true));
            adaLN = child("adaLN_modulation", new ModuleList<>(m));
            adaLN.put(1, new Linear(m, hidden, 2L * hidden, true));
        }

        NDArray forward(NDArray x, NDArray c) {
            NDList mod = adaLN.get(0).forward(Functional.silu(c)).split(2, 1);
            return linear.forward(Functional.modulate(norm.apply(x), mod.get(0), mod.get(1)));
        }
    }
}
