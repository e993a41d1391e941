package ai.tinyfusion.model.vae;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.tinyfusion.nn.Conv2d;
import ai.tinyfusion.nn.GroupNorm;
import ai.tinyfusion.nn.Linear;
import ai.tinyfusion.nn.Module;
import ai.tinyfusion.nn.ModuleList;
import ai.tinyfusion.nn.Scalars;
import java.util.function.UnaryOperator;

/**
 * The pieces of the KL autoencoder, named as diffusers names them (LDM's names in the comments; the
 * math is the same in both codebases).
 *
 * <p>Inference only (the autoencoder runs them under {@code NoGrad}): norms and activations work in
 * place, every block runs in its own sub-manager ({@link #scoped}) and closes what it no longer needs,
 * so a 256×256 decode holds a few full-resolution activations at a time instead of every intermediate
 * of the pass.
 */
final class VaeBlocks {
    private VaeBlocks() {}

    /**
     * {@code f(x)} with every intermediate array freed: f runs in a sub-manager of x's manager, and only
     * its result is moved back to x's manager.
     */
    static NDArray scoped(NDArray x, UnaryOperator<NDArray> f) {
        NDManager outer = x.getManager();
        try (NDManager sub = outer.newSubManager()) {
            sub.tempAttachAll(x);
            NDArray y = f.apply(x);
            y.attach(outer);
            return y;
        }
    }

    /** {@code f(h)}, closing h afterwards: for the pass's own intermediates, so only one level's arrays live at a time. */
    static NDArray advance(NDArray h, UnaryOperator<NDArray> f) {
        NDArray y = f.apply(h);
        h.close();
        return y;
    }

    static GroupNorm norm(NDManager m, VaeConfig c, int channels) {
        return new GroupNorm(m, c.normGroups(), channels, VaeConfig.NORM_EPS);
    }

    /** SiLU(GroupNorm(x)) as one new array (x is kept). */
    static NDArray normSilu(GroupNorm norm, NDArray x) {
        NDArray h = norm.forwardInPlace(x);
        try (NDArray gate = h.getNDArrayInternal().sigmoid()) {
            return h.muli(gate);
        }
    }

    /**
     * ResNet block without time embedding (diffusers {@code ResnetBlock2D}, LDM {@code ResnetBlock}):
     * GN → SiLU → conv3×3 → GN → SiLU → (dropout 0) → conv3×3, plus the input, through a 1×1 conv
     * ({@code conv_shortcut}; LDM {@code nin_shortcut}) when the width changes.
     */
    static final class ResnetBlock extends Module {
        final GroupNorm norm1;
        final Conv2d conv1;
        final GroupNorm norm2;
        final Conv2d conv2;
        final Conv2d shortcut; // null when in == out

        ResnetBlock(NDManager m, VaeConfig c, int in, int out) {
            super(m);
            norm1 = child("norm1", norm(m, c, in));
            conv1 = child("conv1", new Conv2d(m, in, out, 3, 1, 1, true));
            norm2 = child("norm2", norm(m, c, out));
            conv2 = child("conv2", new Conv2d(m, out, out, 3, 1, 1, true));
            shortcut = in == out ? null : child("conv_shortcut", new Conv2d(m, in, out, 1, 1, 0, true));
        }

        /** (N, in, H, W) → (N, out, H, W). */
        NDArray forward(NDArray x) {
            return scoped(x, in -> {
                NDArray h = advance(normSilu(norm1, in), conv1::forward);
                h = advance(advance(h, a -> normSilu(norm2, a)), conv2::forward);
                if (shortcut == null) {
                    return h.addi(in);
                }
                try (NDArray skip = shortcut.forward(in)) {
                    return h.addi(skip);
                }
            });
        }
    }

    /**
     * Single-head self-attention over all positions with a residual (diffusers {@code Attention} with
     * heads 1, from the deprecated {@code AttentionBlock}; LDM {@code AttnBlock}):
     * GN → q, k, v (C→C) → softmax(q·kᵀ / √C) · v → out projection → + x.
     * LDM's q/k/v/proj_out are 1×1 convs [C, C, 1, 1]; here they are Linear [C, C], as in diffusers.
     */
    static final class SelfAttention extends Module {
        final GroupNorm groupNorm;
        final Linear toQ;
        final Linear toK;
        final Linear toV;
        final Linear toOut;
        final int channels;

        SelfAttention(NDManager m, VaeConfig c, int channels) {
            super(m);
            this.channels = channels;
            groupNorm = child("group_norm", norm(m, c, channels));
            toQ = child("to_q", new Linear(m, channels, channels, true));
            toK = child("to_k", new Linear(m, channels, channels, true));
            toV = child("to_v", new Linear(m, channels, channels, true));
            ModuleList<Linear> out = child("to_out", new ModuleList<>(m));
            toOut = out.put(0, new Linear(m, channels, channels, true)); // to_out.1 is a parameter-free dropout
        }

        /** (N, C, H, W) → (N, C, H, W). */
        NDArray forward(NDArray x) {
            return scoped(x, in -> {
                Shape s = in.getShape();
                long n = s.get(0), hw = s.get(2) * s.get(3);
                NDArray tokens =
                        groupNorm.forwardInPlace(in).reshape(n, channels, hw).transpose(0, 2, 1); // (N, HW, C)
                NDArray q = toQ.forward(tokens);
                NDArray k = toK.forward(tokens);
                NDArray v = toV.forward(tokens);
                NDArray weights = Scalars.mul(q.batchMatMul(k.transpose(0, 2, 1)), 1.0 / Math.sqrt(channels))
                        .softmax(2); // (N, HW query, HW key)
                NDArray attended = toOut.forward(weights.batchMatMul(v)); // (N, HW, C)
                return in.add(attended.transpose(0, 2, 1).reshape(s));
            });
        }
    }

    /**
     * Halving: zero pad one row/column at the bottom/right, then conv3×3 stride 2 without padding (LDM
     * {@code Downsample}, diffusers {@code Downsample2D(padding=0)}). Doubling: nearest-neighbour ×2,
     * then conv3×3 (LDM {@code Upsample}, diffusers {@code Upsample2D}).
     */
    static final class Resampler extends Module {
        final Conv2d conv;
        final Resample direction;

        Resampler(NDManager m, int channels, Resample direction) {
            super(m);
            this.direction = direction;
            boolean down = direction == Resample.DOWN;
            conv = child("conv", new Conv2d(m, channels, channels, 3, down ? 2 : 1, down ? 0 : 1, true));
        }

        /** (N, C, H, W) → (N, C, H/2, W/2) or (N, C, 2H, 2W). */
        NDArray forward(NDArray x) {
            // F.pad(x, (0, 1, 0, 1)): DJL's pad takes (before, after) pairs, last axis first, as torch's.
            return scoped(
                    x,
                    in -> advance(
                            direction == Resample.DOWN ? in.pad(new Shape(0, 1, 0, 1), 0) : nearestTwice(in),
                            conv::forward));
        }

        private static NDArray nearestTwice(NDArray x) {
            Shape s = x.getShape();
            long n = s.get(0), c = s.get(1), h = s.get(2), w = s.get(3);
            return x.reshape(n, c, h, 1, w, 1).broadcast(n, c, h, 2, w, 2).reshape(n, c, 2 * h, 2 * w);
        }
    }

    /**
     * One resolution level: ResNet blocks (each followed by an attention if the level has them), then
     * the resampler if any. Encoder levels are diffusers' {@code (Attn)DownEncoderBlock2D} (LDM
     * {@code encoder.down.i}), decoder levels {@code (Attn)UpDecoderBlock2D} (LDM {@code decoder.up.(L−1−i)}).
     */
    static final class Level extends Module {
        final ModuleList<ResnetBlock> resnets;
        final ModuleList<SelfAttention> attentions; // null without attention
        final Resampler resampler; // null at the coarsest encoder level and the finest decoder level

        Level(NDManager m, VaeConfig c, int in, int out, int blocks, boolean attention, Resample resample) {
            super(m);
            resnets = child("resnets", new ModuleList<>(m));
            for (int i = 0; i < blocks; i++) {
                resnets.add(new ResnetBlock(m, c, i == 0 ? in : out, out));
            }
            attentions = attention ? child("attentions", new ModuleList<>(m)) : null;
            for (int i = 0; attention && i < blocks; i++) {
                attentions.add(new SelfAttention(m, c, out));
            }
            resampler = resample == Resample.NONE
                    ? null
                    : child(resample == Resample.DOWN ? "downsamplers" : "upsamplers", new ModuleList<Resampler>(m))
                            .put(0, new Resampler(m, out, resample));
        }

        /** Consumes (closes) x, an intermediate of the pass. */
        NDArray forward(NDArray x) {
            NDArray h = x;
            for (int i = 0; i < resnets.size(); i++) {
                h = advance(h, resnets.get(i)::forward);
                if (attentions != null) {
                    h = advance(h, attentions.get(i)::forward);
                }
            }
            return resampler == null ? h : advance(h, resampler::forward);
        }
    }

    enum Resample {
        NONE,
        DOWN,
        UP
    }

    /** ResNet → attention (optional) → ResNet at the coarsest level (diffusers {@code UNetMidBlock2D}, LDM {@code mid}). */
    static final class MidBlock extends Module {
        final ResnetBlock first;
        final SelfAttention attention; // null if the config has none
        final ResnetBlock second;

        MidBlock(NDManager m, VaeConfig c, int channels) {
            super(m);
            ModuleList<ResnetBlock> resnets = child("resnets", new ModuleList<>(m));
            first = resnets.add(new ResnetBlock(m, c, channels, channels));
            second = resnets.add(new ResnetBlock(m, c, channels, channels));
            attention = c.midAttention()
                    ? child("attentions", new ModuleList<SelfAttention>(m)).add(new SelfAttention(m, c, channels))
                    : null;
        }

        /** Consumes (closes) x, an intermediate of the pass. */
        NDArray forward(NDArray x) {
            NDArray h = advance(x, first::forward);
            if (attention != null) {
                h = advance(h, attention::forward);
            }
            return advance(h, second::forward);
        }
    }

    /** The final GN → SiLU → conv3×3 of encoder and decoder ({@code conv_norm_out}, LDM {@code norm_out}); consumes x. */
    static NDArray head(GroupNorm norm, Conv2d conv, NDArray x) {
        return advance(x, h -> scoped(h, in -> advance(normSilu(norm, in), conv::forward)));
    }
}
