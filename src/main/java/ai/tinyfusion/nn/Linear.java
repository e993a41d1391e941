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
    /** Something that adds a learned delta to a Linear's output, e.g. LoRA: {@code y += delta(x)}. */
    public interface Adapter {
        NDArray delta(NDArray x);
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
        NDArray y = bias == null
                ? ai.djl.nn.core.Linear.linear(x, weight.value()).singletonOrThrow()
                : ai.djl.nn.core.Linear.linear(x, weight.value(), bias.value()).singletonOrThrow();
        return adapter == null ? y : y.add(adapter.delta(x));
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

    /** Installs (or with null removes) an adapter; its parameters are registered by the caller. */
    public void setAdapter(Adapter adapter) {
        this.adapter = adapter;
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
