package ai.tinyfusion.diffusion;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.tinyfusion.nn.Scalars;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.function.UnaryOperator;

/**
 * A Gaussian diffusion process over a fixed beta schedule (DDPM / improved DDPM, as used by DiT): forward noising,
 * the model's reverse step, the training objectives and the ancestral and DDIM samplers.
 *
 * <p>Schedule quantities are float64 host arrays. Whenever one meets a tensor it is gathered at the batch's
 * timesteps, rounded to float32 (as the reference does), converted to the tensor's type and broadcast over the
 * remaining axes. Timestep arguments {@code t} are (N,) integer arrays of indices into this process's own schedule;
 * the model always receives them through {@link #modelTimesteps(NDArray)}, which a respaced process overrides.
 *
 * <p>Results belong to the manager of the first data operand. All constant arithmetic uses {@link Scalars}, so
 * {@link #trainingLosses} may run under a {@code GradientCollector}. The sampling loops are meant to run without
 * one.
 */
public class GaussianDiffusion {
    private static final double LN2 = Math.log(2.0);

    private final ModelMeanType modelMeanType;
    private final ModelVarType modelVarType;
    private final LossType lossType;
    private final int numTimesteps;

    private final double[] betas;
    private final double[] logBetas;
    private final double[] alphasCumprod;
    private final double[] alphasCumprodPrev;
    private final double[] alphasCumprodNext;
    private final double[] oneMinusAlphasCumprod;
    private final double[] sqrtAlphasCumprod;
    private final double[] sqrtOneMinusAlphasCumprod;
    private final double[] logOneMinusAlphasCumprod;
    private final double[] sqrtRecipAlphasCumprod;
    private final double[] sqrtRecipm1AlphasCumprod;
    private final double[] posteriorVariance;
    private final double[] posteriorLogVarianceClipped;
    private final double[] posteriorMeanCoef1;
    private final double[] posteriorMeanCoef2;
    private final double[] fixedLargeVariance;
    private final double[] fixedLargeLogVariance;

    /**
     * @param betas the per-step noise variances, each in (0, 1]
     */
    public GaussianDiffusion(
            double[] betas, ModelMeanType modelMeanType, ModelVarType modelVarType, LossType lossType) {
        this.modelMeanType = Objects.requireNonNull(modelMeanType, "model mean type");
        this.modelVarType = Objects.requireNonNull(modelVarType, "model variance type");
        this.lossType = Objects.requireNonNull(lossType, "loss type");
        if (betas.length == 0) {
            throw new IllegalArgumentException("betas must not be empty");
        }
        for (double b : betas) {
            if (!(b > 0 && b <= 1)) {
                throw new IllegalArgumentException("betas must lie in (0, 1], found " + b);
            }
        }
        int n = betas.length;
        this.numTimesteps = n;
        this.betas = betas.clone();

        logBetas = new double[n];
        alphasCumprod = new double[n];
        alphasCumprodPrev = new double[n];
        alphasCumprodNext = new double[n];
        oneMinusAlphasCumprod = new double[n];
        sqrtAlphasCumprod = new double[n];
        sqrtOneMinusAlphasCumprod = new double[n];
        logOneMinusAlphasCumprod = new double[n];
        sqrtRecipAlphasCumprod = new double[n];
        sqrtRecipm1AlphasCumprod = new double[n];
        posteriorVariance = new double[n];
        posteriorMeanCoef1 = new double[n];
        posteriorMeanCoef2 = new double[n];

        double running = 1.0;
        for (int i = 0; i < n; i++) {
            double alpha = 1.0 - betas[i];
            running = running * alpha;
            alphasCumprod[i] = running;
        }
        for (int i = 0; i < n; i++) {
            double ac = alphasCumprod[i];
            double acPrev = i == 0 ? 1.0 : alphasCumprod[i - 1];
            double alpha = 1.0 - betas[i];
            alphasCumprodPrev[i] = acPrev;
            alphasCumprodNext[i] = i == n - 1 ? 0.0 : alphasCumprod[i + 1];
            logBetas[i] = Math.log(betas[i]);
            oneMinusAlphasCumprod[i] = 1.0 - ac;
            sqrtAlphasCumprod[i] = Math.sqrt(ac);
            sqrtOneMinusAlphasCumprod[i] = Math.sqrt(1.0 - ac);
            logOneMinusAlphasCumprod[i] = Math.log(1.0 - ac);
            sqrtRecipAlphasCumprod[i] = Math.sqrt(1.0 / ac);
            sqrtRecipm1AlphasCumprod[i] = Math.sqrt(1.0 / ac - 1);
            posteriorVariance[i] = betas[i] * (1.0 - acPrev) / (1.0 - ac);
            posteriorMeanCoef1[i] = betas[i] * Math.sqrt(acPrev) / (1.0 - ac);
            posteriorMeanCoef2[i] = (1.0 - acPrev) * Math.sqrt(alpha) / (1.0 - ac);
        }
        // The posterior variance is 0 at t = 0; its log is clipped by repeating the value at t = 1. With a single
        // step there is nothing to repeat, and the clipped log variance (and the FIXED_LARGE variance built on the
        // same value) is left empty, so any use of it fails on the index.
        if (n > 1) {
            posteriorLogVarianceClipped = new double[n];
            fixedLargeVariance = new double[n];
            fixedLargeLogVariance = new double[n];
            for (int i = 0; i < n; i++) {
                double pv = i == 0 ? posteriorVariance[1] : posteriorVariance[i];
                posteriorLogVarianceClipped[i] = Math.log(pv);
                double large = i == 0 ? posteriorVariance[1] : betas[i];
                fixedLargeVariance[i] = large;
                fixedLargeLogVariance[i] = Math.log(large);
            }
        } else {
            posteriorLogVarianceClipped = new double[0];
            fixedLargeVariance = new double[0];
            fixedLargeLogVariance = new double[0];
        }
    }

    // ------------------------------------------------------------------------------------------------------------
    // Schedule accessors (copies)

    public ModelMeanType modelMeanType() {
        return modelMeanType;
    }

    public ModelVarType modelVarType() {
        return modelVarType;
    }

    public LossType lossType() {
        return lossType;
    }

    /** Number of steps of this process (after respacing, for a {@link SpacedDiffusion}). */
    public int numTimesteps() {
        return numTimesteps;
    }

    public double[] betas() {
        return betas.clone();
    }

    public double[] alphasCumprod() {
        return alphasCumprod.clone();
    }

    public double[] alphasCumprodPrev() {
        return alphasCumprodPrev.clone();
    }

    public double[] alphasCumprodNext() {
        return alphasCumprodNext.clone();
    }

    public double[] sqrtAlphasCumprod() {
        return sqrtAlphasCumprod.clone();
    }

    public double[] sqrtOneMinusAlphasCumprod() {
        return sqrtOneMinusAlphasCumprod.clone();
    }

    public double[] logOneMinusAlphasCumprod() {
        return logOneMinusAlphasCumprod.clone();
    }

    public double[] sqrtRecipAlphasCumprod() {
        return sqrtRecipAlphasCumprod.clone();
    }

    public double[] sqrtRecipm1AlphasCumprod() {
        return sqrtRecipm1AlphasCumprod.clone();
    }

    public double[] posteriorVariance() {
        return posteriorVariance.clone();
    }

    public double[] posteriorLogVarianceClipped() {
        return posteriorLogVarianceClipped.clone();
    }

    public double[] posteriorMeanCoef1() {
        return posteriorMeanCoef1.clone();
    }

    public double[] posteriorMeanCoef2() {
        return posteriorMeanCoef2.clone();
    }

    // ------------------------------------------------------------------------------------------------------------
    // Timesteps seen by the model

    /**
     * The timesteps handed to the model for this process's indices {@code t}; the identity here, the map back to
     * the original schedule in a {@link SpacedDiffusion}.
     */
    protected NDArray modelTimesteps(NDArray t) {
        return t;
    }

    private NDArray callModel(DenoiserFn model, NDArray x, NDArray t, NDArray y) {
        NDArray out = model.apply(x, modelTimesteps(t), y);
        if (out == null) {
            throw new IllegalStateException("the denoiser returned null");
        }
        return out;
    }

    // ------------------------------------------------------------------------------------------------------------
    // Gathering schedule values

    /**
     * Gathers {@code arr} at the timesteps {@code t}, rounds to float32, converts to {@code dtype} and broadcasts to
     * {@code shape} (whose first axis is the batch). The result is owned by {@code t}'s manager.
     */
    public static NDArray extractIntoTensor(double[] arr, NDArray t, Shape shape, DataType dtype) {
        long[] idx = HostArrays.timesteps(t);
        return gather(arr, idx, t.getManager(), shape, dtype).broadcast(shape);
    }

    /** Gathered values shaped (N, 1, ..., 1) to broadcast against {@code shape}. */
    private static NDArray gather(double[] arr, long[] idx, NDManager manager, Shape shape, DataType dtype) {
        if (shape.get(0) != idx.length) {
            throw new IllegalArgumentException("batch of " + idx.length + " timesteps does not match shape " + shape);
        }
        float[] values = new float[idx.length];
        for (int i = 0; i < idx.length; i++) {
            values[i] = (float) arr[Math.toIntExact(idx[i])];
        }
        long[] dims = new long[shape.dimension()];
        Arrays.fill(dims, 1);
        dims[0] = idx.length;
        return HostArrays.ownedFloats(manager, values, new Shape(dims), dtype);
    }

    /** {@link #gather} for a data tensor {@code like}: its manager, shape and type. */
    private static NDArray coef(double[] arr, long[] idx, NDArray like) {
        return gather(arr, idx, like.getManager(), like.getShape(), like.getDataType());
    }

    private static NDArray full(NDArray compact, NDArray like) {
        return compact.broadcast(like.getShape());
    }

    // ------------------------------------------------------------------------------------------------------------
    // Forward process

    /** q(x_t | x_0): mean sqrt(abar_t) x_0, variance 1 - abar_t and its log, each of x_0's shape. */
    public MeanVariance qMeanVariance(NDArray xStart, NDArray t) {
        long[] idx = HostArrays.timesteps(t);
        NDArray mean = coef(sqrtAlphasCumprod, idx, xStart).mul(xStart);
        NDArray variance = full(coef(oneMinusAlphasCumprod, idx, xStart), xStart);
        NDArray logVariance = full(coef(logOneMinusAlphasCumprod, idx, xStart), xStart);
        return new MeanVariance(mean, variance, logVariance);
    }

    /**
     * Draws x_t ~ q(x_t | x_0) = sqrt(abar_t) x_0 + sqrt(1 - abar_t) noise.
     *
     * @param noise the standard normal noise to use, of x_0's shape; {@code null} draws it from x_0's manager
     */
    public NDArray qSample(NDArray xStart, NDArray t, NDArray noise) {
        if (noise == null) {
            noise = NoiseSource.standardNormal().next(xStart.getManager(), xStart.getShape(), xStart.getDataType());
        }
        requireSameShape("noise", noise, "x_start", xStart);
        long[] idx = HostArrays.timesteps(t);
        NDArray scaled = coef(sqrtAlphasCumprod, idx, xStart).mul(xStart);
        return scaled.add(coef(sqrtOneMinusAlphasCumprod, idx, xStart).mul(noise));
    }

    /** The posterior q(x_{t-1} | x_t, x_0); the log variance is clipped at t = 0. */
    public MeanVariance qPosteriorMeanVariance(NDArray xStart, NDArray xT, NDArray t) {
        requireSameShape("x_start", xStart, "x_t", xT);
        return qPosterior(xStart, xT, HostArrays.timesteps(t));
    }

    private MeanVariance qPosterior(NDArray xStart, NDArray xT, long[] idx) {
        NDArray fromStart = coef(posteriorMeanCoef1, idx, xT).mul(xStart);
        NDArray mean = fromStart.add(coef(posteriorMeanCoef2, idx, xT).mul(xT));
        NDArray variance = full(coef(posteriorVariance, idx, xT), xT);
        NDArray logVariance = full(coef(posteriorLogVarianceClipped, idx, xT), xT);
        return new MeanVariance(mean, variance, logVariance);
    }

    /** x_0 = sqrt(1 / abar_t) x_t - sqrt(1 / abar_t - 1) eps. */
    public NDArray predictXstartFromEps(NDArray xT, NDArray t, NDArray eps) {
        requireSameShape("x_t", xT, "eps", eps);
        return xstartFromEps(xT, HostArrays.timesteps(t), eps);
    }

    private NDArray xstartFromEps(NDArray xT, long[] idx, NDArray eps) {
        NDArray scaled = coef(sqrtRecipAlphasCumprod, idx, xT).mul(xT);
        return scaled.sub(coef(sqrtRecipm1AlphasCumprod, idx, xT).mul(eps));
    }

    /** eps = (sqrt(1 / abar_t) x_t - x_0) / sqrt(1 / abar_t - 1). */
    public NDArray predictEpsFromXstart(NDArray xT, NDArray t, NDArray predXstart) {
        return epsFromXstart(xT, HostArrays.timesteps(t), predXstart);
    }

    private NDArray epsFromXstart(NDArray xT, long[] idx, NDArray predXstart) {
        NDArray numerator = coef(sqrtRecipAlphasCumprod, idx, xT).mul(xT).sub(predXstart);
        return numerator.div(coef(sqrtRecipm1AlphasCumprod, idx, xT));
    }

    // ------------------------------------------------------------------------------------------------------------
    // Reverse step

    /** {@link #pMeanVariance(DenoiserFn, NDArray, NDArray, NDArray, boolean, UnaryOperator)} without a denoised fn. */
    public PMeanVariance pMeanVariance(DenoiserFn model, NDArray x, NDArray t, NDArray y, boolean clipDenoised) {
        return pMeanVariance(model, x, t, y, clipDenoised, null);
    }

    /**
     * Runs the model on (x_t, t) and derives p(x_{t-1} | x_t) and the x_0 prediction.
     *
     * @param y conditioning passed to the model unchanged (may be {@code null})
     * @param clipDenoised clamp the x_0 prediction to [-1, 1]
     * @param denoisedFn applied to the x_0 prediction before clamping; may be {@code null}
     */
    public PMeanVariance pMeanVariance(
            DenoiserFn model,
            NDArray x,
            NDArray t,
            NDArray y,
            boolean clipDenoised,
            UnaryOperator<NDArray> denoisedFn) {
        long[] idx = HostArrays.timesteps(t);
        checkBatch(idx, x);
        NDArray output = callModel(model, x, t, y);
        return fromOutput(output, x, idx, clipDenoised, denoisedFn);
    }

    /**
     * The reverse step for an already computed model output (N, C or 2C, ...), e.g. to reuse one forward pass.
     */
    public PMeanVariance pMeanVarianceFromOutput(
            NDArray modelOutput, NDArray x, NDArray t, boolean clipDenoised, UnaryOperator<NDArray> denoisedFn) {
        long[] idx = HostArrays.timesteps(t);
        checkBatch(idx, x);
        return fromOutput(modelOutput, x, idx, clipDenoised, denoisedFn);
    }

    private PMeanVariance fromOutput(
            NDArray output, NDArray x, long[] idx, boolean clipDenoised, UnaryOperator<NDArray> denoisedFn) {
        Shape xs = x.getShape();
        long channels = xs.get(1);
        NDArray meanOutput;
        NDArray variance;
        NDArray logVariance;
        if (modelVarType.isLearned()) {
            requireOutputShape(output, xs, 2 * channels);
            NDList halves = output.split(new long[] {channels}, 1);
            meanOutput = halves.get(0);
            NDArray varValues = halves.get(1);
            NDArray minLog = coef(posteriorLogVarianceClipped, idx, x);
            NDArray maxLog = coef(logBetas, idx, x);
            // varValues in [-1, 1] interpolates between the small (-1) and the large (+1) log variance.
            NDArray frac = Scalars.div(varValues.add(1.0), 2.0);
            logVariance = frac.mul(maxLog).add(Scalars.rsub(1.0, frac).mul(minLog));
            variance = logVariance.exp();
        } else {
            requireOutputShape(output, xs, channels);
            meanOutput = output;
            double[] v = modelVarType == ModelVarType.FIXED_LARGE ? fixedLargeVariance : posteriorVariance;
            double[] lv =
                    modelVarType == ModelVarType.FIXED_LARGE ? fixedLargeLogVariance : posteriorLogVarianceClipped;
            variance = full(coef(v, idx, x), x);
            logVariance = full(coef(lv, idx, x), x);
        }
        NDArray rawXstart = modelMeanType == ModelMeanType.START_X ? meanOutput : xstartFromEps(x, idx, meanOutput);
        NDArray predXstart = processXstart(rawXstart, clipDenoised, denoisedFn);
        NDArray mean = qPosterior(predXstart, x, idx).mean();
        return new PMeanVariance(mean, variance, logVariance, predXstart);
    }

    private static NDArray processXstart(NDArray xStart, boolean clip, UnaryOperator<NDArray> denoisedFn) {
        NDArray out = denoisedFn == null ? xStart : denoisedFn.apply(xStart);
        return clip ? out.clip(-1, 1) : out;
    }

    // ------------------------------------------------------------------------------------------------------------
    // Ancestral sampling

    /**
     * One ancestral step x_t to x_{t-1}: the model mean plus exp(0.5 log variance) noise, without noise where
     * t == 0.
     *
     * @param noise the standard normal noise of x's shape; {@code null} draws it (after the model call)
     */
    public SampleStep pSample(
            DenoiserFn model,
            NDArray x,
            NDArray t,
            NDArray y,
            boolean clipDenoised,
            UnaryOperator<NDArray> denoisedFn,
            NDArray noise) {
        return pSampleWith(model, x, t, y, clipDenoised, denoisedFn, given(noise));
    }

    private SampleStep pSampleWith(
            DenoiserFn model,
            NDArray x,
            NDArray t,
            NDArray y,
            boolean clipDenoised,
            UnaryOperator<NDArray> denoisedFn,
            NoiseSource noiseSource) {
        PMeanVariance out = pMeanVariance(model, x, t, y, clipDenoised, denoisedFn);
        NDArray noise = noiseSource.next(x.getManager(), x.getShape(), x.getDataType());
        requireSameShape("noise", noise, "x", x);
        NDArray std = Scalars.mul(out.logVariance(), 0.5).exp();
        NDArray sample = out.mean().add(nonzeroMask(t, x).mul(std).mul(noise));
        return new SampleStep(sample, out.predXstart());
    }

    /**
     * Ancestral sampling from x_T through every step of this process.
     *
     * @param manager owns the result and, when no initial noise is given, the drawn x_T
     * @param shape the sample shape (N, C, H, W); must match the initial noise if one is given
     * @param y conditioning passed to the model at every step (may be {@code null})
     */
    public NDArray pSampleLoop(DenoiserFn model, NDManager manager, Shape shape, NDArray y, SamplingOptions options) {
        return loop(
                manager,
                shape,
                y,
                options,
                (img, t) -> pSampleWith(
                        model, img, t, y, options.clipDenoised(), options.denoisedFn(), options.noiseSource()));
    }

    // ------------------------------------------------------------------------------------------------------------
    // DDIM

    /**
     * One DDIM step x_t to x_{t-1} (eq. 12 of Song et al.) with stochasticity {@code eta}.
     *
     * @param noise the standard normal noise of x's shape, scaled by sigma (0 when eta is 0); {@code null} draws it
     *     (after the model call, as the reference does even when eta is 0)
     */
    public SampleStep ddimSample(
            DenoiserFn model,
            NDArray x,
            NDArray t,
            NDArray y,
            boolean clipDenoised,
            UnaryOperator<NDArray> denoisedFn,
            double eta,
            NDArray noise) {
        return ddimSampleWith(model, x, t, y, clipDenoised, denoisedFn, eta, given(noise));
    }

    private SampleStep ddimSampleWith(
            DenoiserFn model,
            NDArray x,
            NDArray t,
            NDArray y,
            boolean clipDenoised,
            UnaryOperator<NDArray> denoisedFn,
            double eta,
            NoiseSource noiseSource) {
        long[] idx = HostArrays.timesteps(t);
        PMeanVariance out = pMeanVariance(model, x, t, y, clipDenoised, denoisedFn);
        NDArray eps = epsFromXstart(x, idx, out.predXstart());
        NDArray alphaBar = coef(alphasCumprod, idx, x);
        NDArray alphaBarPrev = coef(alphasCumprodPrev, idx, x);
        NDArray ratio =
                Scalars.rsub(1.0, alphaBarPrev).div(Scalars.rsub(1.0, alphaBar)).sqrt();
        NDArray sigma = Scalars.mul(ratio, eta)
                .mul(Scalars.rsub(1.0, alphaBar.div(alphaBarPrev)).sqrt());
        NDArray noise = noiseSource.next(x.getManager(), x.getShape(), x.getDataType());
        requireSameShape("noise", noise, "x", x);
        NDArray epsScale = Scalars.rsub(1.0, alphaBarPrev).sub(sigma.mul(sigma)).sqrt();
        NDArray meanPred = out.predXstart().mul(alphaBarPrev.sqrt()).add(epsScale.mul(eps));
        NDArray sample = meanPred.add(nonzeroMask(t, x).mul(sigma).mul(noise));
        return new SampleStep(sample, out.predXstart());
    }

    /** One deterministic reverse-DDIM step x_t to x_{t+1} (encoding an image into its latent noise). */
    public SampleStep ddimReverseSample(
            DenoiserFn model,
            NDArray x,
            NDArray t,
            NDArray y,
            boolean clipDenoised,
            UnaryOperator<NDArray> denoisedFn) {
        long[] idx = HostArrays.timesteps(t);
        PMeanVariance out = pMeanVariance(model, x, t, y, clipDenoised, denoisedFn);
        NDArray eps = epsFromXstart(x, idx, out.predXstart());
        NDArray alphaBarNext = coef(alphasCumprodNext, idx, x);
        NDArray meanPred = out.predXstart()
                .mul(alphaBarNext.sqrt())
                .add(Scalars.rsub(1.0, alphaBarNext).sqrt().mul(eps));
        return new SampleStep(meanPred, out.predXstart());
    }

    /**
     * DDIM sampling from x_T through every step of this process (respace to "ddimN" or "N" for fewer steps).
     * Parameters as {@link #pSampleLoop}; {@link SamplingOptions#eta(double)} sets the stochasticity.
     */
    public NDArray ddimSampleLoop(
            DenoiserFn model, NDManager manager, Shape shape, NDArray y, SamplingOptions options) {
        return loop(
                manager,
                shape,
                y,
                options,
                (img, t) -> ddimSampleWith(
                        model,
                        img,
                        t,
                        y,
                        options.clipDenoised(),
                        options.denoisedFn(),
                        options.eta(),
                        options.noiseSource()));
    }

    @FunctionalInterface
    private interface Step {
        SampleStep apply(NDArray img, NDArray t);
    }

    private NDArray loop(NDManager manager, Shape shape, NDArray y, SamplingOptions options, Step step) {
        Objects.requireNonNull(options, "options");
        NDArray img = options.initialNoise();
        boolean owned = img == null;
        if (owned) {
            Objects.requireNonNull(shape, "shape is required when no initial noise is given");
            img = options.noiseSource().next(manager, shape, DataType.FLOAT32);
        } else if (shape != null && !img.getShape().equals(shape)) {
            throw new IllegalArgumentException("initial noise " + img.getShape() + " does not match shape " + shape);
        }
        long batch = img.getShape().get(0);
        for (int i = numTimesteps - 1; i >= 0; i--) {
            try (NDManager scope = manager.newSubManager()) {
                if (owned) {
                    img.attach(scope);
                } else {
                    img.tempAttach(scope);
                }
                if (y != null) {
                    y.tempAttach(scope);
                }
                NDArray t = scope.full(new Shape(batch), i, DataType.INT64);
                SampleStep out = step.apply(img, t);
                if (options.listener() != null) {
                    options.listener().onStep(i, out.sample(), out.predXstart());
                }
                NDArray next = out.sample();
                next.attach(manager);
                img = next;
                owned = true;
            }
        }
        return img;
    }

    private static NoiseSource given(NDArray noise) {
        if (noise == null) {
            return NoiseSource.standardNormal();
        }
        return (manager, shape, dataType) -> noise;
    }

    /** (N, 1, ..., 1) mask in x's type: 1 where t != 0, 0 where t == 0. */
    private static NDArray nonzeroMask(NDArray t, NDArray x) {
        long[] dims = new long[x.getShape().dimension()];
        Arrays.fill(dims, 1);
        dims[0] = x.getShape().get(0);
        return t.neq(0).toType(x.getDataType(), false).reshape(new Shape(dims));
    }

    // ------------------------------------------------------------------------------------------------------------
    // Variational bound and training

    /**
     * One term of the variational bound per sample, in bits per dimension: the discretised-Gaussian decoder NLL of
     * x_0 where t == 0, otherwise KL(q(x_{t-1} | x_t, x_0) || p(x_{t-1} | x_t)).
     */
    public VbTerms vbTermsBpd(
            DenoiserFn model, NDArray xStart, NDArray xT, NDArray t, NDArray y, boolean clipDenoised) {
        long[] idx = HostArrays.timesteps(t);
        checkBatch(idx, xT);
        NDArray output = callModel(model, xT, t, y);
        return vbTerms(output, xStart, xT, t, idx, clipDenoised);
    }

    private VbTerms vbTerms(NDArray output, NDArray xStart, NDArray xT, NDArray t, long[] idx, boolean clipDenoised) {
        requireSameShape("x_start", xStart, "x_t", xT);
        MeanVariance truth = qPosterior(xStart, xT, idx);
        PMeanVariance out = fromOutput(output, xT, idx, clipDenoised, null);
        NDArray kl = DiffusionUtils.normalKl(truth.mean(), truth.logVariance(), out.mean(), out.logVariance());
        NDArray klBits = Scalars.div(DiffusionUtils.meanFlat(kl), LN2);
        NDArray logLikelihood = DiffusionUtils.discretizedGaussianLogLikelihood(
                xStart, out.mean(), Scalars.mul(out.logVariance(), 0.5));
        NDArray nllBits = Scalars.div(DiffusionUtils.meanFlat(logLikelihood.neg()), LN2);
        NDArray output1d = NDArrays.where(t.eq(0), nllBits, klBits);
        return new VbTerms(output1d, out.predXstart());
    }

    /**
     * Per-sample training terms at the given timesteps.
     *
     * <p>With an MSE loss the model's mean channels are regressed on their target (noise, x_0 or the posterior
     * mean); when the variance is learned the VB term is added, computed with the mean channels detached so that
     * it trains only the variance channels (scaled by T / 1000 for {@link LossType#RESCALED_MSE}). With a KL loss the
     * VB term is the loss (times T for {@link LossType#RESCALED_KL}). Differentiable with respect to the model
     * output.
     *
     * @param noise the noise used to build x_t, of x_0's shape; {@code null} draws it from x_0's manager
     */
    public TrainingLosses trainingLosses(DenoiserFn model, NDArray xStart, NDArray t, NDArray y, NDArray noise) {
        long[] idx = HostArrays.timesteps(t);
        checkBatch(idx, xStart);
        if (noise == null) {
            noise = NoiseSource.standardNormal().next(xStart.getManager(), xStart.getShape(), xStart.getDataType());
        }
        NDArray xT = qSample(xStart, t, noise);

        if (lossType.isVb()) {
            NDArray output = callModel(model, xT, t, y);
            NDArray loss = vbTerms(output, xStart, xT, t, idx, false).output();
            if (lossType == LossType.RESCALED_KL) {
                loss = Scalars.mul(loss, numTimesteps);
            }
            return new TrainingLosses(loss, null, null);
        }

        NDArray output = callModel(model, xT, t, y);
        long channels = xT.getShape().get(1);
        NDArray meanOutput;
        NDArray vb = null;
        if (modelVarType.isLearned()) {
            requireOutputShape(output, xT.getShape(), 2 * channels);
            NDList halves = output.split(new long[] {channels}, 1);
            meanOutput = halves.get(0);
            NDArray frozen = meanOutput.stopGradient().concat(halves.get(1), 1);
            vb = vbTerms(frozen, xStart, xT, t, idx, false).output();
            if (lossType == LossType.RESCALED_MSE) {
                vb = Scalars.mul(vb, numTimesteps / 1000.0);
            }
        } else {
            requireOutputShape(output, xT.getShape(), channels);
            meanOutput = output;
        }
        NDArray target;
        switch (modelMeanType) {
            case PREVIOUS_X:
                target = qPosterior(xStart, xT, idx).mean();
                break;
            case START_X:
                target = xStart;
                break;
            case EPSILON:
                target = noise;
                break;
            default:
                throw new IllegalStateException("unhandled mean type " + modelMeanType);
        }
        NDArray diff = target.sub(meanOutput);
        NDArray mse = DiffusionUtils.meanFlat(diff.mul(diff));
        NDArray loss = vb == null ? mse : mse.add(vb);
        return new TrainingLosses(loss, mse, vb);
    }

    /**
     * KL(q(x_T | x_0) || N(0, I)) per sample in bits per dimension: the prior term of the bound, which no model
     * affects.
     */
    public NDArray priorBpd(NDArray xStart) {
        long batch = xStart.getShape().get(0);
        long[] last = new long[Math.toIntExact(batch)];
        Arrays.fill(last, numTimesteps - 1);
        NDArray mean = coef(sqrtAlphasCumprod, last, xStart).mul(xStart);
        NDArray logVariance = full(coef(logOneMinusAlphasCumprod, last, xStart), xStart);
        NDArray kl = DiffusionUtils.normalKl(mean, logVariance, 0.0, 0.0);
        return Scalars.div(DiffusionUtils.meanFlat(kl), LN2);
    }

    /**
     * The whole variational bound of a batch: every step's term (one model call per step, fresh noise per step from
     * {@code noiseSource}), the prior term and their sum, with the x_0 and epsilon MSEs per step. Results are owned
     * by x_0's manager.
     */
    public BpdTerms calcBpdLoop(
            DenoiserFn model, NDArray xStart, NDArray y, boolean clipDenoised, NoiseSource noiseSource) {
        NoiseSource source = noiseSource == null ? NoiseSource.standardNormal() : noiseSource;
        NDManager manager = xStart.getManager();
        long batch = xStart.getShape().get(0);
        List<NDArray> vb = new ArrayList<>();
        List<NDArray> xstartMse = new ArrayList<>();
        List<NDArray> mse = new ArrayList<>();
        for (int i = numTimesteps - 1; i >= 0; i--) {
            try (NDManager scope = manager.newSubManager()) {
                xStart.tempAttach(scope);
                if (y != null) {
                    y.tempAttach(scope);
                }
                NDArray t = scope.full(new Shape(batch), i, DataType.INT64);
                long[] idx = HostArrays.timesteps(t);
                NDArray noise = source.next(scope, xStart.getShape(), xStart.getDataType());
                NDArray xT = qSample(xStart, t, noise);
                VbTerms out = vbTermsBpd(model, xStart, xT, t, y, clipDenoised);
                NDArray dx = out.predXstart().sub(xStart);
                NDArray eps = epsFromXstart(xT, idx, out.predXstart());
                NDArray de = eps.sub(noise);
                NDArray[] keep = {out.output(), DiffusionUtils.meanFlat(dx.mul(dx)), DiffusionUtils.meanFlat(de.mul(de))
                };
                for (NDArray k : keep) {
                    k.attach(manager);
                }
                vb.add(keep[0]);
                xstartMse.add(keep[1]);
                mse.add(keep[2]);
            }
        }
        // Collected from T-1 down to 0; stack with column k holding timestep k.
        NDArray vbAll = stackReversed(vb);
        NDArray xstartAll = stackReversed(xstartMse);
        NDArray mseAll = stackReversed(mse);
        NDArray prior = priorBpd(xStart);
        NDArray total = vbAll.sum(new int[] {1}).add(prior);
        return new BpdTerms(total, prior, vbAll, xstartAll, mseAll);
    }

    private static NDArray stackReversed(List<NDArray> perStep) {
        NDList list = new NDList();
        for (int k = perStep.size() - 1; k >= 0; k--) {
            list.add(perStep.get(k));
        }
        NDArray stacked = NDArrays.stack(list, 1);
        for (NDArray a : perStep) {
            a.close();
        }
        return stacked;
    }

    // ------------------------------------------------------------------------------------------------------------
    // Checks

    private static void checkBatch(long[] idx, NDArray x) {
        if (x.getShape().dimension() < 2 || x.getShape().get(0) != idx.length) {
            throw new IllegalArgumentException(
                    "expected data (N, C, ...) with N = " + idx.length + " timesteps, got " + x.getShape());
        }
    }

    private static void requireOutputShape(NDArray output, Shape xs, long channels) {
        long[] expected = xs.getShape().clone();
        expected[1] = channels;
        if (!output.getShape().equals(new Shape(expected))) {
            throw new IllegalArgumentException(
                    "model output " + output.getShape() + " does not match expected " + new Shape(expected));
        }
    }

    private static void requireSameShape(String a, NDArray x, String b, NDArray z) {
        if (!x.getShape().equals(z.getShape())) {
            throw new IllegalArgumentException(a + " " + x.getShape() + " and " + b + " " + z.getShape() + " differ");
        }
    }
}
