package ai.tinyfusion.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.jni.JniUtils;

/** Stateless building blocks, all autograd-safe (constants go through {@link Scalars}). */
public final class Functional {
    private Functional() {}

    private static final double GELU_C = Math.sqrt(2.0 / Math.PI);

    /** SiLU: x·σ(x). */
    public static NDArray silu(NDArray x) {
        return x.mul(x.getNDArrayInternal().sigmoid());
    }

    /** GELU with the tanh approximation, as {@code nn.GELU(approximate="tanh")}. */
    public static NDArray geluTanh(NDArray x) {
        // 0.5 x (1 + tanh(√(2/π) (x + 0.044715 x³)))
        NDArray inner = Scalars.mul(x.add(Scalars.mul(x.mul(x).mul(x), 0.044715)), GELU_C);
        return Scalars.mul(x, 0.5).mul(inner.tanh().add(1));
    }

    /**
     * True when libtorch records no autograd graph on this thread (outside a {@code GradientCollector},
     * or inside {@link NoGrad}): then forward passes may update their own intermediates in place and
     * free them early, since nothing keeps them for a backward pass.
     */
    public static boolean gradOff() {
        return !JniUtils.isGradMode();
    }

    /**
     * {@link #geluTanh} computed in place into {@code x}, which the caller owns and gives up: as
     * {@code x·σ(2u)} with {@code u = √(2/π)(x + 0.044715x³)}, which equals {@code 0.5x(1 + tanh u)}
     * since {@code 0.5(1 + tanh u) = σ(2u)}; two temporaries instead of six. Only with autograd off.
     */
    public static NDArray geluTanhInPlace(NDArray x) {
        if (!gradOff()) {
            throw new IllegalStateException("in-place GELU needs autograd off");
        }
        try (NDArray u = x.mul(x)) {
            u.muli(2 * GELU_C * 0.044715).addi(2 * GELU_C).muli(x); // 2u = 2c(x + 0.044715 x³)
            try (NDArray s = u.getNDArrayInternal().sigmoid()) {
                return x.muli(s);
            }
        }
    }

    /** Exact GELU, x·Φ(x), as {@code nn.GELU()}. */
    public static NDArray gelu(NDArray x) {
        return ai.djl.nn.Activation.gelu(x);
    }

    /** Inverted dropout of rate {@code p} (scaled by 1/(1−p)); the input itself when p is 0. */
    public static NDArray dropout(NDArray x, double p) {
        return p == 0 ? x : ai.djl.nn.norm.Dropout.dropout(x, (float) p, true).singletonOrThrow();
    }

    /**
     * LayerNorm over the last axis without affine parameters.
     *
     * @param ones a libtorch-owned (C) array of ones, reused as gamma
     * @param zeros a libtorch-owned (C) array of zeros, reused as beta
     */
    public static NDArray layerNorm(NDArray x, NDArray ones, NDArray zeros, float eps) {
        long c = x.getShape().get(x.getShape().dimension() - 1);
        return ai.djl.nn.norm.LayerNorm.layerNorm(x, new Shape(c), ones, zeros, eps)
                .singletonOrThrow();
    }

    /** adaLN modulation: x·(1 + scale) + shift, with (N, D) shift/scale broadcast over tokens of (N, T, D) x. */
    public static NDArray modulate(NDArray x, NDArray shift, NDArray scale) {
        return x.mul(scale.expandDims(1).add(1)).add(shift.expandDims(1));
    }

    /** {@link #modulate} written into {@code x}, which the caller owns and gives up (autograd off). */
    public static NDArray modulateInPlace(NDArray x, NDArray shift, NDArray scale) {
        if (!gradOff()) {
            throw new IllegalStateException("in-place modulation needs autograd off");
        }
        try (NDArray s1 = scale.expandDims(1).add(1);
                NDArray b = shift.expandDims(1)) {
            return x.muli(s1).addi(b);
        }
    }
}
