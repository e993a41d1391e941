package ai.tinyfusion.diffusion.mar;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.tinyfusion.diffusion.DenoiserFn;
import ai.tinyfusion.diffusion.DiffusionFactory;
import ai.tinyfusion.diffusion.NoiseSource;
import ai.tinyfusion.diffusion.SamplingOptions;
import ai.tinyfusion.diffusion.SpacedDiffusion;
import ai.tinyfusion.model.mar.Mar;
import ai.tinyfusion.nn.Scalars;
import java.util.Random;

/**
 * MAR's diffusion loss ({@code models/diffloss.py DiffLoss}) and training objective ({@code MAR.forward}),
 * on the project's Gaussian diffusion: MAR's "cosine" schedule (the same as {@code squaredcos_cap_v2}) over 1,000 steps,
 * ε prediction with learned-range σ and the MSE + VB loss for training; the same process respaced to
 * {@code num_sampling_steps} (100) for ancestral sampling without clipping, the noise of each step scaled by
 * the temperature.
 */
public final class MarDiffusion {
    /** The head's beta schedule: MAR's {@code cosine}. */
    public static final String SCHEDULE = "squaredcos_cap_v2";

    private final Mar model;
    private final SpacedDiffusion train;
    private final SpacedDiffusion gen;

    public MarDiffusion(Mar model) {
        this.model = model;
        // MAR's "cosine" schedule is DiT's squaredcos_cap_v2 under another name (the same alpha-bar and cap)
        this.train = DiffusionFactory.builder().noiseSchedule(SCHEDULE).build();
        this.gen = DiffusionFactory.builder()
                .noiseSchedule(SCHEDULE)
                .timestepRespacing(model.config().numSamplingSteps())
                .build();
    }

    public Mar model() {
        return model;
    }

    /** The 1,000-step training process. */
    public SpacedDiffusion trainDiffusion() {
        return train;
    }

    /** The respaced sampling process. */
    public SpacedDiffusion genDiffusion() {
        return gen;
    }

    /**
     * {@code DiffLoss.forward}: per-token loss (MSE on ε + VB on σ) of the head, averaged over the masked rows.
     *
     * @param target clean tokens (M, C); z the decoder's conditions (M, Dd)
     * @param mask (M) weights (1 = masked token), or null for the plain mean
     * @param t (M) int64 timesteps in [0, 1000), or null to draw them uniformly
     * @param noise (M, C) standard normal noise, or null to draw it
     * @return the scalar loss
     */
    public NDArray loss(NDArray target, NDArray z, NDArray mask, NDArray t, NDArray noise) {
        if (t == null) {
            t = target.getManager()
                    .randomInteger(
                            0, train.numTimesteps(), new Shape(target.getShape().get(0)), DataType.INT64);
        }
        DenoiserFn net = (x, ts, cond) -> model.head().forward(x, ts, cond);
        NDArray perRow = train.trainingLosses(net, target, t, z, noise).loss(); // (M)
        if (mask == null) {
            return perRow.mean();
        }
        return perRow.mul(mask).sum().div(mask.sum());
    }

    /**
     * {@code MAR.forward_loss}: z (N,L,Dd), target tokens (N,L,C) and mask (N,L) flattened to rows and repeated
     * {@code diffusion_batch_mul} times, each copy with its own t and noise (rows (M·mul), or null to draw).
     */
    public NDArray forwardLoss(NDArray z, NDArray target, NDArray mask, NDArray t, NDArray noise) {
        long n = target.getShape().get(0), l = target.getShape().get(1);
        int mul = model.config().diffusionBatchMul();
        NDArray tgt = target.reshape(n * l, -1).tile(new long[] {mul, 1});
        NDArray cond = z.reshape(n * l, -1).tile(new long[] {mul, 1});
        NDArray m = mask.reshape(n * l).tile(mul);
        return loss(tgt, cond, m, t, noise);
    }

    /**
     * {@code MAR.forward}: the training loss of a batch of VAE latents (N, c, h, w) with labels (N).
     *
     * @param orders a generation order per sample (N × L)
     * @param maskRatio the batch's mask ratio ({@link Mar#sampleMaskRatio})
     * @param train dropout and label dropping on (the model's training mode)
     * @param t (N·L·mul) timesteps or null; noise (N·L·mul, C) or null
     */
    public NDArray trainingLoss(
            NDArray latents,
            NDArray labels,
            long[][] orders,
            double maskRatio,
            boolean train,
            NDArray t,
            NDArray noise) {
        NDArray tokens = model.patchify(latents);
        NDArray classEmbedding = model.classEmbedding(labels);
        int seq = model.config().seqLen();
        NDArray mask = Mar.maskByOrder(tokens.getManager(), orders, model.maskedCount(maskRatio), seq);
        NDArray encoded = model.forwardEncoder(tokens, mask, classEmbedding, train);
        NDArray z = model.forwardDecoder(encoded, mask, train);
        return forwardLoss(z, tokens.stopGradient(), mask, t, noise);
    }

    /** {@link #trainingLoss} with orders, mask ratio, t and noise drawn ({@code rng} for orders and ratio). */
    public NDArray trainingLoss(NDArray latents, NDArray labels, Random rng) {
        int n = (int) latents.getShape().get(0);
        long[][] orders = Mar.sampleOrders(n, model.config().seqLen(), rng);
        return trainingLoss(latents, labels, orders, model.sampleMaskRatio(rng), true, null, null);
    }

    /**
     * {@code DiffLoss.sample}: token values for conditions z (M, Dd) by ancestral sampling of the respaced
     * process. With {@code cfg != 1} the rows of z are [cond | uncond] halves, the initial noise is shared by
     * both halves and ε is guided on all channels; the result then has M rows, both halves equal in ε.
     *
     * @param cfg the guidance scale as float32 (as the original's schedule computes it)
     * @param noise the initial noise (drawn first) and every step's noise (scaled by the temperature)
     * @return (M, C)
     */
    public NDArray sample(NDArray z, double temperature, float cfg, NoiseSource noise) {
        NDManager manager = z.getManager();
        long m = z.getShape().get(0);
        int c = model.head().channels();
        NDArray x0;
        DenoiserFn fn;
        if (cfg != 1.0f) {
            NDArray half = noise.next(manager, new Shape(m / 2, c), DataType.FLOAT32);
            x0 = half.concat(half, 0);
            fn = (x, t, cond) -> model.head().forwardWithCfg(x, t, cond, cfg);
        } else {
            x0 = noise.next(manager, new Shape(m, c), DataType.FLOAT32);
            fn = (x, t, cond) -> model.head().forward(x, t, cond);
        }
        NoiseSource stepNoise = temperature == 1.0
                ? noise
                : (mgr, shape, dtype) -> Scalars.mul(noise.next(mgr, shape, dtype), temperature);
        SamplingOptions options =
                SamplingOptions.defaults().clipDenoised(false).initialNoise(x0).noiseSource(stepNoise);
        return gen.pSampleLoop(fn, manager, x0.getShape(), z, options);
    }
}
