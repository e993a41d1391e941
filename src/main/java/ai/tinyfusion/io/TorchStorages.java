package ai.tinyfusion.io;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.HashMap;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

/**
 * Reads the raw storages of a {@code torch.save} zip archive and cuts tensors out of them.
 *
 * <p>Each storage entry ({@code <archive>/data/<key>}) is read once and shared by every tensor
 * that views it; a contiguous view becomes a zero-copy slice, any other view is gathered into a
 * new buffer.
 */
final class TorchStorages {
    private final ZipFile zip;
    private final String prefix;
    private final boolean bigEndian;
    private final LoadLimits limits;
    private final Map<String, Loaded> cache = new HashMap<>();

    private record Loaded(DType dtype, long numel, ByteBuffer bytes) {}

    /**
     * @param zip       the open archive
     * @param prefix    the archive's record prefix, e.g. {@code archive/}
     * @param bigEndian whether the archive's {@code byteorder} entry says {@code big}
     * @param limits    the largest storage or gathered view allowed
     */
    TorchStorages(ZipFile zip, String prefix, boolean bigEndian, LoadLimits limits) {
        this.zip = zip;
        this.prefix = prefix;
        this.bigEndian = bigEndian;
        this.limits = limits;
    }

    /** The data of tensor {@code name}, checked against the bounds of its storage. */
    HostTensor tensor(String name, TorchTensorRef ref) throws IOException {
        TorchStorageRef s = ref.storage();
        DType dtype = s.dtype();
        long[] shape = ref.shape();
        long[] strides = ref.strides();
        long numel;
        long maxRelative;
        long bytes;
        try {
            numel = Shapes.numel(shape);
            maxRelative = Shapes.maxRelativeIndex(shape, strides);
            bytes = Shapes.byteSize(shape, dtype);
        } catch (IllegalArgumentException e) {
            throw new IOException("tensor '" + name + "': " + e.getMessage());
        }
        if (ref.offset() < 0) {
            throw new IOException("tensor '" + name + "' has negative storage offset " + ref.offset());
        }
        if (numel == 0) {
            return HostTensor.of(dtype, shape, ByteBuffer.allocate(0));
        }
        if (ref.offset() > s.numel() || maxRelative >= s.numel() - ref.offset()) {
            throw new IOException("tensor '" + name + "' (offset " + ref.offset() + ", size " + Shapes.format(shape)
                    + ", stride " + Shapes.format(strides) + ") reaches outside storage '" + s.key() + "' of "
                    + s.numel() + " elements");
        }
        boolean contiguous = Shapes.isContiguous(shape, strides);
        if (!contiguous) {
            // A gathered view is a new buffer: a zero stride lets a tiny storage claim a huge one.
            limits.checkTensorBytes(
                    bytes,
                    "tensor '" + name + "' (size " + Shapes.format(shape) + ", stride " + Shapes.format(strides) + ")");
        }
        ByteBuffer storage = storage(name, s);
        int es = dtype.byteSize();
        try {
            if (contiguous) {
                return HostTensor.of(dtype, shape, storage.slice(Math.toIntExact(ref.offset() * es), (int) bytes));
            }
            return HostTensor.of(dtype, shape, StridedCopy.gather(storage, ref.offset(), shape, strides, es));
        } catch (IllegalArgumentException | IndexOutOfBoundsException | ArithmeticException e) {
            throw new IOException(
                    "tensor '" + name + "' cannot be cut from storage '" + s.key() + "': " + ZipEntries.describe(e), e);
        }
    }

    private ByteBuffer storage(String tensor, TorchStorageRef s) throws IOException {
        Loaded loaded = cache.get(s.key());
        if (loaded != null) {
            if (loaded.dtype() != s.dtype()) {
                throw new IOException("storage '" + s.key() + "' is viewed both as " + loaded.dtype() + " and as "
                        + s.dtype() + ", which is not supported");
            }
            if (loaded.numel() != s.numel()) {
                throw new IOException("tensor '" + tensor + "' names storage '" + s.key() + "' with " + s.numel()
                        + " elements, but an earlier tensor named it with " + loaded.numel()
                        + " (the size it was read with)");
            }
            return loaded.bytes();
        }
        ByteBuffer bytes = read(s);
        cache.put(s.key(), new Loaded(s.dtype(), s.numel(), bytes));
        return bytes;
    }

    private ByteBuffer read(TorchStorageRef s) throws IOException {
        String entryName = prefix + "data/" + s.key();
        ZipEntry entry = ZipEntries.find(zip, entryName);
        if (entry == null) {
            throw new IOException("missing storage entry " + entryName);
        }
        long expected;
        try {
            expected = Math.multiplyExact(s.numel(), (long) s.dtype().byteSize());
        } catch (ArithmeticException e) {
            throw new IOException("storage '" + s.key() + "' is impossibly large");
        }
        limits.checkTensorBytes(expected, "storage '" + s.key() + "'");
        long declared = ZipEntries.declaredSize(entry);
        if (declared != expected) {
            throw new IOException("storage entry " + entryName + " holds " + declared + " bytes but " + s.numel() + " "
                    + s.dtype() + " elements need " + expected);
        }
        byte[] data;
        try {
            data = ZipEntries.readExactly(zip, entry, (int) expected);
        } catch (IOException e) {
            throw new IOException("cannot read storage entry " + entryName + ": " + ZipEntries.describe(e), e);
        }
        ByteBuffer buffer = ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN);
        return bigEndian ? Endian.swapped(buffer, s.dtype().byteSize()) : buffer;
    }
}
