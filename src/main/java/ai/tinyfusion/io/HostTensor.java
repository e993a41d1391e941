package ai.tinyfusion.io;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.Objects;

/**
 * A dense row-major tensor in host memory: a dtype, a shape and the raw little-endian bytes.
 *
 * <p>The bytes may be a slice of a memory-mapped file or shared with other tensors (views of one
 * PyTorch storage), so they are exposed only read-only. Instances are immutable; {@link #equals}
 * compares dtype, shape and content.
 */
public final class HostTensor {
    private final DType dtype;
    private final long[] shape;
    private final ByteBuffer data;

    private HostTensor(DType dtype, long[] shape, ByteBuffer data) {
        this.dtype = dtype;
        this.shape = shape;
        this.data = data;
    }

    /**
     * A tensor over {@code data}'s remaining bytes (little-endian, row-major), without copying.
     *
     * @throws IllegalArgumentException if the byte count does not match the shape and dtype
     */
    public static HostTensor of(DType dtype, long[] shape, ByteBuffer data) {
        Objects.requireNonNull(dtype, "dtype");
        long[] s = shape.clone();
        long bytes = Shapes.byteSize(s, dtype);
        if (data.remaining() != bytes) {
            throw new IllegalArgumentException(dtype + " tensor of shape " + Shapes.format(s) + " needs " + bytes
                    + " bytes but " + data.remaining() + " were given");
        }
        return new HostTensor(dtype, s, data.slice().asReadOnlyBuffer());
    }

    /** A tensor over a copy of raw little-endian bytes. */
    public static HostTensor ofBytes(DType dtype, byte[] raw, long... shape) {
        return of(dtype, shape, ByteBuffer.wrap(raw.clone()));
    }

    /** An F32 tensor holding a copy of {@code values}. */
    public static HostTensor ofFloats(float[] values, long... shape) {
        ByteBuffer b = allocate((long) values.length * 4);
        b.asFloatBuffer().put(values);
        return of(DType.F32, shape, b);
    }

    /** An F64 tensor holding a copy of {@code values}. */
    public static HostTensor ofDoubles(double[] values, long... shape) {
        ByteBuffer b = allocate((long) values.length * 8);
        b.asDoubleBuffer().put(values);
        return of(DType.F64, shape, b);
    }

    /** An I64 tensor holding a copy of {@code values}. */
    public static HostTensor ofLongs(long[] values, long... shape) {
        ByteBuffer b = allocate((long) values.length * 8);
        b.asLongBuffer().put(values);
        return of(DType.I64, shape, b);
    }

    /** An I32 tensor holding a copy of {@code values}. */
    public static HostTensor ofInts(int[] values, long... shape) {
        ByteBuffer b = allocate((long) values.length * 4);
        b.asIntBuffer().put(values);
        return of(DType.I32, shape, b);
    }

    /** Element type. */
    public DType dtype() {
        return dtype;
    }

    /** A copy of the shape. */
    public long[] shape() {
        return shape.clone();
    }

    /** Number of dimensions. */
    public int rank() {
        return shape.length;
    }

    /** A read-only little-endian view of the raw bytes, positioned at 0. */
    public ByteBuffer data() {
        return data.duplicate().order(ByteOrder.LITTLE_ENDIAN);
    }

    /** Number of elements (1 for a 0-d tensor). */
    public long numel() {
        return Shapes.numel(shape);
    }

    /** Size of the raw data in bytes. */
    public long byteSize() {
        return data.capacity();
    }

    /**
     * The elements as floats: BF16 and F16 are widened exactly, F64 and integers are cast, BOOL
     * gives 0 or 1, U8 is unsigned.
     */
    public float[] toFloatArray() {
        int n = arrayLength();
        ByteBuffer b = data();
        float[] out = new float[n];
        switch (dtype) {
            case F32:
                b.asFloatBuffer().get(out);
                break;
            case F64:
                for (int i = 0; i < n; i++) out[i] = (float) b.getDouble(i * 8);
                break;
            case F16:
                for (int i = 0; i < n; i++) out[i] = HalfFloats.f16ToFloat(b.getShort(i * 2));
                break;
            case BF16:
                for (int i = 0; i < n; i++) out[i] = HalfFloats.bf16ToFloat(b.getShort(i * 2));
                break;
            default:
                long[] longs = toLongArray();
                for (int i = 0; i < n; i++) out[i] = longs[i];
        }
        return out;
    }

    /** The elements as doubles (exact for every dtype except I64 beyond 2^53). */
    public double[] toDoubleArray() {
        int n = arrayLength();
        double[] out = new double[n];
        if (dtype == DType.F64) {
            data().asDoubleBuffer().get(out);
        } else if (dtype.isFloating()) {
            float[] f = toFloatArray();
            for (int i = 0; i < n; i++) out[i] = f[i];
        } else {
            long[] l = toLongArray();
            for (int i = 0; i < n; i++) out[i] = l[i];
        }
        return out;
    }

    /**
     * The elements of an integer or BOOL tensor as longs (U8 unsigned, BOOL as 0/1).
     *
     * @throws IllegalStateException for a floating-point tensor (use {@link #toFloatArray})
     */
    public long[] toLongArray() {
        if (dtype.isFloating()) {
            throw new IllegalStateException("toLongArray() on a " + dtype + " tensor; use toFloatArray()");
        }
        int n = arrayLength();
        ByteBuffer b = data();
        long[] out = new long[n];
        switch (dtype) {
            case I64:
                b.asLongBuffer().get(out);
                break;
            case I32:
                for (int i = 0; i < n; i++) out[i] = b.getInt(i * 4);
                break;
            case I16:
                for (int i = 0; i < n; i++) out[i] = b.getShort(i * 2);
                break;
            case I8:
                for (int i = 0; i < n; i++) out[i] = b.get(i);
                break;
            case U8:
            case BOOL:
                for (int i = 0; i < n; i++) out[i] = b.get(i) & 0xff;
                break;
            default:
                throw new AssertionError(dtype);
        }
        return out;
    }

    /**
     * Copies this tensor into a new array of {@code manager} whose memory libtorch owns.
     *
     * <p>BF16 becomes FLOAT32 and I16 becomes INT32 (see {@link DType#ndArrayType()}); every other
     * dtype keeps its type. The array is created from Java memory and then duplicated, so it stays
     * valid however long it lives, including through autograd.
     */
    public NDArray toNDArray(NDManager manager) {
        ByteBuffer buffer;
        switch (dtype) {
            case BF16:
                buffer = widenBf16();
                break;
            case I16:
                buffer = widenI16();
                break;
            default:
                buffer = data();
        }
        try (NDArray borrowed = manager.create(buffer, new Shape(shape), dtype.ndArrayType())) {
            return borrowed.duplicate();
        }
    }

    /**
     * Copies a DJL array (of any layout) into a new heap tensor.
     *
     * @throws IllegalArgumentException for a DJL data type with no {@link DType}
     */
    public static HostTensor fromNDArray(NDArray array) {
        DType t = DType.fromNDArrayType(array.getDataType());
        ByteBuffer nativeBytes = array.toByteBuffer();
        ByteBuffer le;
        if (ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN) {
            byte[] raw = new byte[nativeBytes.remaining()];
            nativeBytes.get(raw);
            le = ByteBuffer.wrap(raw);
        } else {
            le = Endian.swapped(nativeBytes, t.byteSize());
        }
        return of(t, array.getShape().getShape(), le);
    }

    private ByteBuffer widenBf16() {
        int n = arrayLength();
        ByteBuffer src = data();
        ByteBuffer out = ByteBuffer.allocateDirect(n * 4).order(ByteOrder.nativeOrder());
        for (int i = 0; i < n; i++) {
            out.putInt(i * 4, (src.getShort(i * 2) & 0xffff) << 16);
        }
        return out;
    }

    private ByteBuffer widenI16() {
        int n = arrayLength();
        ByteBuffer src = data();
        ByteBuffer out = ByteBuffer.allocateDirect(n * 4).order(ByteOrder.nativeOrder());
        for (int i = 0; i < n; i++) {
            out.putInt(i * 4, src.getShort(i * 2));
        }
        return out;
    }

    private int arrayLength() {
        long n = numel();
        if (n > Integer.MAX_VALUE - 8) {
            throw new IllegalStateException("tensor of " + n + " elements does not fit in a Java array");
        }
        return (int) n;
    }

    private static ByteBuffer allocate(long bytes) {
        if (bytes > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException(bytes + " bytes do not fit in one buffer");
        }
        return ByteBuffer.allocate((int) bytes).order(ByteOrder.LITTLE_ENDIAN);
    }

    @Override
    public boolean equals(Object o) {
        if (this == o) {
            return true;
        }
        if (!(o instanceof HostTensor)) {
            return false;
        }
        HostTensor other = (HostTensor) o;
        return dtype == other.dtype && Arrays.equals(shape, other.shape) && data().equals(other.data());
    }

    @Override
    public int hashCode() {
        return 31 * (31 * dtype.hashCode() + Arrays.hashCode(shape)) + data().hashCode();
    }

    @Override
    public String toString() {
        return "HostTensor[" + dtype + " " + Shapes.format(shape) + "]";
    }
}
