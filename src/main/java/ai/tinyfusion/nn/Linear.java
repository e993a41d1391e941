package ai.tinyfusion.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;

/**
 * {@code y = x Wᵀ + b} with PyTorch's layout: {@code weight} is (out, in), {@code bias} is (out).
 * An optional {@link Adapter} (LoRA) adds a low-rank update on top of the frozen base weights.
 */
public final class Linear extends Module {
    /**
     * Something that changes a Linear's output by a learned delta, e.g. LoRA
     * ({@code y = x Wᵀ + b + Δ(x)}); it computes the whole output so that it may fold Δ into the weight.
     */
    public interface Adapter {
        /** x: (..., in), weight (out, in), bias (out) or null → (..., out). */
        NDArray forward(NDArray x, NDArray weight, NDArray bias);
    }

    private final Parameter weight;
    private final Parameter bias;
    private final long inFeatures;
    private final long outFeatures;
    private Adapter adapter;

    public Linear(NDManager manager, long in, long out, boolean bias) {
        super(manager);
        this.inFeatures = in;
        this.outFeatures = out;
        this.weight = param("weight", manager.zeros(new Shape(out, in), DataType.FLOAT32), true);
        this.bias = bias ? param("bias", manager.zeros(new Shape(out), DataType.FLOAT32), true) : null;
    }

    /** x: (..., in) → (..., out). */
    public NDArray forward(NDArray x) {
        NDArray b = bias == null ? null : bias.value();
        long t0 = OpProfile.t0();
        NDArray y = adapter == null ? linear(x, weight.value(), b) : adapter.forward(x, weight.value(), b);
        OpProfile.add(OpProfile.Kind.LINEAR, t0, 1);
        return y;
    }

    /** {@code x Wᵀ + b} (b may be null). */
    public static NDArray linear(NDArray x, NDArray w, NDArray b) {
        return (b == null ? ai.djl.nn.core.Linear.linear(x, w) : ai.djl.nn.core.Linear.linear(x, w, b))
                .singletonOrThrow();
    }

    public Parameter weight() {
        return weight;
    }

    public Parameter bias() {
        return bias;
    }

    public long inFeatures() {
        return inFeatures;
    }

    public long outFeatures() {
        return outFeatures;
    }

    public Adapter adapter() {
        return adapter;
    }

    /** Registers the adapter's module as a child so its parameters join the state dict. */
    public void attachAdapter(String name, Module adapterModule, Adapter adapter) {
        child(name, adapterModule);
        this.adapter = adapter;
    }

    /** Removes an adapter added by {@link #attachAdapter}. */
    public void detachAdapter(String name) {
        removeChild(name);
        this.adapter = null;
    }
}
