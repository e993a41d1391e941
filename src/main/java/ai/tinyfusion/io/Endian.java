package ai.tinyfusion.io;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/** Byte-order conversion of raw element data. */
public final class Endian {
    private Endian() {}

    /**
     * A new little-endian heap buffer holding {@code source}'s remaining bytes with every
     * {@code elemSize}-byte element reversed (big-endian to little-endian or back).
     *
     * @throws IllegalArgumentException if the byte count is not a multiple of the element size
     */
    public static ByteBuffer swapped(ByteBuffer source, int elemSize) {
        ByteBuffer src = source.duplicate();
        int n = src.remaining();
        if (n % elemSize != 0) {
            throw new IllegalArgumentException(n + " bytes is not a whole number of " + elemSize + "-byte elements");
        }
        byte[] out = new byte[n];
        src.get(out);
        if (elemSize > 1) {
            for (int base = 0; base < n; base += elemSize) {
                for (int i = 0, j = elemSize - 1; i < j; i++, j--) {
                    byte t = out[base + i];
                    out[base + i] = out[base + j];
                    out[base + j] = t;
                }
            }
        }
        return ByteBuffer.wrap(out).order(ByteOrder.LITTLE_ENDIAN);
    }
}
