package ai.tinyfusion.io;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The JSON header of a safetensors file: decoding with full validation, and encoding.
 *
 * <p>The file layout is an 8-byte little-endian header length {@code N}, {@code N} bytes of JSON
 * (padded with spaces to a multiple of 8), then the data section. Each tensor entry gives its
 * dtype, shape and {@code data_offsets [begin, end)} relative to the data section; the optional
 * {@code __metadata__} entry maps strings to strings.
 *
 * @param metadata the {@code __metadata__} entries (empty if absent)
 * @param entries  the tensors, in header order
 */
record SafetensorsHeader(Map<String, String> metadata, List<Entry> entries) {
    /** Largest header accepted, as in the reference implementation (100 MB). */
    static final long MAX_HEADER_BYTES = 100_000_000L;

    static final String METADATA_KEY = "__metadata__";

    /** One tensor of the header; offsets are relative to the data section. */
    record Entry(String name, DType dtype, long[] shape, long begin, long end) {}

    /**
     * Decodes and validates a header: supported dtypes, non-negative shapes whose byte size
     * matches the offsets, and offsets that tile the data section exactly (no gap, no overlap,
     * nothing past its end).
     *
     * @param json       the header bytes
     * @param dataLength size of the data section in bytes
     */
    static SafetensorsHeader decode(byte[] json, long dataLength) throws IOException {
        JsonObject root = Json.parseObject(json, "header");
        Map<String, String> metadata = new LinkedHashMap<>();
        List<Entry> entries = new ArrayList<>();
        for (Map.Entry<String, JsonElement> e : root.entrySet()) {
            if (e.getKey().equals(METADATA_KEY)) {
                for (Map.Entry<String, JsonElement> m :
                        Json.requireObject(e.getValue(), METADATA_KEY).entrySet()) {
                    metadata.put(m.getKey(), Json.requireString(m.getValue(), "metadata value '" + m.getKey() + "'"));
                }
            } else {
                entries.add(entry(e.getKey(), e.getValue()));
            }
        }
        checkLayout(entries, dataLength);
        return new SafetensorsHeader(metadata, entries);
    }

    private static Entry entry(String name, JsonElement value) throws IOException {
        String what = "tensor '" + name + "'";
        JsonObject o = Json.requireObject(value, what);
        String dtypeName = Json.requireString(o.get("dtype"), what + " dtype");
        DType dtype;
        try {
            dtype = DType.fromSafetensorsName(dtypeName);
        } catch (IllegalArgumentException ex) {
            throw new IOException(what + " has unsupported dtype '" + dtypeName + "'");
        }
        long[] shape = longArray(o.get("shape"), what + " shape", -1);
        long[] offsets = longArray(o.get("data_offsets"), what + " data_offsets", 2);
        for (long d : shape) {
            if (d < 0) {
                throw new IOException(what + " has a negative dimension in shape " + Shapes.format(shape));
            }
        }
        if (offsets[0] < 0 || offsets[1] < offsets[0]) {
            throw new IOException(what + " has invalid data_offsets " + Shapes.format(offsets));
        }
        long bytes;
        try {
            bytes = Shapes.byteSize(shape, dtype);
        } catch (IllegalArgumentException ex) {
            throw new IOException(what + ": " + ex.getMessage());
        }
        if (offsets[1] - offsets[0] != bytes) {
            throw new IOException(what + " spans " + (offsets[1] - offsets[0]) + " bytes but its " + dtype + " shape "
                    + Shapes.format(shape) + " needs " + bytes);
        }
        return new Entry(name, dtype, shape, offsets[0], offsets[1]);
    }

    private static long[] longArray(JsonElement e, String what, int requiredLength) throws IOException {
        if (e == null || !e.isJsonArray()) {
            throw new IOException(what + " is missing or not an array");
        }
        JsonArray a = e.getAsJsonArray();
        if (requiredLength >= 0 && a.size() != requiredLength) {
            throw new IOException(what + " must have " + requiredLength + " elements");
        }
        long[] out = new long[a.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = Json.requireLong(a.get(i), what + "[" + i + "]");
        }
        return out;
    }

    private static void checkLayout(List<Entry> entries, long dataLength) throws IOException {
        List<Entry> byOffset = new ArrayList<>(entries);
        byOffset.sort(Comparator.comparingLong(Entry::begin).thenComparingLong(Entry::end));
        long expected = 0;
        String previous = null;
        for (Entry e : byOffset) {
            if (e.begin() < expected) {
                throw new IOException("tensor '" + e.name() + "' overlaps tensor '" + previous + "'");
            }
            if (e.begin() > expected) {
                throw new IOException("gap in the data section before tensor '" + e.name() + "' (bytes " + expected
                        + " to " + e.begin() + " belong to no tensor)");
            }
            expected = e.end();
            previous = e.name();
        }
        if (expected > dataLength) {
            throw new IOException("tensor '" + previous + "' ends at byte " + expected + " of the data section, but the"
                    + " file holds only " + dataLength + " data bytes (truncated?)");
        }
        if (expected < dataLength) {
            throw new IOException(
                    "the data section has " + (dataLength - expected) + " trailing bytes that belong to no tensor");
        }
    }

    /**
     * Encodes a header for {@code tensors} laid out back to back in the given order, padded with
     * spaces to a multiple of 8 bytes.
     */
    static byte[] encode(Map<String, HostTensor> tensors, Map<String, String> metadata) {
        JsonObject root = new JsonObject();
        if (metadata != null && !metadata.isEmpty()) {
            JsonObject m = new JsonObject();
            metadata.forEach(m::addProperty);
            root.add(METADATA_KEY, m);
        }
        long offset = 0;
        for (Map.Entry<String, HostTensor> e : tensors.entrySet()) {
            if (e.getKey().equals(METADATA_KEY)) {
                throw new IllegalArgumentException("'" + METADATA_KEY + "' cannot be a tensor name");
            }
            HostTensor t = e.getValue();
            JsonObject o = new JsonObject();
            o.addProperty("dtype", t.dtype().name());
            JsonArray shape = new JsonArray();
            Arrays.stream(t.shape()).forEach(shape::add);
            o.add("shape", shape);
            JsonArray offsets = new JsonArray();
            offsets.add(offset);
            offset += t.byteSize();
            offsets.add(offset);
            o.add("data_offsets", offsets);
            root.add(e.getKey(), o);
        }
        byte[] json = Json.COMPACT.toJson(root).getBytes(StandardCharsets.UTF_8);
        int padded = (json.length + 7) / 8 * 8;
        byte[] out = Arrays.copyOf(json, padded);
        Arrays.fill(out, json.length, padded, (byte) ' ');
        return out;
    }
}
