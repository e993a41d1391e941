package ai.tinyfusion.diffusion;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;

/** Moving small host arrays into libtorch-owned tensors and reading timestep indices back. */
final class HostArrays {
    private HostArrays() {}

    /**
     * A libtorch-owned tensor holding {@code data} (rounded to float32 by the caller), converted to {@code dtype}.
     * {@code create} wraps Java memory, which autograd must not keep pointers into, so the data is cloned first.
     */
    static NDArray ownedFloats(NDManager manager, float[] data, Shape shape, DataType dtype) {
        NDArray cloned;
        try (NDArray javaOwned = manager.create(data, shape)) {
            cloned = javaOwned.duplicate();
        }
        return convert(cloned, dtype);
    }

    /** A libtorch-owned tensor holding {@code data}, converted to {@code dtype}. */
    static NDArray ownedLongs(NDManager manager, long[] data, Shape shape, DataType dtype) {
        NDArray cloned;
        try (NDArray javaOwned = manager.create(data, shape)) {
            cloned = javaOwned.duplicate();
        }
        return convert(cloned, dtype);
    }

    private static NDArray convert(NDArray owned, DataType dtype) {
        if (owned.getDataType() == dtype) {
            return owned;
        }
        NDArray converted = owned.toType(dtype, false);
        owned.close();
        return converted;
    }

    /** The entries of a 1-D integer timestep array as host longs. */
    static long[] timesteps(NDArray t) {
        if (t.getShape().dimension() != 1) {
            throw new IllegalArgumentException("timesteps must be 1-D (N,), got shape " + t.getShape());
        }
        DataType type = t.getDataType();
        if (type == DataType.INT64) {
            return t.toLongArray();
        }
        if (type == DataType.INT32 || type == DataType.INT8 || type == DataType.UINT8 || type == DataType.INT16) {
            try (NDArray wide = t.toType(DataType.INT64, false)) {
                return wide.toLongArray();
            }
        }
        throw new IllegalArgumentException("timestep indices must be an integer array, got " + type);
    }
}
