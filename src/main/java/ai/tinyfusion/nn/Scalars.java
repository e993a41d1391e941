package ai.tinyfusion.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;

/**
 * Scalars that are safe inside differentiated code.
 *
 * <p>DJL's {@code NDArray.mul/div/pow(Number)} wrap the Java number in memory that is freed right
 * after the forward op, while libtorch's autograd keeps a pointer to it for backward; after a GC the
 * gradients are garbage (see ../shared/docs/djl-notes.md). Every multiplication, division or power by
 * a constant in code that may run under a {@code GradientCollector} goes through these helpers, which
 * make the constant a libtorch-owned 0-d array of the operand's dtype.
 */
public final class Scalars {
    private Scalars() {}

    /** A 0-d array holding {@code v}, owned by {@code like}'s manager, with {@code like}'s dtype. */
    public static NDArray of(NDArray like, double v) {
        return of(like.getManager(), v, like.getDataType());
    }

    /** A 0-d array holding {@code v} in {@code manager}. */
    public static NDArray of(NDManager manager, double v, DataType dtype) {
        // create() wraps Java memory; duplicate() (same dtype) or a real conversion moves the value
        // into libtorch-owned memory (toType(..., true) does not copy when the dtype is unchanged).
        try (NDArray javaOwned = manager.create(v)) {
            return javaOwned.getDataType() == dtype ? javaOwned.duplicate() : javaOwned.toType(dtype, true);
        }
    }

    /** {@code x * v}, autograd-safe. */
    public static NDArray mul(NDArray x, double v) {
        return x.mul(of(x, v));
    }

    /** {@code x / v}, autograd-safe. */
    public static NDArray div(NDArray x, double v) {
        return x.div(of(x, v));
    }

    /** {@code x ^ v}, autograd-safe. */
    public static NDArray pow(NDArray x, double v) {
        return x.pow(of(x, v));
    }

    /** {@code v - x}, autograd-safe. */
    public static NDArray rsub(double v, NDArray x) {
        return x.neg().add(v);
    }
}
