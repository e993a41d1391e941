package ai.tinyfusion.io;

import java.io.IOException;
import java.nio.charset.StandardCharsets;

/**
 * A bounds-checked cursor over pickle bytes. Every length read from the stream is checked against
 * the bytes that remain before anything is allocated, so a corrupt length cannot exhaust memory.
 */
final class PickleInput {
    private final byte[] data;
    private int pos;

    PickleInput(byte[] data) {
        this.data = data;
    }

    /** Offset of the next byte. */
    int position() {
        return pos;
    }

    int remaining() {
        return data.length - pos;
    }

    int u8() throws IOException {
        need(1, "a byte");
        return data[pos++] & 0xff;
    }

    int u16() throws IOException {
        need(2, "a 2-byte integer");
        int v = (data[pos] & 0xff) | (data[pos + 1] & 0xff) << 8;
        pos += 2;
        return v;
    }

    int i32() throws IOException {
        need(4, "a 4-byte integer");
        int v = (data[pos] & 0xff)
                | (data[pos + 1] & 0xff) << 8
                | (data[pos + 2] & 0xff) << 16
                | (data[pos + 3] & 0xff) << 24;
        pos += 4;
        return v;
    }

    long u32() throws IOException {
        return i32() & 0xffffffffL;
    }

    long i64() throws IOException {
        need(8, "an 8-byte integer");
        long v = 0;
        for (int i = 7; i >= 0; i--) {
            v = (v << 8) | (data[pos + i] & 0xff);
        }
        pos += 8;
        return v;
    }

    /** A big-endian IEEE double (the BINFLOAT layout). */
    double f64BigEndian() throws IOException {
        need(8, "a float");
        long v = 0;
        for (int i = 0; i < 8; i++) {
            v = (v << 8) | (data[pos + i] & 0xff);
        }
        pos += 8;
        return Double.longBitsToDouble(v);
    }

    /** {@code length} raw bytes; the length must not exceed what remains. */
    byte[] bytes(long length, String what) throws IOException {
        if (length < 0 || length > remaining()) {
            throw new IOException("truncated pickle: " + what + " of " + length + " bytes at offset " + pos
                    + " but only " + remaining() + " bytes remain");
        }
        byte[] out = new byte[(int) length];
        System.arraycopy(data, pos, out, 0, out.length);
        pos += out.length;
        return out;
    }

    String utf8(long length, String what) throws IOException {
        return new String(bytes(length, what), StandardCharsets.UTF_8);
    }

    /** Checks that {@code length} more bytes exist, without consuming them. */
    void requireAvailable(long length, String what) throws IOException {
        if (length < 0 || length > remaining()) {
            throw new IOException("truncated pickle: " + what + " of " + length + " bytes at offset " + pos
                    + " but only " + remaining() + " bytes remain");
        }
    }

    /** A text line up to (not including) the next newline, which must exist. */
    String line(String what) throws IOException {
        for (int i = pos; i < data.length; i++) {
            if (data[i] == '\n') {
                String s = new String(data, pos, i - pos, StandardCharsets.UTF_8);
                pos = i + 1;
                return s;
            }
        }
        throw new IOException("truncated pickle: unterminated " + what + " at offset " + pos);
    }

    private void need(int n, String what) throws IOException {
        if (remaining() < n) {
            throw new IOException("truncated pickle: expected " + what + " at offset " + pos);
        }
    }
}
