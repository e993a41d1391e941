package ai.tinyfusion.io;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.CRC32;
import java.util.zip.Deflater;

/**
 * Test helper: writes zip archives byte by byte, so that an entry can lie: declare sizes or a CRC
 * its data does not have, carry pre-compressed deflate data (a bomb), repeat a name. No zip64.
 */
final class ZipBuilder {
    static final int STORED = 0;
    static final int DEFLATED = 8;

    /**
     * One entry as written: {@code data} is what the file holds (compressed for deflate);
     * {@code size}, {@code compressedSize} and {@code crc} are what both headers declare.
     */
    record Entry(String name, int method, byte[] data, long size, long compressedSize, long crc) {
        Entry withSizes(long newSize, long newCompressedSize) {
            return new Entry(name, method, data, newSize, newCompressedSize, crc);
        }

        Entry withCrc(long newCrc) {
            return new Entry(name, method, data, size, compressedSize, newCrc);
        }

        Entry withName(String newName) {
            return new Entry(newName, method, data, size, compressedSize, crc);
        }
    }

    private final List<Entry> entries = new ArrayList<>();

    /** An honest stored entry. */
    static Entry stored(String name, byte[] bytes) {
        return new Entry(name, STORED, bytes, bytes.length, bytes.length, crc(bytes));
    }

    /** An honest deflated entry of {@code raw}. */
    static Entry deflated(String name, byte[] raw) {
        byte[] compressed = deflate(raw);
        return new Entry(name, DEFLATED, compressed, raw.length, compressed.length, crc(raw));
    }

    ZipBuilder add(Entry e) {
        entries.add(e);
        return this;
    }

    static long crc(byte[] bytes) {
        CRC32 crc = new CRC32();
        crc.update(bytes);
        return crc.getValue();
    }

    /** Raw deflate (no zlib wrapper), as zip entries hold it. */
    static byte[] deflate(byte[] raw) {
        Deflater deflater = new Deflater(Deflater.BEST_COMPRESSION, true);
        deflater.setInput(raw);
        deflater.finish();
        ByteArrayOutputStream out = new ByteArrayOutputStream(Math.max(64, raw.length / 64));
        byte[] buf = new byte[1 << 16];
        while (!deflater.finished()) {
            out.write(buf, 0, deflater.deflate(buf));
        }
        deflater.end();
        return out.toByteArray();
    }

    byte[] bytes() {
        int total = 22;
        for (Entry e : entries) {
            total += 76 + 2 * e.name().length() * 3 + e.data().length;
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream(total);
        List<Long> offsets = new ArrayList<>();
        for (Entry e : entries) {
            offsets.add((long) out.size());
            byte[] name = e.name().getBytes(StandardCharsets.UTF_8);
            ByteBuffer h = le(30 + name.length);
            h.putInt(0x04034b50).putShort((short) 20).putShort((short) 0).putShort((short) e.method());
            h.putShort((short) 0).putShort((short) 0x21); // 1980-01-01 00:00
            h.putInt((int) e.crc()).putInt((int) e.compressedSize()).putInt((int) e.size());
            h.putShort((short) name.length).putShort((short) 0).put(name);
            out.writeBytes(h.array());
            out.writeBytes(e.data());
        }
        long cdStart = out.size();
        for (int i = 0; i < entries.size(); i++) {
            Entry e = entries.get(i);
            byte[] name = e.name().getBytes(StandardCharsets.UTF_8);
            ByteBuffer h = le(46 + name.length);
            h.putInt(0x02014b50).putShort((short) 20).putShort((short) 20).putShort((short) 0);
            h.putShort((short) e.method()).putShort((short) 0).putShort((short) 0x21);
            h.putInt((int) e.crc()).putInt((int) e.compressedSize()).putInt((int) e.size());
            h.putShort((short) name.length).putShort((short) 0).putShort((short) 0);
            h.putShort((short) 0).putShort((short) 0).putInt(0).putInt((int) (long) offsets.get(i));
            h.put(name);
            out.writeBytes(h.array());
        }
        long cdSize = out.size() - cdStart;
        ByteBuffer end = le(22);
        end.putInt(0x06054b50).putShort((short) 0).putShort((short) 0);
        end.putShort((short) entries.size()).putShort((short) entries.size());
        end.putInt((int) cdSize).putInt((int) cdStart).putShort((short) 0);
        out.writeBytes(end.array());
        return out.toByteArray();
    }

    private static ByteBuffer le(int n) {
        return ByteBuffer.allocate(n).order(ByteOrder.LITTLE_ENDIAN);
    }
}
