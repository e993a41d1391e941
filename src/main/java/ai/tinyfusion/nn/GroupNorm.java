package ai.tinyfusion.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;

/**
 * {@code nn.GroupNorm(groups, channels, eps, affine=True)}: the channels of (N, C, *) are split into
 * {@code groups} groups, each normalised over its channels and all spatial positions (biased
 * variance), then scaled and shifted per channel. {@code weight} starts at one, {@code bias} at zero.
 *
 * <p>DJL has no group norm; this is libtorch's fused layer norm over the flattened group (N, G, C/G·…),
 * followed by the per-channel affine.
 */
public final class GroupNorm extends Module {
    private final Parameter weight;
    private final Parameter bias;
    private final int groups;
    private final int channels;
    private final float eps;

    public GroupNorm(NDManager manager, int groups, int channels, double eps) {
        super(manager);
        if (groups <= 0 || channels % groups != 0) {
            throw new IllegalArgumentException(
                    "GroupNorm: " + channels + " channels cannot be split into " + groups + " groups");
        }
        this.groups = groups;
        this.channels = channels;
        this.eps = (float) eps;
        this.weight = param("weight", manager.ones(new Shape(channels), DataType.FLOAT32), true);
        this.bias = param("bias", manager.zeros(new Shape(channels), DataType.FLOAT32), true);
    }

    /** x: (N, C, *) → (N, C, *). */
    public NDArray forward(NDArray x) {
        Shape a = affineShape(x);
        return normalize(x).mul(weight.value().reshape(a)).add(bias.value().reshape(a));
    }

    /**
     * The same as {@link #forward} with the scale and shift applied in place on the normalised array, so
     * that one array of x's size is allocated instead of three. Only outside autograd (inference).
     */
    public NDArray forwardInPlace(NDArray x) {
        Shape a = affineShape(x);
        return normalize(x).muli(weight.value().reshape(a)).addi(bias.value().reshape(a));
    }

    /** The per-group normalisation without the affine, as a new array of x's shape. */
    private NDArray normalize(NDArray x) {
        Shape s = x.getShape();
        long n = s.get(0);
        long perGroup = s.size() / (n * groups);
        NDManager m = x.getManager();
        try (NDArray grouped = x.reshape(n, groups, perGroup);
                NDArray ones = m.ones(new Shape(perGroup), x.getDataType());
                NDArray zeros = m.zeros(new Shape(perGroup), x.getDataType());
                NDArray normed = Functional.layerNorm(grouped, ones, zeros, eps)) {
            return normed.reshape(s);
        }
    }

    /** (1, C, 1, …) for x of shape (N, C, *), after checking the channel count. */
    private Shape affineShape(NDArray x) {
        Shape s = x.getShape();
        if (s.dimension() < 2 || s.get(1) != channels) {
            throw new IllegalArgumentException("GroupNorm over " + channels + " channels got input " + s);
        }
        long[] affine = new long[s.dimension()];
        java.util.Arrays.fill(affine, 1);
        affine[1] = channels;
        return new Shape(affine);
    }

    public Parameter weight() {
        return weight;
    }

    public Parameter bias() {
        return bias;
    }

    public int groups() {
        return groups;
    }

    public int channels() {
        return channels;
    }

    public float eps() {
        return eps;
    }
}
