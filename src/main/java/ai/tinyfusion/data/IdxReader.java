package ai.tinyfusion.data;

import java.io.ByteArrayInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPInputStream;
import java.util.zip.ZipException;

/**
 * Reader for the IDX files of MNIST / Fashion-MNIST: a big-endian header (magic number, then one
 * 32-bit size per dimension) followed by unsigned bytes. Files may be gzip-compressed (detected
 * from the gzip magic, not the file name) or raw.
 *
 * <ul>
 *   <li>images: magic {@code 0x00000803} (unsigned byte, 3 dimensions N × rows × cols);</li>
 *   <li>labels: magic {@code 0x00000801} (unsigned byte, 1 dimension N).</li>
 * </ul>
 * The payload length must equal the product of the declared dimensions: a short file (or a
 * truncated gzip stream) and trailing bytes are {@link IOException}s naming the file and the
 * expected and actual byte counts.
 */
public final class IdxReader {
    public static final int IMAGES_MAGIC = 0x00000803;
    public static final int LABELS_MAGIC = 0x00000801;

    private IdxReader() {}

    /**
     * Images as stored: {@code pixels[(n * rows + r) * cols + c]}, unsigned bytes 0..255 (0 is the
     * background in MNIST and Fashion-MNIST).
     */
    public record Images(int count, int rows, int cols, byte[] pixels) {
        /** Pixel value 0..255. */
        public int pixel(int n, int r, int c) {
            return pixels[(n * rows + r) * cols + c] & 0xff;
        }

        /** Image {@code n} as floats in [0, 1] (v / 255, as torchvision's ToTensor). */
        public float[] toUnit(int n) {
            float[] out = new float[rows * cols];
            int base = n * rows * cols;
            for (int i = 0; i < out.length; i++) {
                out[i] = (pixels[base + i] & 0xff) / 255f;
            }
            return out;
        }
    }

    /** Reads an IDX image file (magic 0x00000803). */
    public static Images readImages(Path file) throws IOException {
        byte[] data = readMaybeGzipped(file);
        int[] dims = header(file, data, IMAGES_MAGIC, 3);
        long expected = (long) dims[0] * dims[1] * dims[2];
        checkPayload(file, data, 16, expected);
        byte[] pixels = new byte[(int) expected];
        System.arraycopy(data, 16, pixels, 0, pixels.length);
        return new Images(dims[0], dims[1], dims[2], pixels);
    }

    /** Reads an IDX label file (magic 0x00000801) as ints 0..255. */
    public static int[] readLabels(Path file) throws IOException {
        byte[] data = readMaybeGzipped(file);
        int[] dims = header(file, data, LABELS_MAGIC, 1);
        checkPayload(file, data, 8, dims[0]);
        int[] labels = new int[dims[0]];
        for (int i = 0; i < labels.length; i++) {
            labels[i] = data[8 + i] & 0xff;
        }
        return labels;
    }

    private static int[] header(Path file, byte[] data, int magic, int ndim) throws IOException {
        int headerBytes = 4 + 4 * ndim;
        if (data.length < 4) {
            throw new IOException(
                    file + ": truncated IDX header: expected " + headerBytes + " bytes, got " + data.length);
        }
        int m = readInt(data, 0);
        if (m != magic) {
            throw new IOException(String.format(
                    "%s: bad IDX magic 0x%08x, expected 0x%08x (%s)",
                    file, m, magic, magic == IMAGES_MAGIC ? "ubyte images, 3 dims" : "ubyte labels, 1 dim"));
        }
        if (data.length < headerBytes) {
            throw new IOException(
                    file + ": truncated IDX header: expected " + headerBytes + " bytes, got " + data.length);
        }
        int[] dims = new int[ndim];
        for (int i = 0; i < ndim; i++) {
            dims[i] = readInt(data, 4 + 4 * i);
            if (dims[i] < 0 || (i > 0 && dims[i] == 0)) {
                throw new IOException(file + ": invalid IDX dimension " + i + " = " + dims[i]);
            }
        }
        long total = 1;
        for (int d : dims) {
            total *= d;
        }
        if (total > Integer.MAX_VALUE - 16) {
            throw new IOException(file + ": IDX payload of " + total + " bytes is too large");
        }
        return dims;
    }

    private static void checkPayload(Path file, byte[] data, int headerBytes, long expected) throws IOException {
        long actual = data.length - headerBytes;
        if (actual < expected) {
            throw new IOException(file + ": truncated IDX file: expected " + expected + " data bytes after the "
                    + headerBytes + "-byte header, got " + actual);
        }
        if (actual > expected) {
            throw new IOException(file + ": IDX file has " + actual + " data bytes after the header, expected "
                    + expected + " (trailing data)");
        }
    }

    private static int readInt(byte[] b, int off) {
        return ((b[off] & 0xff) << 24) | ((b[off + 1] & 0xff) << 16) | ((b[off + 2] & 0xff) << 8) | (b[off + 3] & 0xff);
    }

    /** The file's bytes, gunzipped when it starts with the gzip magic 1f 8b. */
    static byte[] readMaybeGzipped(Path file) throws IOException {
        byte[] raw = Files.readAllBytes(file);
        if (raw.length >= 2 && (raw[0] & 0xff) == 0x1f && (raw[1] & 0xff) == 0x8b) {
            try (InputStream in = new GZIPInputStream(new ByteArrayInputStream(raw), 1 << 16)) {
                return in.readAllBytes();
            } catch (EOFException | ZipException e) {
                throw new IOException(
                        file + ": corrupt or truncated gzip stream (" + raw.length + " compressed bytes): "
                                + e.getMessage(),
                        e);
            }
        }
        return raw;
    }
}
