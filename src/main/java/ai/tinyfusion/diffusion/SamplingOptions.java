package ai.tinyfusion.diffusion;

import ai.djl.ndarray.NDArray;
import java.util.Objects;
import java.util.function.UnaryOperator;

/**
 * Settings of the sampling loops ({@link GaussianDiffusion#pSampleLoop} and {@link GaussianDiffusion#ddimSampleLoop}).
 * A fluent, mutable holder; the defaults are those of the reference: clip the x_0 prediction to [-1, 1], no denoised
 * function, eta 0, initial and per-step noise from the engine's generator.
 */
public final class SamplingOptions {
    /** Called after each step; the arrays are only valid during the call. */
    @FunctionalInterface
    public interface StepListener {
        void onStep(int timestep, NDArray sample, NDArray predXstart);
    }

    private NDArray initialNoise;
    private boolean clipDenoised = true;
    private UnaryOperator<NDArray> denoisedFn;
    private double eta;
    private NoiseSource noiseSource = NoiseSource.standardNormal();
    private StepListener listener;

    /** Options with the reference defaults. */
    public static SamplingOptions defaults() {
        return new SamplingOptions();
    }

    /** Start from this x_T (left open and unchanged) instead of drawing one; {@code null} to draw it. */
    public SamplingOptions initialNoise(NDArray noise) {
        this.initialNoise = noise;
        return this;
    }

    /** Whether to clamp the x_0 prediction to [-1, 1] (default true). */
    public SamplingOptions clipDenoised(boolean clip) {
        this.clipDenoised = clip;
        return this;
    }

    /** A function applied to the x_0 prediction before clipping; {@code null} for none. */
    public SamplingOptions denoisedFn(UnaryOperator<NDArray> fn) {
        this.denoisedFn = fn;
        return this;
    }

    /** DDIM's eta (0 = deterministic); ignored by ancestral sampling. */
    public SamplingOptions eta(double eta) {
        this.eta = eta;
        return this;
    }

    /** Source of the initial noise (when none is given) and of each step's noise. */
    public SamplingOptions noiseSource(NoiseSource source) {
        this.noiseSource = Objects.requireNonNull(source, "noise source");
        return this;
    }

    /** Progress callback; {@code null} for none. */
    public SamplingOptions listener(StepListener listener) {
        this.listener = listener;
        return this;
    }

    public NDArray initialNoise() {
        return initialNoise;
    }

    public boolean clipDenoised() {
        return clipDenoised;
    }

    public UnaryOperator<NDArray> denoisedFn() {
        return denoisedFn;
    }

    public double eta() {
        return eta;
    }

    public NoiseSource noiseSource() {
        return noiseSource;
    }

    public StepListener listener() {
        return listener;
    }
}
