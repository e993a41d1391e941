package ai.tinyfusion.data;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Minimal {@code .npy} reading and writing for the pre-extracted latent files: little-endian
 * float32 ({@code <f4}) and int64 ({@code <i8}) arrays in C order, format versions 1–3 on read and
 * 1.0 on write (header padded to 64 bytes, as numpy writes it). Anything else (Fortran order,
 * other dtypes, big-endian) is an IOException naming the file.
 */
final class NpyLite {
    private NpyLite() {}

    private static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};
    private static final Pattern DESCR = Pattern.compile("'descr'\\s*:\\s*'([^']*)'");
    private static final Pattern FORTRAN = Pattern.compile("'fortran_order'\\s*:\\s*(True|False)");
    private static final Pattern SHAPE = Pattern.compile("'shape'\\s*:\\s*\\(([^)]*)\\)");

    /** A decoded array: exactly one of {@code f32} / {@code i64} is non-null. */
    record Array(int[] shape, float[] f32, long[] i64) {
        int numel() {
            int n = 1;
            for (int d : shape) {
                n *= d;
            }
            return n;
        }
    }

    static Array read(Path file) throws IOException {
        byte[] b = Files.readAllBytes(file);
        if (b.length < 10 || !Arrays.equals(Arrays.copyOf(b, 6), MAGIC)) {
            throw new IOException(file + ": not an .npy file");
        }
        int major = b[6] & 0xff;
        ByteBuffer bb = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
        int headerStart = major == 1 ? 10 : 12;
        if (major < 1 || major > 3 || b.length < headerStart) {
            throw new IOException(file + ": unsupported .npy version " + major);
        }
        int headerLen = major == 1 ? bb.getShort(8) & 0xffff : bb.getInt(8);
        if (headerLen < 0 || headerStart + headerLen > b.length) {
            throw new IOException(file + ": truncated .npy header");
        }
        String header = new String(b, headerStart, headerLen, StandardCharsets.ISO_8859_1);
        Matcher d = DESCR.matcher(header);
        Matcher f = FORTRAN.matcher(header);
        Matcher s = SHAPE.matcher(header);
        if (!d.find() || !f.find() || !s.find()) {
            throw new IOException(file + ": unparsable .npy header: " + header.trim());
        }
        if (f.group(1).equals("True")) {
            throw new IOException(file + ": Fortran-order .npy is not supported");
        }
        List<Integer> dims = new ArrayList<>();
        for (String part : s.group(1).split(",")) {
            if (!part.isBlank()) {
                dims.add(Integer.parseInt(part.trim()));
            }
        }
        int[] shape = dims.stream().mapToInt(Integer::intValue).toArray();
        long n = 1;
        for (int dim : shape) {
            n *= dim;
        }
        String descr = d.group(1);
        int item = switch (descr) {
            case "<f4" -> 4;
            case "<i8" -> 8;
            default -> throw new IOException(file + ": dtype " + descr + " is not supported (need <f4 or <i8)");
        };
        int start = headerStart + headerLen;
        long actual = b.length - start;
        if (actual != n * item) {
            throw new IOException(file + ": expected " + n * item + " data bytes for shape " + dims + " " + descr
                    + ", found " + actual);
        }
        ByteBuffer body = ByteBuffer.wrap(b, start, (int) actual).slice().order(ByteOrder.LITTLE_ENDIAN);
        if (item == 4) {
            float[] v = new float[(int) n];
            body.asFloatBuffer().get(v);
            return new Array(shape, v, null);
        }
        long[] v = new long[(int) n];
        body.asLongBuffer().get(v);
        return new Array(shape, null, v);
    }

    static void writeFloat32(Path file, int[] shape, float[] data) throws IOException {
        ByteBuffer bb = ByteBuffer.allocate(data.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        bb.asFloatBuffer().put(data);
        write(file, "<f4", shape, data.length, bb.array());
    }

    static void writeInt64(Path file, int[] shape, long[] data) throws IOException {
        ByteBuffer bb = ByteBuffer.allocate(data.length * 8).order(ByteOrder.LITTLE_ENDIAN);
        bb.asLongBuffer().put(data);
        write(file, "<i8", shape, data.length, bb.array());
    }

    private static void write(Path file, String descr, int[] shape, int numel, byte[] body) throws IOException {
        long n = 1;
        for (int d : shape) {
            n *= d;
        }
        if (n != numel) {
            throw new IllegalArgumentException(numel + " values do not fill shape " + Arrays.toString(shape));
        }
        StringBuilder dims = new StringBuilder();
        for (int i = 0; i < shape.length; i++) {
            dims.append(shape[i]).append(shape.length == 1 ? "," : (i < shape.length - 1 ? ", " : ""));
        }
        String dict = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': (" + dims + "), }";
        int pad = (64 - (10 + dict.length() + 1) % 64) % 64;
        byte[] h = (dict + " ".repeat(pad) + "\n").getBytes(StandardCharsets.US_ASCII);
        ByteArrayOutputStream out = new ByteArrayOutputStream(10 + h.length + body.length);
        out.writeBytes(MAGIC);
        out.write(1);
        out.write(0);
        out.write(h.length & 0xff);
        out.write(h.length >>> 8);
        out.writeBytes(h);
        out.writeBytes(body);
        Files.write(file, out.toByteArray());
    }
}
