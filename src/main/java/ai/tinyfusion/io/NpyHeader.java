package ai.tinyfusion.io;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.StringJoiner;

/**
 * The header of a {@code .npy} file: magic {@code \x93NUMPY}, a version byte pair, the header
 * length (2 bytes in version 1.0, 4 bytes in 2.0 and 3.0) and a Python dict literal such as
 * {@code {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }}.
 *
 * @param dtype        element type
 * @param bigEndian    whether the data is stored big-endian ({@code >} in the descr)
 * @param fortranOrder whether the data is stored column-major
 * @param shape        array shape
 * @param dataOffset   byte offset of the data from the start of the file
 */
record NpyHeader(DType dtype, boolean bigEndian, boolean fortranOrder, long[] shape, long dataOffset) {
    private static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};
    /** Largest header accepted; numpy itself refuses headers over 10000 bytes by default. */
    private static final int MAX_HEADER_BYTES = 1 << 20;

    private static final int ALIGN = 64;
    private static final int GROWTH_DIGITS = 21;

    /** Reads the header from the start of a stream, leaving the stream at the first data byte. */
    static NpyHeader read(InputStream in) throws IOException {
        byte[] pre = in.readNBytes(8);
        if (pre.length < 8 || !Arrays.equals(Arrays.copyOf(pre, 6), MAGIC)) {
            throw new IOException("not a .npy array (missing \\x93NUMPY magic)");
        }
        int major = pre[6];
        int lengthBytes;
        if (major == 1) {
            lengthBytes = 2;
        } else if (major == 2 || major == 3) {
            lengthBytes = 4;
        } else {
            throw new IOException("unsupported .npy format version " + major + "." + pre[7]);
        }
        byte[] len = in.readNBytes(lengthBytes);
        if (len.length < lengthBytes) {
            throw new IOException("truncated .npy header");
        }
        long headerLength = 0;
        for (int i = lengthBytes - 1; i >= 0; i--) {
            headerLength = (headerLength << 8) | (len[i] & 0xff);
        }
        if (headerLength > MAX_HEADER_BYTES) {
            throw new IOException(".npy header length " + headerLength + " is implausibly large");
        }
        byte[] text = in.readNBytes((int) headerLength);
        if (text.length < headerLength) {
            throw new IOException("truncated .npy header");
        }
        String dict = new String(text, major == 3 ? StandardCharsets.UTF_8 : StandardCharsets.ISO_8859_1);
        return fromDict(dict, 8 + lengthBytes + headerLength);
    }

    private static NpyHeader fromDict(String text, long dataOffset) throws IOException {
        Map<String, Object> dict = new PyLiteral(text).parseDict();
        if (!dict.keySet().equals(new java.util.HashSet<>(List.of("descr", "fortran_order", "shape")))) {
            throw new IOException(
                    ".npy header must have exactly the keys descr, fortran_order and shape, has " + dict.keySet());
        }
        if (!(dict.get("descr") instanceof String)) {
            throw new IOException(".npy descr is not a dtype string");
        }
        if (!(dict.get("fortran_order") instanceof Boolean)) {
            throw new IOException(".npy fortran_order is not True or False");
        }
        if (!(dict.get("shape") instanceof long[])) {
            throw new IOException(".npy shape is not a tuple of integers");
        }
        String descr = (String) dict.get("descr");
        return new NpyHeader(
                NpyDescr.dtype(descr),
                NpyDescr.isBigEndian(descr),
                (Boolean) dict.get("fortran_order"),
                (long[]) dict.get("shape"),
                dataOffset);
    }

    /**
     * The complete header (magic to newline) for a C-order little-endian array, laid out exactly as
     * numpy lays it out: keys sorted, spare spaces after the dict so the first dimension can grow
     * to 21 digits in place, then spaces and a newline up to a multiple of 64 bytes (at least one
     * space).
     */
    static byte[] encode(DType dtype, long[] shape) {
        StringJoiner dims = new StringJoiner(", ", "(", shape.length == 1 ? ",)" : ")");
        for (long d : shape) {
            dims.add(Long.toString(d));
        }
        StringBuilder dict = new StringBuilder("{'descr': '")
                .append(NpyDescr.descr(dtype))
                .append("', 'fortran_order': False, 'shape': ")
                .append(dims)
                .append(", }");
        if (shape.length > 0) {
            dict.append(" "
                    .repeat(Math.max(0, GROWTH_DIGITS - Long.toString(shape[0]).length())));
        }
        byte[] text = dict.toString().getBytes(StandardCharsets.ISO_8859_1);
        int textAndNewline = text.length + 1;
        int prefix = 10;
        int padding = ALIGN - (prefix + textAndNewline) % ALIGN;
        if (textAndNewline + padding > 0xffff) {
            prefix = 12; // version 2.0: 4-byte header length
            padding = ALIGN - (prefix + textAndNewline) % ALIGN;
        }
        int headerLength = textAndNewline + padding;
        byte[] out = new byte[prefix + headerLength];
        System.arraycopy(MAGIC, 0, out, 0, 6);
        out[6] = (byte) (prefix == 10 ? 1 : 2);
        out[7] = 0;
        for (int i = 0; i < prefix - 8; i++) {
            out[8 + i] = (byte) (headerLength >>> (8 * i));
        }
        System.arraycopy(text, 0, out, prefix, text.length);
        Arrays.fill(out, prefix + text.length, out.length - 1, (byte) ' ');
        out[out.length - 1] = '\n';
        return out;
    }

    /** A parser for the small Python literal subset numpy writes: dicts, strings, booleans, int tuples. */
    private static final class PyLiteral {
        private final String s;
        private int i;

        PyLiteral(String s) {
            this.s = s;
        }

        Map<String, Object> parseDict() throws IOException {
            Map<String, Object> out = new LinkedHashMap<>();
            expect('{');
            while (true) {
                skipSpace();
                if (peek() == '}') {
                    i++;
                    break;
                }
                String key = parseString();
                expect(':');
                if (out.put(key, parseValue()) != null) {
                    throw fail("duplicate key '" + key + "'");
                }
                skipSpace();
                if (peek() == ',') {
                    i++;
                } else if (peek() != '}') {
                    throw fail("expected ',' or '}'");
                }
            }
            skipSpace();
            if (i != s.length()) {
                throw fail("unexpected text after the dict");
            }
            return out;
        }

        private Object parseValue() throws IOException {
            skipSpace();
            char c = peek();
            if (c == '\'' || c == '"') {
                return parseString();
            }
            if (c == '(') {
                return parseIntTuple();
            }
            if (c == '[') {
                throw fail("structured dtypes are not supported");
            }
            if (s.startsWith("True", i)) {
                i += 4;
                return Boolean.TRUE;
            }
            if (s.startsWith("False", i)) {
                i += 5;
                return Boolean.FALSE;
            }
            throw fail("unsupported value");
        }

        private long[] parseIntTuple() throws IOException {
            expect('(');
            List<Long> items = new ArrayList<>();
            while (true) {
                skipSpace();
                if (peek() == ')') {
                    i++;
                    break;
                }
                items.add(parseInt());
                skipSpace();
                if (peek() == ',') {
                    i++;
                } else if (peek() != ')') {
                    throw fail("expected ',' or ')'");
                }
            }
            return items.stream().mapToLong(Long::longValue).toArray();
        }

        private long parseInt() throws IOException {
            int start = i;
            while (i < s.length() && Character.isDigit(s.charAt(i))) {
                i++;
            }
            if (start == i || i - start > 18) {
                throw fail("expected a dimension");
            }
            long v = Long.parseLong(s.substring(start, i));
            if (i < s.length() && s.charAt(i) == 'L') {
                i++; // Python 2 long suffix
            }
            return v;
        }

        private String parseString() throws IOException {
            skipSpace();
            char quote = peek();
            if (quote != '\'' && quote != '"') {
                throw fail("expected a string");
            }
            int end = s.indexOf(quote, i + 1);
            if (end < 0) {
                throw fail("unterminated string");
            }
            String out = s.substring(i + 1, end);
            if (out.indexOf('\\') >= 0) {
                throw fail("escape sequences are not supported");
            }
            i = end + 1;
            return out;
        }

        private void expect(char c) throws IOException {
            skipSpace();
            if (peek() != c) {
                throw fail("expected '" + c + "'");
            }
            i++;
        }

        private char peek() throws IOException {
            if (i >= s.length()) {
                throw fail("unexpected end");
            }
            return s.charAt(i);
        }

        private void skipSpace() {
            while (i < s.length() && Character.isWhitespace(s.charAt(i))) {
                i++;
            }
        }

        private IOException fail(String what) {
            return new IOException("malformed .npy header (" + what + " at character " + i + "): "
                    + (s.length() > 200 ? s.substring(0, 200) + "..." : s));
        }
    }
}
