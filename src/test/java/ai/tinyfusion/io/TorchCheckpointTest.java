package ai.tinyfusion.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.tinyfusion.Fixtures;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Enumeration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TorchCheckpointTest {
    @TempDir
    Path tmp;

    private static Path fixture() {
        return Fixtures.reference("dit_small.pt");
    }

    // ---- the real fixture ----

    @Test
    void fixtureKeysAndShapes() throws IOException {
        LinkedHashMap<String, HostTensor> sd = TorchCheckpoint.read(fixture());
        assertEquals(52, sd.size());
        List<String> keys = List.copyOf(sd.keySet());
        assertEquals("pos_embed", keys.get(0));
        assertEquals("x_embedder.proj.weight", keys.get(1));
        assertEquals("final_layer.adaLN_modulation.1.bias", keys.get(51));
        assertArrayEquals(new long[] {1, 16, 64}, sd.get("pos_embed").shape());
        assertArrayEquals(
                new long[] {64, 4, 2, 2}, sd.get("x_embedder.proj.weight").shape());
        assertArrayEquals(
                new long[] {11, 64}, sd.get("y_embedder.embedding_table.weight").shape());
        assertArrayEquals(
                new long[] {192, 64}, sd.get("blocks.0.attn.qkv.weight").shape());
        assertArrayEquals(new long[] {64}, sd.get("blocks.3.mlp.fc2.bias").shape());
        assertArrayEquals(
                new long[] {32, 64}, sd.get("final_layer.linear.weight").shape());
        for (HostTensor t : sd.values()) {
            assertEquals(DType.F32, t.dtype());
        }
    }

    /** Sums, first and last elements as Python (zipfile + pickle + numpy) reads them from the same file. */
    @Test
    void fixtureValuesMatchPython() throws IOException {
        LinkedHashMap<String, HostTensor> sd = TorchCheckpoint.read(fixture());
        checkValues(sd.get("pos_embed"), 525.9784436438931, 0.0f, 0.9999998807907104f);
        checkValues(sd.get("x_embedder.proj.weight"), -0.9040786453915644, 0.044625259935855865f, -0.0659649595618248f);
        checkValues(
                sd.get("y_embedder.embedding_table.weight"),
                2.1738552653614533,
                0.018651137128472328f,
                -0.03745383396744728f);
        checkValues(
                sd.get("blocks.0.attn.qkv.weight"), -11.36491137921496, 0.054968055337667465f, -0.0006702518439851701f);
        checkValues(sd.get("blocks.3.mlp.fc2.bias"), 0.2383869694895111, -0.04911156743764877f, 0.0020311062689870596f);
        checkValues(
                sd.get("final_layer.adaLN_modulation.1.bias"),
                -0.10815902706235647,
                0.03772040456533432f,
                -0.025806089863181114f);
    }

    private static void checkValues(HostTensor t, double sum, float first, float last) {
        float[] v = t.toFloatArray();
        double s = 0;
        for (float x : v) {
            s += x;
        }
        assertEquals(sum, s, 1e-9);
        assertEquals(first, v[0], 0f);
        assertEquals(last, v[v.length - 1], 0f);
    }

    /** Every tensor's bytes equal its raw storage entry (all fixture tensors are whole contiguous storages). */
    @Test
    void fixtureTensorsEqualTheirRawStorages() throws IOException {
        LinkedHashMap<String, HostTensor> sd = TorchCheckpoint.read(fixture());
        Map<?, ?> refs;
        try (ZipFile zip = new ZipFile(fixture().toFile())) {
            refs = (Map<?, ?>) PickleReader.forStateDicts()
                    .load(zip.getInputStream(zip.getEntry("dit_small/data.pkl")).readAllBytes());
            for (Map.Entry<String, HostTensor> e : sd.entrySet()) {
                TorchTensorRef ref = (TorchTensorRef) refs.get(e.getKey());
                assertEquals(0, ref.offset());
                assertEquals(e.getValue().numel(), ref.storage().numel());
                byte[] raw;
                try (InputStream in = zip.getInputStream(
                        zip.getEntry("dit_small/data/" + ref.storage().key()))) {
                    raw = in.readAllBytes();
                }
                assertEquals(ByteBuffer.wrap(raw), e.getValue().data(), e.getKey());
            }
        }
    }

    @Test
    void topLevelStateDictIsNotASection() {
        IOException e = assertThrows(IOException.class, () -> TorchCheckpoint.read(fixture(), "ema"));
        assertTrue(e.getMessage().contains("section 'ema' not found"), e.getMessage());
        assertTrue(e.getMessage().contains("use 'auto'"), e.getMessage());
    }

    // ---- sections of a DiT training checkpoint ----

    private Path trainingCheckpoint() throws IOException {
        PickleWriter w = new PickleWriter().proto(2).op('}').mark();
        w.str("model");
        stateDict(w, "0", "1");
        w.str("ema");
        stateDict(w, "2", "3");
        w.str("opt")
                .op('}')
                .mark()
                .str("state")
                .op('}')
                .str("param_groups")
                .op(']')
                .mark()
                .op('}')
                .str("lr")
                .op('G')
                .raw(new byte[] {0x3f, 0x1a, 0x36, (byte) 0xe2, (byte) 0xeb, 0x1c, 0x43, 0x2d})
                .op('s')
                .op('e')
                .op('u');
        w.str("args")
                .global("argparse", "Namespace")
                .op(')')
                .op(0x81)
                .mark()
                .str("model")
                .str("DiT-S/2")
                .str("epochs")
                .integer(1400)
                .op('d')
                .op('b');
        w.op('u').stop();
        Map<String, byte[]> storages = new LinkedHashMap<>();
        storages.put("0", TorchZips.floats(1, 2));
        storages.put("1", TorchZips.floats(3));
        storages.put("2", TorchZips.floats(10, 20));
        storages.put("3", TorchZips.floats(30));
        return TorchZips.write(tmp.resolve("train.pt"), w.bytes(), storages);
    }

    private static void stateDict(PickleWriter w, String weightKey, String biasKey) {
        w.global("collections", "OrderedDict")
                .op(')')
                .reduce()
                .mark()
                .str("w")
                .tensor("FloatStorage", weightKey, 2, 0, new long[] {2}, new long[] {1})
                .str("b")
                .tensor("FloatStorage", biasKey, 1, 0, new long[] {1}, new long[] {1})
                .op('u');
    }

    @Test
    void autoPrefersEmaThenModel() throws IOException {
        Path file = trainingCheckpoint();
        Map<String, HostTensor> auto = TorchCheckpoint.read(file);
        assertArrayEquals(new float[] {10, 20}, auto.get("w").toFloatArray());
        assertArrayEquals(new float[] {30}, auto.get("b").toFloatArray());
        assertEquals(auto, TorchCheckpoint.read(file, "ema"));
        Map<String, HostTensor> model = TorchCheckpoint.read(file, "model");
        assertArrayEquals(new float[] {1, 2}, model.get("w").toFloatArray());
        assertEquals(List.of("w", "b"), List.copyOf(model.keySet()));
    }

    @Test
    void alternativeSectionsAreTriedInOrder() throws IOException {
        Path file = trainingCheckpoint();
        // MAR's checkpoints: 'model_ema' when present, else 'model', else what 'auto' finds
        assertEquals(TorchCheckpoint.read(file, "model"), TorchCheckpoint.read(file, "model_ema|model|auto"));
        assertEquals(TorchCheckpoint.read(file, "ema"), TorchCheckpoint.read(file, "model_ema|ema|model"));
        assertEquals(TorchCheckpoint.read(file, "ema"), TorchCheckpoint.read(file, "model_ema|auto"));
        assertEquals(TorchCheckpoint.read(fixture()), TorchCheckpoint.read(fixture(), "model_ema|model|auto"));
        IOException e = assertThrows(IOException.class, () -> TorchCheckpoint.read(file, "student|teacher"));
        assertTrue(e.getMessage().contains("section 'student|teacher' not found"), e.getMessage());
    }

    @Test
    void missingSectionListsTheAvailableOnes() throws IOException {
        Path file = trainingCheckpoint();
        IOException e = assertThrows(IOException.class, () -> TorchCheckpoint.read(file, "student"));
        assertTrue(e.getMessage().contains(file.toString()), e.getMessage());
        assertTrue(
                e.getMessage().contains("section 'student' not found; available sections: [model, ema]"),
                e.getMessage());
        e = assertThrows(IOException.class, () -> TorchCheckpoint.read(file, "opt"));
        assertTrue(e.getMessage().contains("holds no tensors"), e.getMessage());
    }

    @Test
    void checkpointWithoutStateDict() throws IOException {
        PickleWriter w = new PickleWriter()
                .proto(2)
                .op('}')
                .str("epoch")
                .integer(3)
                .op('s')
                .stop();
        Path file = TorchZips.write(tmp.resolve("x.pt"), w.bytes(), Map.of());
        IOException e = assertThrows(IOException.class, () -> TorchCheckpoint.read(file));
        assertTrue(e.getMessage().contains("no state dict found"), e.getMessage());
        assertTrue(e.getMessage().contains("[epoch]"), e.getMessage());
    }

    // ---- views, dtypes and byte order ----

    @Test
    void stridedSharedAndBroadcastViews() throws IOException {
        PickleWriter w = new PickleWriter()
                .proto(2)
                .global("collections", "OrderedDict")
                .op(')')
                .reduce()
                .mark()
                .str("full")
                .tensor("FloatStorage", "0", 12, 0, new long[] {3, 4}, new long[] {4, 1})
                .str("transposed")
                .tensor("FloatStorage", "0", 12, 0, new long[] {4, 3}, new long[] {1, 4})
                .str("slice")
                .tensor("FloatStorage", "0", 12, 2, new long[] {3}, new long[] {1})
                .str("every_other")
                .tensor("FloatStorage", "0", 12, 1, new long[] {3}, new long[] {2})
                .str("broadcast")
                .tensor("FloatStorage", "0", 12, 6, new long[] {2, 3}, new long[] {0, 1})
                .str("column")
                .tensor("FloatStorage", "0", 12, 1, new long[] {3, 1}, new long[] {4, 7})
                .str("scalar")
                .tensor("FloatStorage", "0", 12, 11, new long[] {}, new long[] {})
                .str("empty")
                .tensor("FloatStorage", "0", 12, 0, new long[] {0, 5}, new long[] {5, 1})
                .op('u')
                .stop();
        Path file = TorchZips.write(tmp.resolve("views.pt"), w.bytes(), Map.of("0", TorchZips.arange(12)));
        Map<String, HostTensor> sd = TorchCheckpoint.read(file);
        assertArrayEquals(
                new float[] {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11},
                sd.get("full").toFloatArray());
        assertArrayEquals(
                new float[] {0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11},
                sd.get("transposed").toFloatArray());
        assertArrayEquals(new long[] {4, 3}, sd.get("transposed").shape());
        assertArrayEquals(new float[] {2, 3, 4}, sd.get("slice").toFloatArray());
        assertArrayEquals(new float[] {1, 3, 5}, sd.get("every_other").toFloatArray());
        assertArrayEquals(new float[] {6, 7, 8, 6, 7, 8}, sd.get("broadcast").toFloatArray());
        assertArrayEquals(new float[] {1, 5, 9}, sd.get("column").toFloatArray());
        assertArrayEquals(new float[] {11}, sd.get("scalar").toFloatArray());
        assertEquals(0, sd.get("scalar").rank());
        assertEquals(0, sd.get("empty").numel());
        assertArrayEquals(new long[] {0, 5}, sd.get("empty").shape());
    }

    @Test
    void parametersAndEveryStorageType() throws IOException {
        PickleWriter w = new PickleWriter()
                .proto(2)
                .global("collections", "OrderedDict")
                .op(')')
                .reduce()
                .mark();
        w.str("param")
                .global("torch._utils", "_rebuild_parameter")
                .mark()
                .tensor("BFloat16Storage", "bf", 2, 0, new long[] {2}, new long[] {1})
                .op(0x88)
                .global("collections", "OrderedDict")
                .op(')')
                .reduce()
                .tuple()
                .reduce();
        w.str("half").tensor("HalfStorage", "h", 2, 0, new long[] {2}, new long[] {1});
        w.str("long").tensor("LongStorage", "l", 2, 0, new long[] {2}, new long[] {1});
        w.str("bool").tensor("BoolStorage", "b", 3, 0, new long[] {3}, new long[] {1});
        w.str("byte").tensor("ByteStorage", "u", 2, 0, new long[] {2}, new long[] {1});
        w.str("double").tensor("DoubleStorage", "d", 1, 0, new long[] {1}, new long[] {1});
        w.str("v1")
                .global("torch._utils", "_rebuild_tensor")
                .mark()
                .mark()
                .str("storage")
                .global("torch", "IntStorage")
                .str("i")
                .str("cuda:0")
                .integer(2)
                .tuple()
                .op('Q')
                .integer(1)
                .ints(1)
                .ints(1)
                .tuple()
                .reduce();
        w.op('u').stop();
        Map<String, byte[]> storages = new LinkedHashMap<>();
        storages.put("bf", new byte[] {(byte) 0xc0, 0x3f, 0x00, (byte) 0xc0}); // 1.5, -2 as bfloat16
        storages.put("h", new byte[] {0x00, 0x3c, (byte) 0xff, 0x7b}); // 1.0, 65504 as float16
        storages.put("l", le(8, -3L, 1L << 40));
        storages.put("b", new byte[] {1, 0, 1});
        storages.put("u", new byte[] {(byte) 200, 7});
        storages.put("d", le(8, Double.doubleToLongBits(0.1)));
        storages.put("i", le(4, 5, -6));
        Map<String, HostTensor> sd =
                TorchCheckpoint.read(TorchZips.write(tmp.resolve("dtypes.pt"), w.bytes(), storages));
        assertEquals(DType.BF16, sd.get("param").dtype());
        assertArrayEquals(new float[] {1.5f, -2f}, sd.get("param").toFloatArray());
        assertEquals(DType.F16, sd.get("half").dtype());
        assertArrayEquals(new float[] {1f, 65504f}, sd.get("half").toFloatArray());
        assertArrayEquals(new long[] {-3, 1L << 40}, sd.get("long").toLongArray());
        assertArrayEquals(new long[] {1, 0, 1}, sd.get("bool").toLongArray());
        assertEquals(DType.BOOL, sd.get("bool").dtype());
        assertArrayEquals(new long[] {200, 7}, sd.get("byte").toLongArray());
        assertArrayEquals(new double[] {0.1}, sd.get("double").toDoubleArray());
        assertEquals(DType.I32, sd.get("v1").dtype());
        assertArrayEquals(new long[] {-6}, sd.get("v1").toLongArray());
    }

    @Test
    void bigEndianArchivesAreConverted() throws IOException {
        PickleWriter w = new PickleWriter()
                .proto(2)
                .global("collections", "OrderedDict")
                .op(')')
                .reduce()
                .str("x")
                .tensor("FloatStorage", "0", 2, 0, new long[] {2}, new long[] {1})
                .op('s')
                .stop();
        byte[] big = ByteBuffer.allocate(8)
                .order(ByteOrder.BIG_ENDIAN)
                .putFloat(1.25f)
                .putFloat(-3f)
                .array();
        Map<String, byte[]> entries = new LinkedHashMap<>();
        entries.put("archive/data.pkl", w.bytes());
        entries.put("archive/byteorder", "big".getBytes(StandardCharsets.US_ASCII));
        entries.put("archive/data/0", big);
        Map<String, HostTensor> sd = TorchCheckpoint.read(TorchZips.writeEntries(tmp.resolve("big.pt"), entries));
        assertArrayEquals(new float[] {1.25f, -3f}, sd.get("x").toFloatArray());
    }

    // ---- refusals and corrupt input ----

    @Test
    void refusesOsSystem() throws IOException {
        byte[] pkl = new PickleWriter()
                .proto(2)
                .global("os", "system")
                .mark()
                .str("echo pwned")
                .tuple()
                .reduce()
                .stop()
                .bytes();
        Path file = TorchZips.write(tmp.resolve("evil.pt"), pkl, Map.of());
        UnsafeCheckpointException e = assertThrows(UnsafeCheckpointException.class, () -> TorchCheckpoint.read(file));
        assertTrue(e.getMessage().contains("os.system"), e.getMessage());
        assertTrue(e.getMessage().contains(file.toString()), e.getMessage());
        assertTrue(e.getMessage().contains("only state-dict globals are allowed"), e.getMessage());
    }

    @Test
    void refusesAGlobalHiddenInsideAStateDict() throws IOException {
        byte[] pkl = new PickleWriter()
                .proto(2)
                .global("collections", "OrderedDict")
                .op(')')
                .reduce()
                .mark()
                .str("w")
                .tensor("FloatStorage", "0", 1, 0, new long[] {1}, new long[] {1})
                .str("x")
                .global("torch.storage", "_load_from_bytes")
                .mark()
                .op('C')
                .op(1)
                .raw((byte) 0)
                .tuple()
                .reduce()
                .op('u')
                .stop()
                .bytes();
        Path file = TorchZips.write(tmp.resolve("evil2.pt"), pkl, Map.of("0", TorchZips.floats(1)));
        UnsafeCheckpointException e = assertThrows(UnsafeCheckpointException.class, () -> StateDicts.load(file));
        assertTrue(e.getMessage().contains("torch.storage._load_from_bytes"), e.getMessage());
    }

    @Test
    void viewsOutsideTheirStorageAreRejected() throws IOException {
        byte[] pkl = new PickleWriter()
                .proto(2)
                .global("collections", "OrderedDict")
                .op(')')
                .reduce()
                .str("w")
                .tensor("FloatStorage", "0", 4, 2, new long[] {2, 2}, new long[] {2, 1})
                .op('s')
                .stop()
                .bytes();
        Path file = TorchZips.write(tmp.resolve("oob.pt"), pkl, Map.of("0", TorchZips.arange(4)));
        IOException e = assertThrows(IOException.class, () -> TorchCheckpoint.read(file));
        assertTrue(e.getMessage().contains("reaches outside storage '0' of 4 elements"), e.getMessage());
    }

    @Test
    void storageOfTheWrongSizeOrMissing() throws IOException {
        byte[] pkl = new PickleWriter()
                .proto(2)
                .global("collections", "OrderedDict")
                .op(')')
                .reduce()
                .str("w")
                .tensor("FloatStorage", "0", 4, 0, new long[] {4}, new long[] {1})
                .op('s')
                .stop()
                .bytes();
        Path shortStorage = TorchZips.write(tmp.resolve("short.pt"), pkl, Map.of("0", TorchZips.arange(3)));
        IOException e = assertThrows(IOException.class, () -> TorchCheckpoint.read(shortStorage));
        assertTrue(e.getMessage().contains("holds 12 bytes but 4 F32 elements need 16"), e.getMessage());
        Path missing = TorchZips.write(tmp.resolve("missing.pt"), pkl, Map.of());
        e = assertThrows(IOException.class, () -> TorchCheckpoint.read(missing));
        assertTrue(e.getMessage().contains("missing storage entry archive/data/0"), e.getMessage());
    }

    @Test
    void truncatedFixture() throws IOException {
        byte[] all = Files.readAllBytes(fixture());
        Path half = Files.write(tmp.resolve("half.pt"), Arrays.copyOf(all, all.length / 2));
        IOException e = assertThrows(IOException.class, () -> TorchCheckpoint.read(half));
        assertTrue(e.getMessage().startsWith(half.toString()), e.getMessage());
        assertTrue(e.getMessage().contains("corrupt or truncated zip archive"), e.getMessage());
    }

    @Test
    void corruptedPickleInsideAValidZip() throws IOException {
        Map<String, byte[]> entries = fixtureEntries();
        byte[] pkl = entries.get("dit_small/data.pkl");
        byte[] bad = pkl.clone();
        bad[33] = 'i'; // the MARK after the OrderedDict becomes the unsupported INST opcode
        entries.put("dit_small/data.pkl", bad);
        Path file = TorchZips.writeEntries(tmp.resolve("badop.pt"), entries);
        IOException e = assertThrows(IOException.class, () -> TorchCheckpoint.read(file));
        assertTrue(
                e.getMessage().contains("data.pkl: unsupported pickle opcode INST (0x69) at offset 33"),
                e.getMessage());

        entries.put("dit_small/data.pkl", Arrays.copyOf(pkl, pkl.length / 2));
        Path cut = TorchZips.writeEntries(tmp.resolve("cutpkl.pt"), entries);
        e = assertThrows(IOException.class, () -> TorchCheckpoint.read(cut));
        assertTrue(e.getMessage().contains("truncated pickle"), e.getMessage());
    }

    @Test
    void flippedStorageByteFailsTheChecksum() throws IOException {
        byte[] file = Files.readAllBytes(fixture());
        byte[] storage = fixtureEntries().get("dit_small/data/5");
        int at = indexOf(file, Arrays.copyOf(storage, 32));
        assertTrue(at > 0);
        file[at + 100] ^= 0x01;
        Path flipped = Files.write(tmp.resolve("flipped.pt"), file);
        IOException e = assertThrows(IOException.class, () -> TorchCheckpoint.read(flipped));
        assertTrue(e.getMessage().contains("CRC-32 mismatch in zip entry dit_small/data/5"), e.getMessage());
    }

    private static int indexOf(byte[] haystack, byte[] needle) {
        outer:
        for (int i = 0; i <= haystack.length - needle.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (haystack[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }

    @Test
    void garbageEmptyAndLegacyFiles() throws IOException {
        byte[] noise = new byte[4096];
        new Random(7).nextBytes(noise);
        noise[0] = 'G';
        Path garbage = Files.write(tmp.resolve("garbage.pt"), noise);
        IOException e = assertThrows(IOException.class, () -> TorchCheckpoint.read(garbage));
        assertEquals(
                garbage + ": not a PyTorch checkpoint (expected a zip archive written by torch.save)", e.getMessage());

        Path empty = Files.write(tmp.resolve("empty.pt"), new byte[0]);
        e = assertThrows(IOException.class, () -> TorchCheckpoint.read(empty));
        assertTrue(e.getMessage().contains("not a PyTorch checkpoint"), e.getMessage());

        // Legacy torch.save: a pickle starting with PROTO 2 and the LONG1 magic number.
        byte[] legacy = {
            (byte) 0x80,
            2,
            (byte) 0x8a,
            10,
            0x6c,
            (byte) 0xfc,
            (byte) 0x9c,
            0x46,
            (byte) 0xf9,
            0x20,
            0x6a,
            (byte) 0xa8,
            0x50,
            0x19,
            0x2e
        };
        Path old = Files.write(tmp.resolve("legacy.pt"), legacy);
        e = assertThrows(IOException.class, () -> TorchCheckpoint.read(old));
        assertTrue(e.getMessage().contains("legacy (non-zip) torch.save format is not supported"), e.getMessage());
        assertTrue(e.getMessage().contains("torch>=1.6"), e.getMessage());

        Path otherZip = TorchZips.writeEntries(tmp.resolve("other.pt"), Map.of("readme.txt", new byte[] {1}));
        e = assertThrows(IOException.class, () -> TorchCheckpoint.read(otherZip));
        assertTrue(e.getMessage().contains("no <name>/data.pkl entry"), e.getMessage());
    }

    private static Map<String, byte[]> fixtureEntries() throws IOException {
        Map<String, byte[]> entries = new LinkedHashMap<>();
        try (ZipFile zip = new ZipFile(fixture().toFile())) {
            Enumeration<? extends ZipEntry> all = zip.entries();
            while (all.hasMoreElements()) {
                ZipEntry entry = all.nextElement();
                try (InputStream in = zip.getInputStream(entry)) {
                    entries.put(entry.getName(), in.readAllBytes());
                }
            }
        }
        return entries;
    }

    private static byte[] le(int width, long... values) {
        ByteBuffer b = ByteBuffer.allocate(values.length * width).order(ByteOrder.LITTLE_ENDIAN);
        for (long v : values) {
            if (width == 8) {
                b.putLong(v);
            } else {
                b.putInt((int) v);
            }
        }
        return b.array();
    }
}
