package ai.tinyfusion.eval;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import java.util.zip.ZipOutputStream;

/**
 * Just enough of numpy's {@code .npz} format to cache feature statistics.
 *
 * <p>Writing produces what {@code np.savez} produces: a zip archive of uncompressed ("stored")
 * entries named {@code <key>.npy}, each a version-1.0 {@code .npy} file (little-endian, C order,
 * header padded to a multiple of 64 bytes). Only float64 arrays (any rank, including 0-d) and
 * 0-d int64 scalars are written.
 *
 * <p>Reading accepts stored or deflated entries (so {@code np.savez_compressed} output too) and
 * {@code .npy} versions 1, 2 and 3, with dtypes {@code <f8}, {@code <f4} (widened to double),
 * {@code <i8} and {@code <i4}; Fortran-order or big-endian arrays are rejected. Entries are read
 * one at a time through the zip directory, so large unrelated entries (an ADM reference batch's
 * {@code arr_0} of images) are never decompressed.
 */
final class NpzIo {
    private NpzIo() {}

    /** A decoded array: its shape and its values widened to double, in C order. */
    record Array(long[] shape, double[] data) {
        long numel() {
            long n = 1;
            for (long d : shape) {
                n *= d;
            }
            return n;
        }
    }

    private static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};
    private static final Pattern DESCR = Pattern.compile("'descr'\\s*:\\s*'([^']*)'");
    private static final Pattern FORTRAN = Pattern.compile("'fortran_order'\\s*:\\s*(True|False)");
    private static final Pattern SHAPE = Pattern.compile("'shape'\\s*:\\s*\\(([^)]*)\\)");

    /** Writes {@code arrays} (key → array) to {@code path} as an uncompressed npz. */
    static void write(Path path, Map<String, Array> arrays, Map<String, Long> int64Scalars) throws IOException {
        Path parent = path.toAbsolutePath().getParent();
        if (parent != null) {
            Files.createDirectories(parent);
        }
        try (OutputStream os = Files.newOutputStream(path); ZipOutputStream zip = new ZipOutputStream(os)) {
            for (Map.Entry<String, Array> e : arrays.entrySet()) {
                Array a = e.getValue();
                ByteBuffer body = ByteBuffer.allocate(Math.multiplyExact(a.data().length, 8)).order(ByteOrder.LITTLE_ENDIAN);
                body.asDoubleBuffer().put(a.data());
                putStored(zip, e.getKey() + ".npy", npy("<f8", a.shape(), body.array()));
            }
            for (Map.Entry<String, Long> e : int64Scalars.entrySet()) {
                byte[] body = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(e.getValue()).array();
                putStored(zip, e.getKey() + ".npy", npy("<i8", new long[0], body));
            }
        }
    }

    private static void putStored(ZipOutputStream zip, String name, byte[] bytes) throws IOException {
        ZipEntry entry = new ZipEntry(name);
        entry.setMethod(ZipEntry.STORED);
        entry.setSize(bytes.length);
        entry.setCompressedSize(bytes.length);
        CRC32 crc = new CRC32();
        crc.update(bytes);
        entry.setCrc(crc.getValue());
        zip.putNextEntry(entry);
        zip.write(bytes);
        zip.closeEntry();
    }

    private static byte[] npy(String descr, long[] shape, byte[] body) {
        StringBuilder dims = new StringBuilder();
        for (int i = 0; i < shape.length; i++) {
            dims.append(shape[i]);
            if (shape.length == 1 || i < shape.length - 1) {
                dims.append(shape.length == 1 ? "," : ", ");
            }
        }
        String dict = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': (" + dims + "), }";
        // Total header (magic 6 + version 2 + length 2 + dict + '\n') padded with spaces to 64 bytes.
        int unpadded = 10 + dict.length() + 1;
        int pad = (64 - unpadded % 64) % 64;
        String header = dict + " ".repeat(pad) + "\n";
        byte[] h = header.getBytes(StandardCharsets.US_ASCII);
        ByteArrayOutputStream out = new ByteArrayOutputStream(10 + h.length + body.length);
        out.writeBytes(MAGIC);
        out.write(1);
        out.write(0);
        out.write(h.length & 0xff);
        out.write((h.length >>> 8) & 0xff);
        out.writeBytes(h);
        out.writeBytes(body);
        return out.toByteArray();
    }

    /** Names of the arrays in an npz (entry names without {@code .npy}). */
    static List<String> keys(Path path) throws IOException {
        List<String> keys = new ArrayList<>();
        try (ZipFile zip = new ZipFile(path.toFile())) {
            zip.stream().forEach(e -> {
                if (e.getName().endsWith(".npy")) {
                    keys.add(e.getName().substring(0, e.getName().length() - 4));
                }
            });
        }
        return keys;
    }

    /** Reads the named arrays; a missing key is an IOException naming the file and the keys present. */
    static Map<String, Array> read(Path path, String... names) throws IOException {
        Map<String, Array> out = new LinkedHashMap<>();
        try (ZipFile zip = new ZipFile(path.toFile())) {
            for (String name : names) {
                ZipEntry entry = zip.getEntry(name + ".npy");
                if (entry == null) {
                    throw new IOException(path + ": no array '" + name + "' (has " + keys(path) + ")");
                }
                try (InputStream in = zip.getInputStream(entry)) {
                    out.put(name, parseNpy(in.readAllBytes(), path + ":" + name));
                }
            }
        }
        return out;
    }

    static Array parseNpy(byte[] bytes, String what) throws IOException {
        if (bytes.length < 10) {
            throw new IOException(what + ": not an .npy array (" + bytes.length + " bytes)");
        }
        for (int i = 0; i < MAGIC.length; i++) {
            if (bytes[i] != MAGIC[i]) {
                throw new IOException(what + ": bad .npy magic");
            }
        }
        int major = bytes[6] & 0xff;
        ByteBuffer bb = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        int headerLen;
        int headerStart;
        if (major == 1) {
            headerLen = bb.getShort(8) & 0xffff;
            headerStart = 10;
        } else if (major == 2 || major == 3) {
            headerLen = bb.getInt(8);
            headerStart = 12;
        } else {
            throw new IOException(what + ": unsupported .npy version " + major);
        }
        if (headerLen < 0 || headerStart + headerLen > bytes.length) {
            throw new IOException(what + ": truncated .npy header");
        }
        String header = new String(bytes, headerStart, headerLen,
                major == 3 ? StandardCharsets.UTF_8 : StandardCharsets.ISO_8859_1);
        Matcher d = DESCR.matcher(header);
        Matcher f = FORTRAN.matcher(header);
        Matcher s = SHAPE.matcher(header);
        if (!d.find() || !f.find() || !s.find()) {
            throw new IOException(what + ": unparsable .npy header " + header.trim());
        }
        if (f.group(1).equals("True")) {
            throw new IOException(what + ": Fortran-order arrays are not supported");
        }
        String descr = d.group(1);
        List<Long> dims = new ArrayList<>();
        for (String part : s.group(1).split(",")) {
            if (!part.isBlank()) {
                dims.add(Long.parseLong(part.trim()));
            }
        }
        long[] shape = dims.stream().mapToLong(Long::longValue).toArray();
        long n = 1;
        for (long dim : shape) {
            n = Math.multiplyExact(n, dim);
        }
        int itemSize;
        switch (descr) {
            case "<f8", "<i8" -> itemSize = 8;
            case "<f4", "<i4" -> itemSize = 4;
            default -> throw new IOException(what + ": unsupported dtype " + descr + " (need <f8, <f4, <i8 or <i4)");
        }
        int dataStart = headerStart + headerLen;
        long expected = n * itemSize;
        if (bytes.length - dataStart != expected) {
            throw new IOException(what + ": expected " + expected + " data bytes for shape " + dims + " " + descr
                    + ", found " + (bytes.length - dataStart));
        }
        if (n > Integer.MAX_VALUE - 8) {
            throw new IOException(what + ": array too large (" + n + " elements)");
        }
        double[] data = new double[(int) n];
        ByteBuffer body = ByteBuffer.wrap(bytes, dataStart, (int) expected).slice().order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < data.length; i++) {
            data[i] = switch (descr) {
                case "<f8" -> body.getDouble(i * 8);
                case "<f4" -> body.getFloat(i * 4);
                case "<i8" -> body.getLong(i * 8);
                default -> body.getInt(i * 4);
            };
        }
        return new Array(shape, data);
    }
}
