package ai.tinyfusion.io;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.zip.CRC32;

/**
 * Writes an uncompressed {@code .npz} (what {@code numpy.savez} writes) one array at a time, the data of each in as
 * many pieces as the caller likes, so an archive far larger than memory (50,000 images of 256×256×3 are 9.8 GB) is
 * written with one batch in memory. The archive appears atomically at {@link #commit()}; closing without a commit
 * leaves no file. Members larger than 4 GiB (or past 4 GiB in the file) get ZIP64 records, which NumPy's
 * {@code zipfile} and Java's {@code ZipFile} read.
 *
 * <pre>{@code
 * try (NpzWriter w = NpzWriter.create(path)) {
 *     w.begin("arr_0", DType.U8, n, 256, 256, 3);
 *     for (...) w.write(batchBytes);           // exactly n·256·256·3 bytes in all
 *     w.end();
 *     w.array("arr_1", labels);
 *     w.commit();
 * }
 * }</pre>
 *
 * <p>Each member's local header is written with its size (known from the shape) and a CRC-32 patched in when the
 * member ends; the entry time is the DOS epoch, as {@link Npz#write}, so equal arrays give equal bytes.
 */
public final class NpzWriter implements AutoCloseable {
    private static final int LOCAL_SIG = 0x04034b50;
    private static final int CENTRAL_SIG = 0x02014b50;
    private static final int END_SIG = 0x06054b50;
    private static final int ZIP64_END_SIG = 0x06064b50;
    private static final int ZIP64_LOCATOR_SIG = 0x07064b50;
    private static final long MAX32 = 0xFFFFFFFFL;
    /** 1980-01-01 in DOS date format (time 00:00:00 is 0). */
    private static final int DOS_DATE = (1 << 5) | 1;

    private final Path target;
    private final AtomicFiles.Pending pending;
    private final FileChannel channel;
    private final long zip64Threshold;
    private final List<Member> members = new ArrayList<>();
    private final Set<String> names = new HashSet<>();
    private Member open;
    private CRC32 crc;
    private long written;

    /** One written member: where its local header starts and what the central directory repeats. */
    private record Member(byte[] name, long offset, long size, int header, boolean zip64, long crcOffset, long[] crc) {}

    private NpzWriter(Path target, long zip64Threshold) throws IOException {
        this.target = target;
        this.zip64Threshold = zip64Threshold;
        this.pending = AtomicFiles.begin(target);
        this.channel = pending.channel();
    }

    /** Starts writing {@code target} (replaced atomically at {@link #commit()}). */
    public static NpzWriter create(Path target) throws IOException {
        return new NpzWriter(target, MAX32);
    }

    /** As {@link #create}, with ZIP64 records for members of {@code zip64Threshold} bytes or more (tests). */
    static NpzWriter create(Path target, long zip64Threshold) throws IOException {
        return new NpzWriter(target, zip64Threshold);
    }

    /** Writes a whole in-memory array as member {@code key}. */
    public void array(String key, HostTensor tensor) throws IOException {
        begin(key, tensor.dtype(), tensor.shape());
        write(tensor.data().duplicate());
        end();
    }

    /**
     * Starts member {@code key}.npy of the given type and shape (C order); its data follows through {@link #write}
     * and it ends with {@link #end()}.
     */
    public void begin(String key, DType dtype, long... shape) throws IOException {
        if (open != null) {
            throw new IllegalStateException(target + ": member " + name(open) + " is not finished");
        }
        if (key.isEmpty() || !names.add(key)) {
            throw new IOException(target + ": " + (key.isEmpty() ? "empty array name" : "duplicate array " + key));
        }
        byte[] header;
        long bytes;
        try {
            header = NpyHeader.encode(dtype, shape);
            bytes = Shapes.byteSize(shape, dtype);
        } catch (IllegalArgumentException e) {
            throw new IOException(target + ":" + key + ": " + e.getMessage(), e);
        }
        byte[] name = (key + ".npy").getBytes(StandardCharsets.UTF_8);
        long offset = channel.position();
        long size = Math.addExact(header.length, bytes);
        boolean zip64 = size >= zip64Threshold || offset >= zip64Threshold;
        ByteBuffer local = le(30 + name.length + (zip64 ? 20 : 0));
        local.putInt(LOCAL_SIG)
                .putShort((short) (zip64 ? 45 : 20))
                .putShort((short) 0) // flags
                .putShort((short) 0) // stored
                .putShort((short) 0) // time 00:00:00
                .putShort((short) DOS_DATE)
                .putInt(0) // CRC-32, patched by end()
                .putInt((int) (zip64 ? MAX32 : size))
                .putInt((int) (zip64 ? MAX32 : size))
                .putShort((short) name.length)
                .putShort((short) (zip64 ? 20 : 0))
                .put(name);
        if (zip64) {
            local.putShort((short) 1).putShort((short) 16).putLong(size).putLong(size);
        }
        writeAll(local.flip());
        open = new Member(name, offset, size, header.length, zip64, offset + 14, new long[1]);
        crc = new CRC32();
        written = 0;
        write(ByteBuffer.wrap(header));
    }

    /** The next piece of the open member's data (its remaining bytes are consumed). */
    public void write(ByteBuffer data) throws IOException {
        if (open == null) {
            throw new IllegalStateException(target + ": no member is open");
        }
        long n = data.remaining();
        if (written + n > open.size()) {
            throw new IOException(target + ":" + name(open) + ": " + (written + n - open.header())
                    + " data bytes written, more than the " + (open.size() - open.header()) + " its shape holds");
        }
        crc.update(data.duplicate());
        writeAll(data);
        written += n;
    }

    /** As {@link #write(ByteBuffer)}, for a byte array. */
    public void write(byte[] data) throws IOException {
        write(ByteBuffer.wrap(data));
    }

    /** Ends the open member: its data must be complete. */
    public void end() throws IOException {
        if (open == null) {
            throw new IllegalStateException(target + ": no member is open");
        }
        if (written != open.size()) {
            throw new IOException(target + ":" + name(open) + ": " + (written - open.header()) + " of "
                    + (open.size() - open.header()) + " data bytes written: the data does not fill the shape");
        }
        open.crc()[0] = crc.getValue();
        ByteBuffer b = le(4).putInt((int) crc.getValue()).flip();
        long end = channel.position();
        while (b.hasRemaining()) {
            channel.write(b, open.crcOffset() + b.position());
        }
        channel.position(end);
        members.add(open);
        open = null;
    }

    /** Writes the central directory and moves the archive into place. */
    public void commit() throws IOException {
        if (open != null) {
            throw new IOException(target + ": member " + name(open) + " is not finished");
        }
        long cdStart = channel.position();
        for (Member m : members) {
            boolean offset64 = m.offset() >= MAX32;
            boolean size64 = m.size() >= MAX32 || m.zip64();
            int extra = (size64 ? 16 : 0) + (offset64 ? 8 : 0);
            ByteBuffer c = le(46 + m.name().length + (extra > 0 ? 4 + extra : 0));
            c.putInt(CENTRAL_SIG)
                    .putShort((short) 45) // made by: version 4.5 (ZIP64-aware), MS-DOS attributes
                    .putShort((short) (extra > 0 ? 45 : 20))
                    .putShort((short) 0)
                    .putShort((short) 0)
                    .putShort((short) 0)
                    .putShort((short) DOS_DATE)
                    .putInt((int) m.crc()[0])
                    .putInt((int) (size64 ? MAX32 : m.size()))
                    .putInt((int) (size64 ? MAX32 : m.size()))
                    .putShort((short) m.name().length)
                    .putShort((short) (extra > 0 ? 4 + extra : 0))
                    .putShort((short) 0) // comment
                    .putShort((short) 0) // disk
                    .putShort((short) 0) // internal attributes
                    .putInt(0) // external attributes
                    .putInt((int) (offset64 ? MAX32 : m.offset()))
                    .put(m.name());
            if (extra > 0) {
                c.putShort((short) 1).putShort((short) extra);
                if (size64) {
                    c.putLong(m.size()).putLong(m.size());
                }
                if (offset64) {
                    c.putLong(m.offset());
                }
            }
            writeAll(c.flip());
        }
        long cdEnd = channel.position();
        long cdSize = cdEnd - cdStart;
        boolean zip64End = members.size() >= 0xFFFF || cdStart >= MAX32 || cdSize >= MAX32;
        if (zip64End) {
            ByteBuffer z = le(56 + 20);
            z.putInt(ZIP64_END_SIG)
                    .putLong(44)
                    .putShort((short) 45)
                    .putShort((short) 45)
                    .putInt(0)
                    .putInt(0)
                    .putLong(members.size())
                    .putLong(members.size())
                    .putLong(cdSize)
                    .putLong(cdStart);
            z.putInt(ZIP64_LOCATOR_SIG).putInt(0).putLong(cdEnd).putInt(1);
            writeAll(z.flip());
        }
        ByteBuffer e = le(22);
        short count = (short) (zip64End ? 0xFFFF : members.size());
        e.putInt(END_SIG)
                .putShort((short) 0)
                .putShort((short) 0)
                .putShort(count)
                .putShort(count)
                .putInt((int) (zip64End ? MAX32 : cdSize))
                .putInt((int) (zip64End ? MAX32 : cdStart))
                .putShort((short) 0);
        writeAll(e.flip());
        pending.commit();
    }

    /** Without {@link #commit()}: discards everything written. */
    @Override
    public void close() throws IOException {
        pending.close();
    }

    private static String name(Member m) {
        String s = new String(m.name(), StandardCharsets.UTF_8);
        return s.substring(0, s.length() - 4);
    }

    private void writeAll(ByteBuffer b) throws IOException {
        AtomicFiles.writeFully(channel, b);
    }

    private static ByteBuffer le(int size) {
        return ByteBuffer.allocate(size).order(ByteOrder.LITTLE_ENDIAN);
    }

    @Override
    public String toString() {
        return "NpzWriter[" + target + ", " + Arrays.toString(names.toArray()) + "]";
    }
}
