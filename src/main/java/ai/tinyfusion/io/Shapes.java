package ai.tinyfusion.io;

import java.util.Arrays;

/** Arithmetic on tensor shapes and strides (all counts are longs, so nothing overflows silently). */
public final class Shapes {
    private Shapes() {}

    /**
     * Number of elements of a shape (1 for a 0-d shape).
     *
     * @throws IllegalArgumentException for a negative dimension or a count that overflows a long
     */
    public static long numel(long[] shape) {
        long n = 1;
        for (long d : shape) {
            if (d < 0) {
                throw new IllegalArgumentException("negative dimension in shape " + format(shape));
            }
            try {
                n = Math.multiplyExact(n, d);
            } catch (ArithmeticException e) {
                throw new IllegalArgumentException("shape " + format(shape) + " has too many elements");
            }
        }
        return n;
    }

    /** Byte size of a shape's data, with overflow checks. */
    public static long byteSize(long[] shape, DType dtype) {
        try {
            return Math.multiplyExact(numel(shape), (long) dtype.byteSize());
        } catch (ArithmeticException e) {
            throw new IllegalArgumentException("shape " + format(shape) + " has too many bytes");
        }
    }

    /** Row-major (C order) strides, in elements, of a shape. */
    public static long[] contiguousStrides(long[] shape) {
        long[] strides = new long[shape.length];
        long s = 1;
        for (int i = shape.length - 1; i >= 0; i--) {
            strides[i] = s;
            s *= Math.max(shape[i], 1);
        }
        return strides;
    }

    /** Column-major (Fortran order) strides, in elements, of a shape. */
    public static long[] fortranStrides(long[] shape) {
        long[] strides = new long[shape.length];
        long s = 1;
        for (int i = 0; i < shape.length; i++) {
            strides[i] = s;
            s *= Math.max(shape[i], 1);
        }
        return strides;
    }

    /**
     * Whether a strided view is laid out row-major without gaps; dimensions of size 1 may have any
     * stride (as in PyTorch's own contiguity test).
     */
    public static boolean isContiguous(long[] shape, long[] strides) {
        long expected = 1;
        for (int i = shape.length - 1; i >= 0; i--) {
            if (shape[i] != 1 && strides[i] != expected) {
                return false;
            }
            expected *= shape[i];
        }
        return true;
    }

    /**
     * Largest element index a strided view touches, relative to its offset, or -1 for a view with
     * no elements.
     *
     * @throws IllegalArgumentException for negative sizes or strides, or an overflowing extent
     */
    public static long maxRelativeIndex(long[] shape, long[] strides) {
        if (shape.length != strides.length) {
            throw new IllegalArgumentException(
                    "shape " + format(shape) + " and stride " + format(strides) + " differ in rank");
        }
        if (numel(shape) == 0) {
            return -1;
        }
        long max = 0;
        try {
            for (int i = 0; i < shape.length; i++) {
                if (strides[i] < 0) {
                    throw new IllegalArgumentException("negative stride in " + format(strides));
                }
                max = Math.addExact(max, Math.multiplyExact(shape[i] - 1, strides[i]));
            }
        } catch (ArithmeticException e) {
            throw new IllegalArgumentException("strides " + format(strides) + " overflow");
        }
        return max;
    }

    /** A shape as {@code [2, 3]}. */
    public static String format(long[] shape) {
        return Arrays.toString(shape);
    }
}
