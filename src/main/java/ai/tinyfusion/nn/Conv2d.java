package ai.tinyfusion.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;

/**
 * A 2-D convolution with PyTorch's layout: {@code weight} is (out, in, k, k), {@code bias} (out);
 * square kernel, equal stride and zero padding on both axes, no dilation or groups. Parameters
 * start at zero; initialise them with {@link #kaimingNormal}.
 */
public final class Conv2d extends Module {
    private final Parameter weight;
    private final Parameter bias;
    private final int inChannels;
    private final int outChannels;
    private final int kernel;
    private final int stride;
    private final int padding;

    public Conv2d(NDManager manager, int in, int out, int kernel, int stride, int padding, boolean bias) {
        super(manager);
        if (in <= 0 || out <= 0 || kernel <= 0 || stride <= 0 || padding < 0) {
            throw new IllegalArgumentException(
                    "invalid conv " + in + "→" + out + " k" + kernel + " s" + stride + " p" + padding);
        }
        this.inChannels = in;
        this.outChannels = out;
        this.kernel = kernel;
        this.stride = stride;
        this.padding = padding;
        this.weight = param("weight", manager.zeros(new Shape(out, in, kernel, kernel), DataType.FLOAT32), true);
        this.bias = bias ? param("bias", manager.zeros(new Shape(out), DataType.FLOAT32), true) : null;
    }

    /** x: (N, in, H, W) → (N, out, H', W'). */
    public NDArray forward(NDArray x) {
        Shape s = new Shape(stride, stride);
        Shape p = new Shape(padding, padding);
        Shape d = new Shape(1, 1);
        return ai.djl.nn.convolutional.Conv2d.conv2d(x, weight.value(), bias == null ? null : bias.value(), s, p, d, 1)
                .singletonOrThrow();
    }

    /**
     * He/Kaiming normal initialisation for a following ReLU ({@code kaiming_normal_(mode="fan_in",
     * nonlinearity="relu")}: std √(2 / (in·k·k))), zero bias; random numbers come from the engine RNG.
     */
    public void kaimingNormal() {
        double std = Math.sqrt(2.0 / ((double) inChannels * kernel * kernel));
        try (NDManager tmp = manager.newSubManager()) {
            weight.set(tmp.randomNormal(0f, (float) std, weight.value().getShape(), DataType.FLOAT32));
            if (bias != null) {
                bias.set(tmp.zeros(bias.value().getShape(), DataType.FLOAT32));
            }
        }
    }

    public Parameter weight() {
        return weight;
    }

    public Parameter bias() {
        return bias;
    }

    public int inChannels() {
        return inChannels;
    }

    public int outChannels() {
        return outChannels;
    }

    public int kernel() {
        return kernel;
    }

    public int stride() {
        return stride;
    }

    public int padding() {
        return padding;
    }
}
