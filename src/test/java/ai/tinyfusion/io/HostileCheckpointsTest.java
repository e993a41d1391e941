package ai.tinyfusion.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;

/**
 * Regression tests for issue #21: files that once made a loader hang, run out of memory or end in
 * an unexplained exception now fail quickly with an IOException naming the file, the entry or
 * tensor, and the problem.
 */
class HostileCheckpointsTest {
    /** A hang guard, not a speed test: each case fails in milliseconds. */
    private static final Duration HANG_GUARD = Duration.ofSeconds(10);

    @TempDir
    Path tmp;

    /** Fails unless {@code run} throws an IOException, within the hang guard, whose message holds every part. */
    private static IOException assertFails(Executable run, String... parts) {
        IOException e = assertTimeoutPreemptively(HANG_GUARD, () -> assertThrows(IOException.class, run));
        for (String part : parts) {
            assertTrue(e.getMessage().contains(part), "missing '" + part + "' in: " + e.getMessage());
        }
        return e;
    }

    /** The start of a pickled state dict: an empty OrderedDict on the stack. */
    private static PickleWriter stateDict() {
        return new PickleWriter()
                .proto(2)
                .global("collections", "OrderedDict")
                .op(')')
                .reduce();
    }

    /** Adds tensor {@code name}, a view of float storage "0" of {@code numel} elements from offset 0. */
    private static PickleWriter withTensor(PickleWriter w, String name, long numel, long[] shape, long[] stride) {
        return w.str(name).tensor("FloatStorage", "0", numel, 0, shape, stride).op('s');
    }

    // ---- hangs ----

    /**
     * Pushes t(depth), where t(0) = "x" and t(i) = (t(i-1), t(i-1)) through the memo: under 200
     * bytes that unfold to 2^depth items when hashed.
     */
    private static PickleWriter memoSharedTuple(PickleWriter w, int depth) {
        w.shortStr("x");
        for (int i = 0; i < depth; i++) {
            w.put(i).get(i).op(0x86); // BINPUT i, BINGET i, TUPLE2
        }
        return w;
    }

    @Test
    void memoSharedTupleAsADictKeyDoesNotHang() throws IOException {
        byte[] pkl = memoSharedTuple(new PickleWriter().proto(2).op('}'), 32)
                .integer(1)
                .op('s')
                .stop()
                .bytes();
        assertTrue(pkl.length < 1024, "the hostile pickle is " + pkl.length + " bytes");
        Path file = TorchZips.write(tmp.resolve("keyhang.pt"), pkl, Map.of());
        assertFails(
                () -> TorchCheckpoint.read(file),
                file + ": data.pkl: ",
                "dict key or set item unfolds to more than 4096");
    }

    @Test
    void memoSharedTupleAsASetItemDoesNotHang() throws IOException {
        byte[] pkl = memoSharedTuple(new PickleWriter().proto(4).op(0x8f).mark(), 32) // EMPTY_SET, MARK
                .op(0x90) // ADDITEMS
                .stop()
                .bytes();
        Path file = TorchZips.write(tmp.resolve("sethang.pt"), pkl, Map.of());
        assertFails(() -> StateDicts.load(file), file.toString(), "data.pkl", "set item unfolds to more than 4096");
    }

    @Test
    void smallSharedTupleKeysAreStillAccepted() throws IOException {
        // (("x", "x"), ("x", "x")) is 7 items: well under the cap, as any real key is.
        byte[] pkl = memoSharedTuple(new PickleWriter().proto(2).op('}'), 2)
                .integer(1)
                .op('s')
                .stop()
                .bytes();
        Map<?, ?> dict = (Map<?, ?>) PickleReader.forStateDicts().load(pkl);
        assertEquals(1, dict.size());
    }

    // ---- out of memory ----

    /** Writes deflated entries (as an npz from savez_compressed, or a zip bomb). */
    private static Path deflated(Path file, Map<String, byte[]> entries) throws IOException {
        try (OutputStream os = Files.newOutputStream(file);
                ZipOutputStream zip = new ZipOutputStream(os)) {
            for (Map.Entry<String, byte[]> e : entries.entrySet()) {
                zip.putNextEntry(new ZipEntry(e.getKey()));
                zip.write(e.getValue());
                zip.closeEntry();
            }
        }
        return file;
    }

    @Test
    void dataPklThatInflatesPastThePickleLimitIsRefusedBeforeInflating() throws IOException {
        byte[] bomb = new byte[(16 << 20) + 1]; // 16 MiB + 1 of zeros deflate to ~17 KB
        Path file = deflated(tmp.resolve("bomb.pt"), Map.of("archive/data.pkl", bomb));
        assertTrue(Files.size(file) < 100_000);
        assertFails(
                () -> TorchCheckpoint.read(file),
                file + ": cannot read entry archive/data.pkl",
                "needs 16777217 bytes, more than the limit of 16777216 bytes (set by -Dtinyfusion.io.maxPickleBytes)");
    }

    @Test
    void thePickleLimitIsConfigurable() throws IOException {
        byte[] pkl = withTensor(stateDict(), "w", 2, new long[] {2}, new long[] {1})
                .stop()
                .bytes();
        Path file = TorchZips.write(tmp.resolve("ok.pt"), pkl, Map.of("0", TorchZips.floats(1, 2)));
        assertEquals(1, TorchCheckpoint.read(file).size());
        LoadLimits tight = new LoadLimits(pkl.length - 1, LoadLimits.BUFFER_MAX);
        assertFails(
                () -> TorchCheckpoint.read(file, TorchCheckpoint.AUTO, tight),
                file + ": cannot read entry archive/data.pkl",
                "limit of " + (pkl.length - 1) + " bytes");
    }

    @Test
    void npzMemberDeclaringAHugeArrayIsRefusedBeforeAllocating() throws IOException {
        // A 2 GB float16 array declared by the header of a member that holds 64 data bytes.
        byte[] header = NpyHeader.encode(DType.F16, new long[] {1_000_000_000L});
        byte[] member = new byte[header.length + 64];
        System.arraycopy(header, 0, member, 0, header.length);
        Path file = deflated(tmp.resolve("huge.npz"), Map.of("arr_0.npy", member));
        assertFails(
                () -> Npz.read(file),
                file + ":arr_0.npy: ",
                "declares a F16 array of shape [1000000000] (2000000000 bytes) but the member holds 64 data bytes");
    }

    @Test
    void npzArrayOverTheTensorLimitIsRefusedBeforeAllocating() throws IOException {
        Path file = tmp.resolve("big.npz");
        Npz.write(file, Map.of("arr_0", HostTensor.ofFloats(new float[1 << 14], 1 << 14)), true);
        LoadLimits tight = new LoadLimits(1 << 20, 1 << 12);
        try (Npz.Archive npz = Npz.open(file, tight)) {
            assertFails(
                    () -> npz.get("arr_0"),
                    file + ":arr_0.npy: array of shape [16384] needs 65536 bytes, more than the limit of 4096 bytes");
        }
        assertEquals(1 << 14, Npz.read(file).get("arr_0").numel());
    }

    @Test
    void torchStorageOverTheTensorLimitIsRefusedBeforeReading() throws IOException {
        byte[] pkl = withTensor(stateDict(), "w", 1024, new long[] {1024}, new long[] {1})
                .stop()
                .bytes();
        Path file = TorchZips.write(tmp.resolve("storage.pt"), pkl, Map.of("0", TorchZips.arange(1024)));
        assertFails(
                () -> TorchCheckpoint.read(file, TorchCheckpoint.AUTO, new LoadLimits(1 << 20, 1000)),
                file + ": storage '0' needs 4096 bytes, more than the limit of 1000 bytes");
    }

    // ---- unexplained exceptions ----

    @Test
    void secondTensorNamingALoadedStorageWithALargerSize() throws IOException {
        byte[] pkl = withTensor(
                        withTensor(stateDict(), "a", 4, new long[] {4}, new long[] {1}),
                        "b",
                        1000,
                        new long[] {1000},
                        new long[] {1})
                .stop()
                .bytes();
        Path file = TorchZips.write(tmp.resolve("regrow.pt"), pkl, Map.of("0", TorchZips.arange(4)));
        assertFails(
                () -> TorchCheckpoint.read(file),
                file + ": tensor 'b' names storage '0' with 1000 elements, but an earlier tensor named it with 4");
    }

    private Path zeroStrideView(String name, long size) throws IOException {
        byte[] pkl = withTensor(stateDict(), "w", 1, new long[] {size}, new long[] {0})
                .stop()
                .bytes();
        return TorchZips.write(tmp.resolve(name), pkl, Map.of("0", TorchZips.floats(1)));
    }

    @Test
    void zeroStrideViewWhoseByteCountOverflows() throws IOException {
        Path file = zeroStrideView("overflow.pt", 1L << 62);
        assertFails(
                () -> TorchCheckpoint.read(file),
                file + ": tensor 'w': shape [4611686018427387904] has too many bytes");
    }

    @Test
    void oversizedZeroStrideView() throws IOException {
        Path file = zeroStrideView("oversized.pt", 600_000_000L);
        assertFails(
                () -> TorchCheckpoint.read(file),
                file + ": tensor 'w' (size [600000000], stride [0]) needs 2400000000 bytes, more than the limit of "
                        + LoadLimits.BUFFER_MAX + " bytes (one buffer holds at most 2 GiB)");
    }

    @Test
    void smallZeroStrideViewsStillBroadcast() throws IOException {
        Path file = zeroStrideView("broadcast.pt", 3);
        HostTensor w = TorchCheckpoint.read(file).get("w");
        assertEquals(3, w.numel());
        assertEquals(1.0f, w.data().getFloat(8));
    }

    /** Sets the comment length of the zip's end record (the file has no comment) to 100. */
    private static Path damageCommentLength(Path file) throws IOException {
        byte[] bytes = Files.readAllBytes(file);
        bytes[bytes.length - 2] = 100;
        return Files.write(file, bytes);
    }

    @Test
    void damagedZipCommentLength() throws IOException {
        byte[] pkl = stateDict().stop().bytes();
        Path pt = damageCommentLength(TorchZips.write(tmp.resolve("comment.pt"), pkl, Map.of()));
        assertFails(() -> TorchCheckpoint.read(pt), pt + ": corrupt or truncated zip archive (EOFException)");
        assertFails(() -> StateDicts.load(pt), pt + ": corrupt or truncated zip archive (EOFException)");
        Path npz = tmp.resolve("comment.npz");
        Npz.write(npz, new LinkedHashMap<>(Map.of("arr_0", HostTensor.ofFloats(new float[] {1}, 1))));
        damageCommentLength(npz);
        assertFails(() -> Npz.read(npz), npz + ": corrupt or truncated .npz archive (EOFException)");
    }

    // ---- JSON headers and sharded indexes (found by the fuzz test of issue #21) ----

    /** A safetensors file with the given header text and no data. */
    private Path safetensorsWithHeader(String name, String header) throws IOException {
        byte[] json = header.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(8 + json.length).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        return Files.write(tmp.resolve(name), b.putLong(json.length).put(json).array());
    }

    @Test
    void deeplyNestedJsonHeaderFailsInsteadOfOverflowingTheStack() throws IOException {
        int depth = 200_000;
        Path file = safetensorsWithHeader("deep.safetensors", "{\"x\":" + "[".repeat(depth) + "]".repeat(depth) + "}");
        assertFails(() -> Safetensors.read(file), file + ": header nests arrays or objects more than 64 deep");
    }

    @Test
    void repeatedHeaderKeyIsRefused() throws IOException {
        String entry = "\"w\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[0,0]}";
        Path file = safetensorsWithHeader("twice.safetensors", "{" + entry + "," + entry + "}");
        assertFails(() -> Safetensors.read(file), file + ": header has the key 'w' twice");
    }

    /** A sharded set of two tensors in two shards, and a copy of the first shard outside its directory. */
    private Path shardedSet() throws IOException {
        Map<String, HostTensor> tensors = new LinkedHashMap<>();
        tensors.put("a", HostTensor.ofFloats(new float[] {1, 2}, 2));
        tensors.put("b", HostTensor.ofFloats(new float[] {3, 4}, 2));
        Path index = Safetensors.writeSharded(tmp.resolve("set"), "model", tensors, Map.of(), 8);
        Files.copy(index.resolveSibling("model-00001-of-00002.safetensors"), tmp.resolve("outside.safetensors"));
        return index;
    }

    private static Path writeIndex(Path index, String weightMap) throws IOException {
        return Files.writeString(index, "{\"metadata\":{},\"weight_map\":" + weightMap + "}");
    }

    @Test
    void shardNamesThatLeaveTheDirectoryAreRefusedEvenWhenTheFileExists() throws IOException {
        Path index = shardedSet();
        Path outside = tmp.resolve("outside.safetensors");
        for (String name : new String[] {
            "../outside.safetensors", outside.toString(), "./model-00002-of-00002.safetensors", "..", ".", ""
        }) {
            writeIndex(
                    index, "{\"a\":\"" + name.replace("\\", "\\\\") + "\",\"b\":\"model-00002-of-00002.safetensors\"}");
            assertFails(() -> Safetensors.read(index), index.toString(), "'" + name + "' must be a file name");
        }
    }

    @Test
    void tensorInTwoShardsRepeatedKeysEmptyAndHugeIndexesAreRefused() throws IOException {
        Path index = shardedSet();
        String first = "model-00001-of-00002.safetensors";
        String second = "model-00002-of-00002.safetensors";
        // "a" in two shards: the third holds "a" and "b" and the map names it for "b" only
        Map<String, HostTensor> both = new LinkedHashMap<>(StateDicts.load(index));
        Safetensors.write(index.resolveSibling("third.safetensors"), both, Map.of());
        writeIndex(index, "{\"a\":\"" + first + "\",\"b\":\"third.safetensors\"}");
        assertFails(() -> Safetensors.read(index), index + ": shard third.safetensors holds tensor 'a'");
        writeIndex(index, "{\"a\":\"" + first + "\",\"a\":\"" + second + "\",\"b\":\"" + second + "\"}");
        assertFails(() -> Safetensors.read(index), index + ": index has the key 'a' twice");
        writeIndex(index, "{}");
        assertFails(() -> Safetensors.read(index), index + ": weight_map names no tensors");
        try (java.io.RandomAccessFile f = new java.io.RandomAccessFile(index.toFile(), "rw")) {
            f.setLength(SafetensorsIndex.MAX_INDEX_BYTES + 1); // sparse: nothing is written
        }
        assertFails(() -> Safetensors.read(index), index + ": index has " + (SafetensorsIndex.MAX_INDEX_BYTES + 1));
    }

    /**
     * A zip of {@code entries} (stored) where the central directory gives the first entry a comment
     * that is not valid UTF-8: names are checked when the JDK opens an archive, comments only when
     * it lists the entries, and then with an IllegalArgumentException ("malformed input ...").
     */
    private Path zipWithBadComment(String name, Map<String, byte[]> entries) throws IOException {
        Path file = tmp.resolve(name);
        try (ZipOutputStream zip = new ZipOutputStream(Files.newOutputStream(file))) {
            boolean first = true;
            for (Map.Entry<String, byte[]> e : entries.entrySet()) {
                ZipEntry entry = new ZipEntry(e.getKey());
                if (first) {
                    entry.setComment("QQ");
                    first = false;
                }
                zip.putNextEntry(entry);
                zip.write(e.getValue());
                zip.closeEntry();
            }
        }
        byte[] bytes = Files.readAllBytes(file);
        int replaced = 0;
        for (int i = 0; i + 1 < bytes.length; i++) {
            if (bytes[i] == 'Q' && bytes[i + 1] == 'Q') {
                bytes[i] = (byte) 0xc3;
                bytes[i + 1] = '(';
                replaced++;
            }
        }
        assertEquals(1, replaced);
        return Files.write(file, bytes);
    }

    /** Found by the 20,000-mutant fuzz run: the JDK threw IllegalArgumentException("malformed input ..."). */
    @Test
    void entryCommentThatIsNotUtf8() throws IOException {
        byte[] npy = Npy.toBytes(HostTensor.ofFloats(new float[] {1}, 1));
        Path npz = zipWithBadComment("comment.npz", new LinkedHashMap<>(Map.of("arr_0.npy", npy)));
        assertFails(() -> Npz.read(npz), npz + ": corrupt .npz archive: an entry name or comment is not valid UTF-8");
        assertFails(
                () -> StateDicts.load(npz), npz + ": corrupt zip archive: an entry name or comment is not valid UTF-8");
        Map<String, byte[]> torch = new LinkedHashMap<>();
        torch.put("archive/data.pkl", stateDict().stop().bytes());
        Path pt = zipWithBadComment("comment.pt", torch);
        assertFails(
                () -> TorchCheckpoint.read(pt),
                pt + ": corrupt zip archive: an entry name or comment is not valid UTF-8");
    }
}
