package ai.tinyfusion.model.vae;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.tinyfusion.model.vae.VaeBlocks.Level;
import ai.tinyfusion.model.vae.VaeBlocks.MidBlock;
import ai.tinyfusion.model.vae.VaeBlocks.Resample;
import ai.tinyfusion.nn.Conv2d;
import ai.tinyfusion.nn.GroupNorm;
import ai.tinyfusion.nn.Module;
import ai.tinyfusion.nn.ModuleList;
import ai.tinyfusion.nn.NoGrad;
import ai.tinyfusion.nn.Parameter;
import ai.tinyfusion.nn.Scalars;
import java.util.function.UnaryOperator;

/**
 * The KL autoencoder of latent diffusion (the Stable Diffusion VAE, MAR's KL-16), numerically as
 * CompVis/latent-diffusion's {@code Encoder}/{@code Decoder} and diffusers' {@code AutoencoderKL};
 * state-dict keys are diffusers' ({@link VaeCheckpoints} also places LDM checkpoints).
 *
 * <pre>
 *   x (N,3,H,W) ─ encoder.conv_in → (N,w₀,H,W)
 *     down_blocks[i]: ResNet ×layers (+attention) (+pad(0,1,0,1), conv s2 unless last) → (N,wᵢ,H/2ⁱ,W/2ⁱ)
 *     mid_block: ResNet, attention, ResNet; GN, SiLU, conv_out → (N,2z,h,w)       h = H / 2^(L−1)
 *   quant_conv (1×1) → moments (N,2z,h,w) = mean ‖ logvar → posterior
 *
 *   z (N,z,h,w) ─ post_quant_conv (1×1) ─ decoder.conv_in → (N,w_{L−1},h,w)
 *     mid_block; up_blocks[j]: ResNet ×(layers+1) (+nearest ×2, conv unless last) → (N,w_{L−1−j},…)
 *     GN, SiLU, conv_out → (N,3,H,W)          (no tanh, no clamp)
 * </pre>
 *
 * <p>{@link #encode} and {@link #decode} are inference: they run without autograd in a scope of
 * their own, and only their results stay alive, in the input's manager.
 */
public final class AutoencoderKL extends Module {
    private final VaeConfig config;
    final Encoder encoder;
    final Decoder decoder;
    final Conv2d quantConv; // null when the config has none
    final Conv2d postQuantConv; // null when the config has none

    /** Builds the model with every weight zero (GroupNorm scales one); load weights with {@link VaeCheckpoints}. */
    public AutoencoderKL(NDManager manager, VaeConfig config) {
        super(manager);
        this.config = config;
        int z = config.latentChannels();
        encoder = child("encoder", new Encoder(manager, config));
        decoder = child("decoder", new Decoder(manager, config));
        quantConv =
                config.useQuantConv() ? child("quant_conv", new Conv2d(manager, 2 * z, 2 * z, 1, 1, 0, true)) : null;
        postQuantConv =
                config.usePostQuantConv() ? child("post_quant_conv", new Conv2d(manager, z, z, 1, 1, 0, true)) : null;
    }

    /**
     * A model of {@code config} with random weights (for tests and timing, not for images): every weight of rank ≥ 2
     * normal with std 1/√fan_in from the engine RNG seeded with {@code seed}, norm scales one, biases zero.
     */
    public static AutoencoderKL random(NDManager manager, VaeConfig config, long seed) {
        AutoencoderKL model = new AutoencoderKL(manager, config);
        Engine.getInstance().setRandomSeed((int) seed);
        try (NDManager tmp = manager.newSubManager()) {
            for (Parameter p : model.namedParameters().values()) {
                Shape shape = p.value().getShape();
                if (shape.dimension() >= 2) {
                    float std = (float) (1.0 / Math.sqrt((double) shape.size() / shape.get(0)));
                    p.set(tmp.randomNormal(0f, std, shape, p.value().getDataType()));
                }
            }
        }
        return model;
    }

    public VaeConfig config() {
        return config;
    }

    /** Images (N, in, H, W), usually in [−1, 1], H and W multiples of the downsampling factor → posterior. */
    public DiagonalGaussian encode(NDArray x) {
        NDArray moments = inference(x, in -> {
            NDArray h = encoder.forward(in);
            return quantConv == null ? h : quantConv.forward(h);
        });
        return new DiagonalGaussian(moments);
    }

    /** Latents (N, z, h, w) (unscaled: divide diffusion latents by the scaling factor first) → images (N, out, H, W). */
    public NDArray decode(NDArray z) {
        return inference(z, in -> decoder.forward(postQuantConv == null ? in : postQuantConv.forward(in)));
    }

    /** Posterior latents → the latents a diffusion model works on: (z − shift)·scaling_factor (DiT: z·0.18215, MAR: z·0.2325). */
    public NDArray toDiffusionLatents(NDArray z) {
        return toDiffusionLatents(z, config.scalingFactor());
    }

    /** As {@link #toDiffusionLatents(NDArray)} with another scale: (z − shift)·scale. */
    public NDArray toDiffusionLatents(NDArray z, double scale) {
        NDArray shifted = config.shiftFactor() == null ? z : z.sub(config.shiftFactor());
        return Scalars.mul(shifted, scale);
    }

    /** The inverse of {@link #toDiffusionLatents}: what {@link #decode} takes. */
    public NDArray fromDiffusionLatents(NDArray latents) {
        return fromDiffusionLatents(latents, config.scalingFactor());
    }

    /** The inverse of {@link #toDiffusionLatents(NDArray, double)}: latents/scale + shift (DiT: z / 0.18215). */
    public NDArray fromDiffusionLatents(NDArray latents, double scale) {
        NDArray z = Scalars.div(latents, scale);
        return config.shiftFactor() == null ? z : z.add(config.shiftFactor());
    }

    /** Runs f without autograd in a step scope holding the model's arrays; the result joins x's manager. */
    private NDArray inference(NDArray x, UnaryOperator<NDArray> f) {
        NDManager outer = x.getManager();
        try (NDManager step = outer.newSubManager();
                NoGrad ignored = NoGrad.enter()) {
            useIn(step);
            step.tempAttachAll(x);
            NDArray y = f.apply(x);
            y.attach(outer);
            return y;
        }
    }

    /** Image → moments of the posterior (LDM {@code Encoder} with {@code double_z}). */
    static final class Encoder extends Module {
        final Conv2d convIn;
        final ModuleList<Level> downBlocks;
        final MidBlock midBlock;
        final GroupNorm normOut;
        final Conv2d convOut;

        Encoder(NDManager m, VaeConfig c) {
            super(m);
            int levels = c.levels();
            convIn = child(
                    "conv_in",
                    new Conv2d(m, c.inChannels(), c.blockOutChannels().get(0), 3, 1, 1, true));
            downBlocks = child("down_blocks", new ModuleList<>(m));
            int width = c.blockOutChannels().get(0);
            for (int i = 0; i < levels; i++) {
                int out = c.blockOutChannels().get(i);
                downBlocks.add(new Level(
                        m,
                        c,
                        width,
                        out,
                        c.layersPerBlock(),
                        c.encoderAttnLevels().contains(i),
                        i < levels - 1 ? Resample.DOWN : Resample.NONE));
                width = out;
            }
            midBlock = child("mid_block", new MidBlock(m, c, width));
            normOut = child("conv_norm_out", VaeBlocks.norm(m, c, width));
            convOut = child("conv_out", new Conv2d(m, width, 2 * c.latentChannels(), 3, 1, 1, true));
        }

        NDArray forward(NDArray x) {
            NDArray h = VaeBlocks.scoped(x, convIn::forward);
            for (Level level : downBlocks.items()) {
                h = level.forward(h); // each level consumes its input
            }
            return VaeBlocks.head(normOut, convOut, midBlock.forward(h));
        }
    }

    /** Latent → image (LDM {@code Decoder}); up block j works at level L−1−j. */
    static final class Decoder extends Module {
        final Conv2d convIn;
        final MidBlock midBlock;
        final ModuleList<Level> upBlocks;
        final GroupNorm normOut;
        final Conv2d convOut;

        Decoder(NDManager m, VaeConfig c) {
            super(m);
            int levels = c.levels();
            int width = c.blockOutChannels().get(levels - 1);
            convIn = child("conv_in", new Conv2d(m, c.latentChannels(), width, 3, 1, 1, true));
            midBlock = child("mid_block", new MidBlock(m, c, width));
            upBlocks = child("up_blocks", new ModuleList<>(m));
            for (int j = 0; j < levels; j++) {
                int out = c.blockOutChannels().get(levels - 1 - j);
                upBlocks.add(new Level(
                        m,
                        c,
                        width,
                        out,
                        c.layersPerBlock() + 1,
                        c.decoderAttnBlocks().contains(j),
                        j < levels - 1 ? Resample.UP : Resample.NONE));
                width = out;
            }
            normOut = child("conv_norm_out", VaeBlocks.norm(m, c, width));
            convOut = child("conv_out", new Conv2d(m, width, c.outChannels(), 3, 1, 1, true));
        }

        NDArray forward(NDArray z) {
            NDArray h = midBlock.forward(VaeBlocks.scoped(z, convIn::forward));
            for (Level level : upBlocks.items()) {
                h = level.forward(h);
            }
            return VaeBlocks.head(normOut, convOut, h);
        }
    }
}
