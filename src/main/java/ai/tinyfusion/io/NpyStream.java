package ai.tinyfusion.io;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;

/**
 * One {@code .npy} array read front to back in slices (e.g. a batch of images at a time), so that
 * an array larger than memory, or than one Java buffer (2 GiB), can be processed. Opened by
 * {@link Npz.Archive#stream}. The data bytes are handed out as stored: C or Fortran order and byte
 * order are the caller's to check ({@link #fortranOrder()}, {@link #bigEndian()}).
 */
public final class NpyStream implements AutoCloseable {
    private final InputStream in;
    private final NpyHeader header;
    private final String source;
    private final long dataBytes;
    private long position;

    private NpyStream(InputStream in, NpyHeader header, String source, long dataBytes) {
        this.in = in;
        this.header = header;
        this.source = source;
        this.dataBytes = dataBytes;
    }

    /** Reads the header of a stream of {@code streamBytes} bytes (-1: unknown) and checks it against that size. */
    static NpyStream open(InputStream raw, String source, long streamBytes) throws IOException {
        InputStream in = new BufferedInputStream(raw, 1 << 16);
        NpyHeader header;
        try {
            header = NpyHeader.read(in);
        } catch (IOException e) {
            throw new IOException(source + ": " + e.getMessage(), e);
        }
        long expected;
        try {
            expected = Shapes.byteSize(header.shape(), header.dtype());
        } catch (IllegalArgumentException e) {
            throw new IOException(source + ": " + e.getMessage(), e);
        }
        if (streamBytes >= 0 && streamBytes - header.dataOffset() != expected) {
            throw new IOException(source + ": the header declares a " + header.dtype() + " array of shape "
                    + Shapes.format(header.shape()) + " (" + expected + " bytes) but the member holds "
                    + Math.max(streamBytes - header.dataOffset(), 0) + " data bytes");
        }
        return new NpyStream(in, header, source, expected);
    }

    public DType dtype() {
        return header.dtype();
    }

    public long[] shape() {
        return header.shape().clone();
    }

    public boolean fortranOrder() {
        return header.fortranOrder();
    }

    public boolean bigEndian() {
        return header.bigEndian();
    }

    /** The file and member this stream reads, for messages. */
    public String source() {
        return source;
    }

    /** Data bytes of the whole array. */
    public long dataBytes() {
        return dataBytes;
    }

    /** Data bytes read so far. */
    public long position() {
        return position;
    }

    /**
     * Reads the next {@code length} data bytes into {@code buffer} at {@code offset}. Reading the
     * last byte also checks that the member ends there and that its checksum matches.
     *
     * @throws IOException if the array has fewer bytes left, or the member is truncated or corrupt
     */
    public void readFully(byte[] buffer, int offset, int length) throws IOException {
        if (length < 0 || position + length > dataBytes) {
            throw new IOException(source + ": asked for bytes " + position + ".." + (position + length)
                    + " of an array of " + dataBytes + " bytes");
        }
        int n = in.readNBytes(buffer, offset, length);
        if (n < length) {
            throw new IOException(source + ": truncated .npy data: " + (position + n) + " of " + dataBytes + " bytes");
        }
        position += n;
        if (position == dataBytes && in.read() != -1) {
            throw new IOException(source + ": the member holds more bytes than its " + dataBytes + " data bytes");
        }
    }

    @Override
    public void close() throws IOException {
        in.close();
    }
}
