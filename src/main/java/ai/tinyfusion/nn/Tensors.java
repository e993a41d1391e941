package ai.tinyfusion.nn;

import ai.djl.ndarray.NDArray;

/** Small array utilities. */
public final class Tensors {
    private Tensors() {}

    /** Copies {@code src} into {@code dst} in place (same shape; converted to dst's dtype), outside autograd. */
    public static void copyInto(NDArray dst, NDArray src) {
        if (!dst.getShape().equals(src.getShape())) {
            throw new IllegalArgumentException("shape " + src.getShape() + " cannot be copied into " + dst.getShape());
        }
        try (NDArray converted = src.toType(dst.getDataType(), true)) {
            dst.set(converted.toByteBuffer());
        }
    }
}
