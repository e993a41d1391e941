package ai.tinyfusion.nn;

import ai.djl.ndarray.NDArray;

/** Small array utilities. */
public final class Tensors {
    private Tensors() {}

    /**
     * A fresh libtorch-owned copy of {@code src} as {@code dtype}, in {@code src}'s manager. (DJL's
     * {@code toType(dtype, true)} returns the same tensor when the dtype is unchanged.)
     */
    public static NDArray copy(NDArray src, ai.djl.ndarray.types.DataType dtype) {
        if (src.getDataType() == dtype) {
            return src.duplicate();
        }
        return src.toType(dtype, false);
    }

    /** Copies {@code src} into {@code dst} in place (same shape; converted to dst's dtype), outside autograd. */
    public static void copyInto(NDArray dst, NDArray src) {
        if (!dst.getShape().equals(src.getShape())) {
            throw new IllegalArgumentException("shape " + src.getShape() + " cannot be copied into " + dst.getShape());
        }
        try (NDArray converted = copy(src, dst.getDataType())) {
            dst.set(converted.toByteBuffer());
        }
    }
}
