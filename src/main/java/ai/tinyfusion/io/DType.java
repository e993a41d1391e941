package ai.tinyfusion.io;

import ai.djl.ndarray.types.DataType;

/**
 * Element types a checkpoint or array file can hold.
 *
 * <p>The constant names are exactly the dtype strings of the safetensors format. Every type is
 * stored little-endian in a {@link HostTensor}.
 */
public enum DType {
    /** IEEE double. */
    F64(8, true),
    /** IEEE single. */
    F32(4, true),
    /** IEEE half (binary16). */
    F16(2, true),
    /** bfloat16: the upper 16 bits of an IEEE single. */
    BF16(2, true),
    /** Signed 64-bit integer. */
    I64(8, false),
    /** Signed 32-bit integer. */
    I32(4, false),
    /** Signed 16-bit integer. */
    I16(2, false),
    /** Signed 8-bit integer. */
    I8(1, false),
    /** Unsigned 8-bit integer. */
    U8(1, false),
    /** Boolean, one byte per element (0 or 1). */
    BOOL(1, false);

    private final int byteSize;
    private final boolean floating;

    DType(int byteSize, boolean floating) {
        this.byteSize = byteSize;
        this.floating = floating;
    }

    /** Bytes per element. */
    public int byteSize() {
        return byteSize;
    }

    /** Whether this is a floating-point type. */
    public boolean isFloating() {
        return floating;
    }

    /**
     * The dtype of a safetensors header entry.
     *
     * @throws IllegalArgumentException for a name this toolkit does not support
     */
    public static DType fromSafetensorsName(String name) {
        for (DType t : values()) {
            if (t.name().equals(name)) {
                return t;
            }
        }
        throw new IllegalArgumentException("unsupported dtype '" + name + "'");
    }

    /**
     * The DJL type a tensor of this dtype becomes in {@link HostTensor#toNDArray}. BF16 and I16
     * are widened (to FLOAT32 and INT32) because creating such arrays aborts the JVM with
     * libtorch 2.7.1.
     */
    public DataType ndArrayType() {
        switch (this) {
            case F64:
                return DataType.FLOAT64;
            case F32:
            case BF16:
                return DataType.FLOAT32;
            case F16:
                return DataType.FLOAT16;
            case I64:
                return DataType.INT64;
            case I32:
            case I16:
                return DataType.INT32;
            case I8:
                return DataType.INT8;
            case U8:
                return DataType.UINT8;
            case BOOL:
                return DataType.BOOLEAN;
            default:
                throw new AssertionError(this);
        }
    }

    /**
     * The dtype of a DJL array.
     *
     * @throws IllegalArgumentException for a DJL type with no counterpart here
     */
    public static DType fromNDArrayType(DataType type) {
        switch (type) {
            case FLOAT64:
                return F64;
            case FLOAT32:
                return F32;
            case FLOAT16:
                return F16;
            case BFLOAT16:
                return BF16;
            case INT64:
                return I64;
            case INT32:
                return I32;
            case INT16:
                return I16;
            case INT8:
                return I8;
            case UINT8:
                return U8;
            case BOOLEAN:
                return BOOL;
            default:
                throw new IllegalArgumentException("no DType for DJL data type " + type);
        }
    }
}
