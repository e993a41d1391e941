package ai.tinyfusion.io;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;

/**
 * Reads and writes NumPy {@code .npy} arrays (format versions 1.0, 2.0 and 3.0).
 *
 * <p>Supported dtypes: {@code f8 f4 f2 i8 i4 i2 i1 u1 b1}, little- or big-endian (big-endian data
 * is converted). Fortran-order arrays are transposed into C order. Writing always produces
 * version 1.0 (2.0 for huge headers), C order, little-endian, with the header padded to 64 bytes
 * as numpy does.
 */
public final class Npy {
    private Npy() {}

    /** Reads a {@code .npy} file; C-order little-endian data is memory-mapped rather than copied. */
    public static HostTensor read(Path file) throws IOException {
        NpyHeader header;
        try (InputStream in = Files.newInputStream(file)) {
            header = NpyHeader.read(in);
        } catch (IOException e) {
            throw new IOException(file + ": " + e.getMessage(), e);
        }
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            long expected = dataBytes(header, file.toString());
            checkLength(channel.size() - header.dataOffset(), expected, file.toString());
            ByteBuffer data = expected == 0
                    ? ByteBuffer.allocate(0)
                    : channel.map(FileChannel.MapMode.READ_ONLY, header.dataOffset(), expected);
            return toTensor(header, data);
        }
    }

    /** Reads a {@code .npy} image held in memory. */
    public static HostTensor read(byte[] bytes) throws IOException {
        NpyHeader header = NpyHeader.read(new ByteArrayInputStream(bytes));
        long expected = dataBytes(header, "npy data");
        checkLength(bytes.length - header.dataOffset(), expected, "npy data");
        int start = (int) header.dataOffset();
        return toTensor(header, ByteBuffer.wrap(Arrays.copyOfRange(bytes, start, start + (int) expected)));
    }

    /** Reads one {@code .npy} image from a stream, which must end right after the data. */
    public static HostTensor read(InputStream in) throws IOException {
        return read(in, "npy stream");
    }

    /** As {@link #read(InputStream)}; {@code source} names the stream in error messages. */
    static HostTensor read(InputStream in, String source) throws IOException {
        return read(in, source, -1, LoadLimits.defaults());
    }

    /**
     * As {@link #read(InputStream, String)}, for a stream of {@code streamBytes} bytes (-1: unknown):
     * the array the header declares is checked against that size and against {@code limits} before
     * its buffer is allocated, and it is read into that one buffer.
     */
    static HostTensor read(InputStream in, String source, long streamBytes, LoadLimits limits) throws IOException {
        NpyHeader header;
        try {
            header = NpyHeader.read(in);
        } catch (IOException e) {
            throw new IOException(source + ": " + e.getMessage(), e);
        }
        long expected = dataBytes(header, source);
        if (streamBytes >= 0 && streamBytes - header.dataOffset() != expected) {
            throw new IOException(source + ": the header declares a " + header.dtype() + " array of shape "
                    + Shapes.format(header.shape()) + " (" + expected + " bytes) but the member holds "
                    + Math.max(streamBytes - header.dataOffset(), 0) + " data bytes");
        }
        limits.checkTensorBytes(expected, source + ": array of shape " + Shapes.format(header.shape()));
        byte[] data = new byte[(int) expected];
        int n = ZipEntries.readFully(in, data);
        if (n < expected) {
            throw new IOException(source + ": truncated .npy data: " + n + " of " + expected + " bytes");
        }
        if (streamBytes >= 0) {
            if (in.read() != -1) {
                throw new IOException(
                        source + ": the member inflates to more than its declared " + streamBytes + " bytes");
            }
        } else {
            long extra = in.transferTo(OutputStream.nullOutputStream());
            if (extra > 0) {
                throw new IOException(source + ": " + extra + " unexpected bytes after the .npy data");
            }
        }
        return toTensor(header, ByteBuffer.wrap(data));
    }

    /** Writes {@code tensor} to a {@code .npy} file, atomically. */
    public static void write(Path file, HostTensor tensor) throws IOException {
        byte[] header = header(tensor, file.toString());
        AtomicFiles.write(file, channel -> {
            AtomicFiles.writeFully(channel, ByteBuffer.wrap(header));
            AtomicFiles.writeFully(channel, tensor.data());
        });
    }

    /**
     * Starts writing a {@code .npy} file of the given type and shape atomically, for data produced piece by piece:
     * the header is written; the caller writes exactly the data's bytes (C order, little-endian) to the returned
     * file's channel and commits it (closing without a commit leaves no file).
     */
    public static AtomicFiles.Pending begin(Path file, DType dtype, long... shape) throws IOException {
        byte[] header;
        try {
            header = NpyHeader.encode(dtype, shape);
        } catch (IllegalArgumentException e) {
            throw new IOException(file + ": " + e.getMessage(), e);
        }
        AtomicFiles.Pending pending = AtomicFiles.begin(file);
        try {
            AtomicFiles.writeFully(pending.channel(), ByteBuffer.wrap(header));
            return pending;
        } catch (IOException | RuntimeException e) {
            pending.close();
            throw e;
        }
    }

    /** Writes {@code tensor} as a {@code .npy} image to a stream (which stays open). */
    public static void write(OutputStream out, HostTensor tensor) throws IOException {
        out.write(header(tensor, "npy stream"));
        AtomicFiles.writeFully(Channels.newChannel(out), tensor.data());
        out.flush();
    }

    /** The {@code .npy} image of {@code tensor}. */
    public static byte[] toBytes(HostTensor tensor) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        write(out, tensor);
        return out.toByteArray();
    }

    /** The header numpy writes for {@code tensor}; {@code target} names the destination in errors. */
    static byte[] header(HostTensor tensor, String target) throws IOException {
        try {
            return NpyHeader.encode(tensor.dtype(), tensor.shape());
        } catch (IllegalArgumentException e) {
            throw new IOException(target + ": " + e.getMessage(), e);
        }
    }

    private static long dataBytes(NpyHeader header, String source) throws IOException {
        long bytes;
        try {
            bytes = Shapes.byteSize(header.shape(), header.dtype());
        } catch (IllegalArgumentException e) {
            throw new IOException(source + ": " + e.getMessage());
        }
        if (bytes > Integer.MAX_VALUE - 8) {
            throw new IOException(source + ": array of " + bytes + " bytes is larger than one buffer can hold (2 GiB)");
        }
        return bytes;
    }

    private static void checkLength(long available, long expected, String source) throws IOException {
        if (available < expected) {
            throw new IOException(
                    source + ": truncated .npy data: " + Math.max(available, 0) + " of " + expected + " bytes");
        }
        if (available > expected) {
            throw new IOException(source + ": " + (available - expected) + " unexpected bytes after the .npy data");
        }
    }

    private static HostTensor toTensor(NpyHeader header, ByteBuffer raw) {
        DType dtype = header.dtype();
        ByteBuffer data = header.bigEndian() && dtype.byteSize() > 1 ? Endian.swapped(raw, dtype.byteSize()) : raw;
        long[] shape = header.shape();
        if (header.fortranOrder() && shape.length > 1) {
            data = StridedCopy.gather(data.slice(), 0, shape, Shapes.fortranStrides(shape), dtype.byteSize());
        }
        return HostTensor.of(dtype, shape, data);
    }
}
