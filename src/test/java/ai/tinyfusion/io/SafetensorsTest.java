package ai.tinyfusion.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SafetensorsTest {
    @TempDir
    Path tmp;

    /** A file made by hand: 8-byte little-endian header length, the header text, the data. */
    private Path rawFile(String name, String header, byte[] data) throws IOException {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + h.length + data.length).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(h.length).put(h).put(data);
        return Files.write(tmp.resolve(name), b.array());
    }

    private static LinkedHashMap<String, HostTensor> everyDtype() {
        LinkedHashMap<String, HostTensor> m = new LinkedHashMap<>();
        m.put("f64", HostTensor.ofDoubles(new double[] {0.1, -2e300}, 2));
        m.put("f32", HostTensor.ofFloats(new float[] {1, 2, 3, 4, 5, 6}, 2, 3));
        m.put("f16", HostTensor.ofBytes(DType.F16, new byte[] {0x00, 0x3c, 0x00, (byte) 0xc0}, 2));
        m.put("bf16", HostTensor.ofBytes(DType.BF16, new byte[] {(byte) 0xc0, 0x3f, 0x00, (byte) 0xc0}, 2, 1));
        m.put("i64", HostTensor.ofLongs(new long[] {Long.MIN_VALUE, 5}, 2));
        m.put("i32", HostTensor.ofInts(new int[] {-1}, 1));
        m.put("i16", HostTensor.ofBytes(DType.I16, new byte[] {0x00, (byte) 0x80}, 1));
        m.put("i8", HostTensor.ofBytes(DType.I8, new byte[] {-5, 6, 7}, 3));
        m.put("u8", HostTensor.ofBytes(DType.U8, new byte[] {(byte) 255}, 1, 1, 1));
        m.put("bool", HostTensor.ofBytes(DType.BOOL, new byte[] {1, 0}, 2));
        m.put("scalar", HostTensor.ofFloats(new float[] {7}, new long[0]));
        m.put("empty", HostTensor.ofFloats(new float[0], 0, 3));
        return m;
    }

    @Test
    void roundTripsEveryDtypeWithMetadata() throws IOException {
        LinkedHashMap<String, HostTensor> tensors = everyDtype();
        Map<String, String> metadata = Map.of("format", "pt", "note", "<pruned> & \"kept\" é");
        Path file = tmp.resolve("all.safetensors");
        Safetensors.write(file, tensors, metadata);
        LinkedHashMap<String, HostTensor> back = Safetensors.read(file);
        assertEquals(List.copyOf(tensors.keySet()), List.copyOf(back.keySet()));
        assertEquals(tensors, back);
        assertEquals(metadata, Safetensors.readMetadata(file));
        assertArrayEquals(new float[] {1.5f, -2f}, back.get("bf16").toFloatArray());
    }

    @Test
    void layoutMatchesTheReferenceFormat() throws IOException {
        Path file = tmp.resolve("a.safetensors");
        Safetensors.write(file, Map.of("a", HostTensor.ofFloats(new float[] {1, 2}, 2)), null);
        byte[] bytes = Files.readAllBytes(file);
        String json = "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}";
        assertEquals(54, json.length());
        ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        assertEquals(56, b.getLong(0), "header padded to a multiple of 8");
        assertEquals(json + "  ", new String(bytes, 8, 56, StandardCharsets.UTF_8));
        assertEquals(1f, b.getFloat(64));
        assertEquals(2f, b.getFloat(68));
        assertEquals(72, bytes.length);

        Safetensors.write(file, Map.of("a", HostTensor.ofFloats(new float[] {1}, 1)), Map.of("format", "pt"));
        String header = new String(Files.readAllBytes(file), 8, 64, StandardCharsets.UTF_8);
        assertTrue(header.startsWith("{\"__metadata__\":{\"format\":\"pt\"},\"a\":"), header);
    }

    @Test
    void readsAHandBuiltBf16File() throws IOException {
        byte[] data = {(byte) 0xc0, 0x3f, 0x00, (byte) 0xc0, 0x00, 0x3f, 0x40, 0x40}; // 1.5, -2, 0.5, 3
        Path file = rawFile(
                "bf16.safetensors", "{\"w\":{\"dtype\":\"BF16\",\"shape\":[2,2],\"data_offsets\":[0,8]}}", data);
        HostTensor w = Safetensors.read(file).get("w");
        assertEquals(DType.BF16, w.dtype());
        assertArrayEquals(new long[] {2, 2}, w.shape());
        assertArrayEquals(new float[] {1.5f, -2f, 0.5f, 3f}, w.toFloatArray());
    }

    @Test
    void headerOrderIsKeptWhateverTheDataOrder() throws IOException {
        byte[] data = TorchZips.floats(1, 2, 3, 4);
        Path file = rawFile(
                "order.safetensors",
                "{\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,16]},"
                        + "\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}",
                data);
        LinkedHashMap<String, HostTensor> t = Safetensors.read(file);
        assertEquals(List.of("b", "a"), List.copyOf(t.keySet()));
        assertArrayEquals(new float[] {3, 4}, t.get("b").toFloatArray());
        assertArrayEquals(new float[] {1, 2}, t.get("a").toFloatArray());
    }

    private static LinkedHashMap<String, HostTensor> fiveTensors() {
        LinkedHashMap<String, HostTensor> m = new LinkedHashMap<>();
        for (int i = 0; i < 5; i++) {
            float[] v = new float[100];
            Arrays.fill(v, i);
            m.put("blocks." + i + ".weight", HostTensor.ofFloats(v, 10, 10));
        }
        return m;
    }

    @Test
    void shardedRoundTrip() throws IOException {
        LinkedHashMap<String, HostTensor> tensors = fiveTensors();
        Path dir = tmp.resolve("sharded");
        Path index = Safetensors.writeSharded(dir, "model", tensors, Map.of("format", "pt"), 1000);
        assertEquals(dir.resolve("model.safetensors.index.json"), index);
        try (Stream<Path> files = Files.list(dir)) {
            assertEquals(
                    List.of(
                            "model-00001-of-00003.safetensors",
                            "model-00002-of-00003.safetensors",
                            "model-00003-of-00003.safetensors",
                            "model.safetensors.index.json"),
                    files.map(p -> p.getFileName().toString()).sorted().collect(Collectors.toList()));
        }
        JsonObject json = JsonParser.parseString(Files.readString(index)).getAsJsonObject();
        assertEquals(2000, json.getAsJsonObject("metadata").get("total_size").getAsLong());
        JsonObject weightMap = json.getAsJsonObject("weight_map");
        assertEquals(
                "model-00001-of-00003.safetensors",
                weightMap.get("blocks.1.weight").getAsString());
        assertEquals(
                "model-00002-of-00003.safetensors",
                weightMap.get("blocks.2.weight").getAsString());
        assertEquals(
                "model-00003-of-00003.safetensors",
                weightMap.get("blocks.4.weight").getAsString());
        assertEquals(
                2,
                Safetensors.read(dir.resolve("model-00002-of-00003.safetensors"))
                        .size());
        assertEquals(Map.of("format", "pt"), Safetensors.readMetadata(dir.resolve("model-00001-of-00003.safetensors")));

        for (Path source : List.of(index, dir)) {
            LinkedHashMap<String, HostTensor> back = Safetensors.read(source);
            assertEquals(List.copyOf(tensors.keySet()), List.copyOf(back.keySet()));
            assertEquals(tensors, back);
        }
        assertEquals(tensors, StateDicts.load(dir));
        assertEquals(tensors, StateDicts.load(index));
    }

    @Test
    void partitionGivesOversizedTensorsAShardOfTheirOwn() {
        LinkedHashMap<String, HostTensor> m = new LinkedHashMap<>();
        m.put("a", HostTensor.ofFloats(new float[25], 25));
        m.put("big", HostTensor.ofFloats(new float[1000], 1000));
        m.put("b", HostTensor.ofFloats(new float[25], 25));
        m.put("c", HostTensor.ofFloats(new float[25], 25));
        List<Map<String, HostTensor>> shards = SafetensorsIndex.partition(m, 200);
        assertEquals(
                List.of(List.of("a"), List.of("big"), List.of("b", "c")),
                shards.stream().map(s -> List.copyOf(s.keySet())).collect(Collectors.toList()));
        assertThrows(IllegalArgumentException.class, () -> Safetensors.writeSharded(tmp, "model", m, null, 0));
    }

    @Test
    void inconsistentShardSetsAreRejected() throws IOException {
        Path dir = tmp.resolve("bad");
        Path index = Safetensors.writeSharded(dir, "model", fiveTensors(), null, 1000);
        String good = Files.readString(index);

        Files.writeString(index, good.replace("model-00003-of-00003", "model-00009-of-00009"));
        IOException e = assertThrows(IOException.class, () -> Safetensors.read(index));
        assertTrue(e.getMessage().contains("shard model-00009-of-00009.safetensors is missing"), e.getMessage());

        Files.writeString(index, good.replace("model-00003-of-00003", "../model-00003-of-00003"));
        e = assertThrows(IOException.class, () -> Safetensors.read(index));
        assertTrue(e.getMessage().contains("must be a file name in the index's directory"), e.getMessage());

        Files.writeString(
                index, good.replace("\"blocks.4.weight\": \"model-00003", "\"blocks.4.weight\": \"model-00002"));
        e = assertThrows(IOException.class, () -> Safetensors.read(index));
        assertTrue(
                e.getMessage().contains("tensor 'blocks.4.weight' is not in shard model-00002-of-00003.safetensors"),
                e.getMessage());

        Files.writeString(
                index,
                good.replace(
                        "\"blocks.4.weight\": \"model-00003-of-00003.safetensors\"",
                        "\"x\": \"model-00003-of-00003.safetensors\""));
        e = assertThrows(IOException.class, () -> Safetensors.read(index));
        assertTrue(
                e.getMessage().contains("not in shard") || e.getMessage().contains("does not assign"), e.getMessage());

        Files.writeString(index, "{\"metadata\": {}}");
        e = assertThrows(IOException.class, () -> Safetensors.read(index));
        assertTrue(e.getMessage().contains("weight_map is not a JSON object"), e.getMessage());
    }

    @Test
    void directoriesResolveToTheirSafetensors() throws IOException {
        Path dir = Files.createDirectories(tmp.resolve("single"));
        IOException e = assertThrows(IOException.class, () -> Safetensors.read(dir));
        assertTrue(e.getMessage().contains("found none"), e.getMessage());
        Safetensors.write(dir.resolve("weights.safetensors"), everyDtype(), null);
        assertEquals(everyDtype(), Safetensors.read(dir));
        Safetensors.write(dir.resolve("model.safetensors"), fiveTensors(), null);
        assertEquals(fiveTensors(), Safetensors.read(dir));
    }

    private void assertCorrupt(String name, String header, byte[] data, String expected) throws IOException {
        Path file = rawFile(name, header, data);
        IOException e = assertThrows(IOException.class, () -> Safetensors.read(file), name);
        assertTrue(e.getMessage().startsWith(file.toString()), e.getMessage());
        assertTrue(e.getMessage().contains(expected), name + ": " + e.getMessage());
    }

    @Test
    void invalidHeadersNameTheProblem() throws IOException {
        byte[] eight = TorchZips.floats(1, 2);
        assertCorrupt("json.safetensors", "nonsense", eight, "not valid JSON");
        assertCorrupt("array.safetensors", "[1,2]", eight, "not a JSON object");
        assertCorrupt("trailing.safetensors", "{} {}", eight, "data after its JSON object");
        assertCorrupt(
                "overlap.safetensors",
                "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                        + "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}",
                eight,
                "overlaps");
        assertCorrupt(
                "gap.safetensors",
                "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}",
                eight,
                "gap in the data section before tensor 'a'");
        assertCorrupt(
                "extra.safetensors",
                "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}",
                eight,
                "4 trailing bytes");
        assertCorrupt(
                "size.safetensors",
                "{\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}",
                eight,
                "spans 8 bytes but its F32 shape [3] needs 12");
        assertCorrupt(
                "dtype.safetensors",
                "{\"a\":{\"dtype\":\"F8_E4M3\",\"shape\":[8],\"data_offsets\":[0,8]}}",
                eight,
                "unsupported dtype 'F8_E4M3'");
        assertCorrupt(
                "neg.safetensors",
                "{\"a\":{\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,8]}}",
                eight,
                "negative dimension");
        assertCorrupt(
                "float.safetensors",
                "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8.5]}}",
                eight,
                "not an integer");
        assertCorrupt(
                "offsets.safetensors",
                "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,0]}}",
                eight,
                "invalid data_offsets");
        assertCorrupt(
                "noshape.safetensors", "{\"a\":{\"dtype\":\"F32\",\"data_offsets\":[0,8]}}", eight, "shape is missing");
        assertCorrupt("meta.safetensors", "{\"__metadata__\":{\"epoch\":3}}", new byte[0], "metadata value 'epoch'");
        // Offsets beyond 2^31 are longs throughout: the file is simply too short for them.
        assertCorrupt(
                "huge.safetensors",
                "{\"a\":{\"dtype\":\"F32\",\"shape\":[2147483648],\"data_offsets\":[0,8589934592]}}",
                eight,
                "ends at byte 8589934592 of the data section, but the file holds only 8 data bytes (truncated?)");
    }

    @Test
    void truncatedAndTooShortFiles() throws IOException {
        Path file = tmp.resolve("t.safetensors");
        Safetensors.write(file, everyDtype(), null);
        byte[] all = Files.readAllBytes(file);
        Path cut = Files.write(tmp.resolve("cut.safetensors"), Arrays.copyOf(all, all.length - 3));
        IOException e = assertThrows(IOException.class, () -> Safetensors.read(cut));
        assertTrue(e.getMessage().contains("truncated"), e.getMessage());
        Path headerCut = Files.write(tmp.resolve("hcut.safetensors"), Arrays.copyOf(all, 40));
        e = assertThrows(IOException.class, () -> Safetensors.read(headerCut));
        assertTrue(e.getMessage().contains("invalid safetensors header length"), e.getMessage());
        Path tiny = Files.write(tmp.resolve("tiny.safetensors"), new byte[] {1, 2, 3});
        e = assertThrows(IOException.class, () -> Safetensors.read(tiny));
        assertTrue(e.getMessage().contains("too short for a safetensors file"), e.getMessage());
        byte[] huge = all.clone();
        ByteBuffer.wrap(huge).order(ByteOrder.LITTLE_ENDIAN).putLong(0, 1L << 40);
        Path hugeHeader = Files.write(tmp.resolve("huge.safetensors"), huge);
        e = assertThrows(IOException.class, () -> Safetensors.read(hugeHeader));
        assertTrue(e.getMessage().contains("invalid safetensors header length 1099511627776"), e.getMessage());
        byte[] badUtf8 = all.clone();
        badUtf8[9] = (byte) 0xff;
        Path invalid = Files.write(tmp.resolve("utf.safetensors"), badUtf8);
        e = assertThrows(IOException.class, () -> Safetensors.read(invalid));
        assertTrue(e.getMessage().contains("not valid UTF-8"), e.getMessage());
    }

    @Test
    void writingIsAtomicAndReplaces() throws IOException {
        Path file = tmp.resolve("w.safetensors");
        Safetensors.write(file, everyDtype(), null);
        Safetensors.write(file, fiveTensors(), null);
        assertEquals(fiveTensors(), Safetensors.read(file));
        try (Stream<Path> files = Files.list(tmp)) {
            assertEquals(List.of(file), files.collect(Collectors.toList()), "no temporary file is left behind");
        }
        Map<String, HostTensor> reserved = Map.of("__metadata__", HostTensor.ofFloats(new float[] {1}, 1));
        assertThrows(IllegalArgumentException.class, () -> Safetensors.write(file, reserved, null));
        assertEquals(fiveTensors(), Safetensors.read(file));
    }
}
