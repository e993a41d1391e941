package ai.tinyfusion.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;

/**
 * {@code nn.LayerNorm(features, eps)} over the last axis with the affine {@code weight} (ones) and
 * {@code bias} (zeros), keys as PyTorch's.
 */
public final class LayerNorm extends Module {
    private final Parameter weight;
    private final Parameter bias;
    private final float eps;

    public LayerNorm(NDManager manager, long features, float eps) {
        super(manager);
        this.eps = eps;
        this.weight = param("weight", manager.ones(new Shape(features), DataType.FLOAT32), true);
        this.bias = param("bias", manager.zeros(new Shape(features), DataType.FLOAT32), true);
    }

    /** x: (..., features) → (..., features). */
    public NDArray forward(NDArray x) {
        return Functional.layerNorm(x, weight.value(), bias.value(), eps);
    }

    public Parameter weight() {
        return weight;
    }

    public Parameter bias() {
        return bias;
    }
}
