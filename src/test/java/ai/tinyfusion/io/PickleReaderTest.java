package ai.tinyfusion.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import ai.tinyfusion.Fixtures;
import java.io.IOException;
import java.io.InputStream;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.zip.ZipFile;
import org.junit.jupiter.api.Test;

class PickleReaderTest {
    private static Object load(PickleWriter w) throws IOException {
        return PickleReader.forStateDicts().load(w.bytes());
    }

    private static IOException failure(PickleWriter w) {
        return assertThrows(IOException.class, () -> load(w));
    }

    @Test
    void scalarsOfEveryKind() throws IOException {
        PickleWriter w = new PickleWriter()
                .proto(2)
                .mark()
                .integer(7)
                .integer(300)
                .integer(-5)
                .integer(1L << 40)
                .op(0x8a)
                .op(9)
                .raw(new byte[] {0, 0, 0, 0, 0, 0, 0, 0, 1}) // LONG1 2^64
                .op(0x8a)
                .op(0) // LONG1 0
                .op('G')
                .raw(new byte[] {0x3f, (byte) 0xf8, 0, 0, 0, 0, 0, 0}) // 1.5
                .op(0x88)
                .op(0x89)
                .op('N')
                .str("unicode é")
                .shortStr("short")
                .op(0x8d)
                .raw(new byte[] {2, 0, 0, 0, 0, 0, 0, 0})
                .raw("u8".getBytes(StandardCharsets.UTF_8))
                .op('T')
                .raw(new byte[] {3, 0, 0, 0})
                .raw("bin".getBytes(StandardCharsets.UTF_8))
                .op('U')
                .op(2)
                .raw("sb".getBytes(StandardCharsets.UTF_8))
                .op('B')
                .raw(new byte[] {2, 0, 0, 0, 9, 8})
                .op('C')
                .op(1)
                .raw(new byte[] {5})
                .tuple()
                .stop();
        List<?> t = (List<?>) load(w);
        assertEquals(
                Arrays.asList(
                        7L,
                        300L,
                        -5L,
                        1L << 40,
                        BigInteger.ONE.shiftLeft(64),
                        0L,
                        1.5,
                        true,
                        false,
                        null,
                        "unicode é",
                        "short",
                        "u8",
                        "bin",
                        "sb"),
                t.subList(0, 15));
        assertArrayEquals(new byte[] {9, 8}, (byte[]) t.get(15));
        assertArrayEquals(new byte[] {5}, (byte[]) t.get(16));
    }

    @Test
    void containersAndMemo() throws IOException {
        PickleWriter w = new PickleWriter()
                .proto(4)
                .op(0x95)
                .raw(new byte[] {60, 0, 0, 0, 0, 0, 0, 0}) // FRAME
                .op('}')
                .op(0x94) // EMPTY_DICT, MEMOIZE -> 0
                .str("list")
                .op(']')
                .op('r')
                .raw(new byte[] {1, 0, 0, 0}) // LONG_BINPUT 1
                .integer(1)
                .op('a')
                .mark()
                .integer(2)
                .integer(3)
                .op('e')
                .op('s')
                .mark()
                .str("t1")
                .integer(1)
                .op(0x85)
                .str("t2")
                .integer(1)
                .integer(2)
                .op(0x86)
                .str("t3")
                .integer(1)
                .integer(2)
                .integer(3)
                .op(0x87)
                .str("empty")
                .op(')')
                .str("same")
                .op('j')
                .raw(new byte[] {1, 0, 0, 0}) // LONG_BINGET 1
                .str("d")
                .mark()
                .str("k")
                .integer(4)
                .op('d')
                .str("l")
                .mark()
                .integer(5)
                .op('l')
                .str("set")
                .op(0x8f)
                .mark()
                .integer(1)
                .integer(1)
                .str("x")
                .op(0x90)
                .str("builtin_set")
                .global("builtins", "set")
                .mark()
                .integer(9)
                .op('l')
                .op(0x85)
                .op('R')
                .op('u')
                .stop();
        Map<?, ?> d = (Map<?, ?>) load(w);
        assertEquals(List.of(1L, 2L, 3L), d.get("list"));
        assertEquals(List.of(1L), d.get("t1"));
        assertEquals(List.of(1L, 2L), d.get("t2"));
        assertEquals(List.of(1L, 2L, 3L), d.get("t3"));
        assertInstanceOf(PickleTuple.class, d.get("t3"));
        assertEquals(List.of(), d.get("empty"));
        assertTrue(d.get("same") == d.get("list"), "BINGET returns the memoised object itself");
        assertEquals(Map.of("k", 4L), d.get("d"));
        assertEquals(List.of(5L), d.get("l"));
        assertEquals(Set.of(1L, "x"), d.get("set"));
        assertEquals(Set.of(9L), d.get("builtin_set"));
        assertEquals(
                List.of("list", "t1", "t2", "t3", "empty", "same", "d", "l", "set", "builtin_set"),
                List.copyOf(d.keySet()));
    }

    @Test
    void stackGlobalResolvesLikeGlobal() throws IOException {
        PickleWriter w = new PickleWriter()
                .proto(4)
                .shortStr("collections")
                .shortStr("OrderedDict")
                .op(0x93)
                .op(')')
                .reduce()
                .stop();
        assertEquals(Map.of(), load(w));
    }

    @Test
    void namespaceBecomesAPlainMap() throws IOException {
        // argparse.Namespace as protocol 2 pickles it: NEWOBJ with no arguments, then BUILD with its __dict__.
        PickleWriter w = new PickleWriter()
                .proto(2)
                .global("argparse", "Namespace")
                .op(')')
                .op(0x81)
                .mark()
                .str("model")
                .str("DiT-XL/2")
                .str("image_size")
                .integer(256)
                .op('d')
                .op('b')
                .stop();
        Object ns = load(w);
        assertInstanceOf(Map.class, ns);
        assertEquals(Map.of("model", "DiT-XL/2", "image_size", 256L), ns);
    }

    @Test
    void attributesOfAnOrderedDictAreIgnored() throws IOException {
        // What torch.save writes for a state dict's _metadata.
        PickleWriter w = new PickleWriter()
                .proto(2)
                .global("collections", "OrderedDict")
                .op(')')
                .reduce()
                .str("w")
                .integer(1)
                .op('s')
                .op('}')
                .str("_metadata")
                .op('}')
                .op('s')
                .op('b')
                .stop();
        assertEquals(Map.of("w", 1L), load(w));
    }

    @Test
    void tensorRebuildAndDtypeGlobals() throws IOException {
        PickleWriter w = new PickleWriter()
                .proto(2)
                .mark()
                .tensor("HalfStorage", "7", 12, 2, new long[] {2, 3}, new long[] {3, 1})
                .global("torch", "bfloat16")
                .global("torch", "bool")
                .tuple()
                .stop();
        List<?> t = (List<?>) load(w);
        TorchTensorRef ref = (TorchTensorRef) t.get(0);
        assertEquals(new TorchStorageRef(DType.F16, "7", "cpu", 12), ref.storage());
        assertEquals(2, ref.offset());
        assertArrayEquals(new long[] {2, 3}, ref.shape());
        assertArrayEquals(new long[] {3, 1}, ref.strides());
        assertEquals(DType.BF16, t.get(1));
        assertEquals(DType.BOOL, t.get(2));
    }

    @Test
    void refusesGlobalsOutsideTheAllowList() {
        for (String[] global : new String[][] {
            {"os", "system"},
            {"builtins", "eval"},
            {"posix", "system"},
            {"subprocess", "Popen"},
            {"torch.storage", "_load_from_bytes"},
            {"torch.storage", "UntypedStorage"},
            {"numpy.core.multiarray", "scalar"},
            {"numpy", "dtype"},
            {"torch", "load"}
        }) {
            PickleWriter w = new PickleWriter()
                    .proto(2)
                    .global(global[0], global[1])
                    .mark()
                    .str("echo pwned")
                    .tuple()
                    .reduce()
                    .stop();
            UnsafeCheckpointException e = assertThrows(UnsafeCheckpointException.class, () -> load(w));
            String name = global[0] + "." + global[1];
            assertEquals("refused pickle global " + name + " (only state-dict globals are allowed)", e.getMessage());
        }
    }

    @Test
    void refusesStackGlobalOutsideTheAllowList() {
        PickleWriter w = new PickleWriter()
                .proto(4)
                .shortStr("os")
                .shortStr("system")
                .op(0x93)
                .shortStr("id")
                .op(0x85)
                .reduce()
                .stop();
        UnsafeCheckpointException e = assertThrows(UnsafeCheckpointException.class, () -> load(w));
        assertTrue(e.getMessage().contains("os.system"));
    }

    @Test
    void unsupportedOpcodesAreNamedWithTheirOffset() {
        IOException e =
                failure(new PickleWriter().proto(2).op('i').raw("os\nsystem\n".getBytes(StandardCharsets.UTF_8)));
        assertEquals("unsupported pickle opcode INST (0x69) at offset 2", e.getMessage());
        e = failure(new PickleWriter().proto(2).integer(1).op('0').stop());
        assertTrue(e.getMessage().contains("POP (0x30) at offset 4"), e.getMessage());
        e = failure(new PickleWriter().op(0xff));
        assertTrue(e.getMessage().contains("unknown opcode 0xff at offset 0"), e.getMessage());
        e = failure(new PickleWriter().proto(9).stop());
        assertTrue(e.getMessage().contains("unsupported pickle protocol 9"), e.getMessage());
    }

    @Test
    void truncatedAndMalformedStreams() {
        assertTrue(failure(new PickleWriter()).getMessage().contains("without STOP"));
        assertTrue(failure(new PickleWriter().proto(2).integer(1)).getMessage().contains("without STOP"));
        assertTrue(
                failure(new PickleWriter().op('X').raw(new byte[] {(byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff}))
                        .getMessage()
                        .contains("truncated pickle"));
        assertTrue(failure(new PickleWriter().op(0x8d).raw(new byte[] {0, 0, 0, 0, 0, 0, 0, (byte) 0x80}))
                .getMessage()
                .contains("truncated pickle"));
        assertTrue(failure(new PickleWriter().op('J').raw(new byte[] {1, 2}))
                .getMessage()
                .contains("truncated pickle"));
        assertTrue(failure(new PickleWriter()
                        .op(0x95)
                        .raw(new byte[] {0, 0, 0, 0, 0, 0, 1, 0})
                        .stop())
                .getMessage()
                .contains("frame"));
        assertTrue(failure(new PickleWriter().op('c').raw("os".getBytes(StandardCharsets.UTF_8)))
                .getMessage()
                .contains("unterminated"));
        assertTrue(failure(new PickleWriter().stop()).getMessage().contains("empty stack"));
        assertTrue(failure(new PickleWriter().op('t')).getMessage().contains("no MARK"));
        assertTrue(failure(new PickleWriter().mark().op('R')).getMessage().contains("stack underflow"));
        assertTrue(failure(new PickleWriter().get(3)).getMessage().contains("memo entry 3"));
        assertTrue(failure(new PickleWriter().op('}').integer(1).op('a'))
                .getMessage()
                .contains("not a list"));
        assertTrue(failure(new PickleWriter().op(']').integer(1).integer(1).op('s'))
                .getMessage()
                .contains("not a dict"));
        assertTrue(failure(new PickleWriter().str("f").op(')').reduce())
                .getMessage()
                .contains("cannot be called"));
        assertTrue(failure(new PickleWriter().op('}').op(']').integer(1).op('s'))
                .getMessage()
                .contains("dict key"));
        assertTrue(failure(new PickleWriter().integer(1).integer(2).op('b'))
                .getMessage()
                .contains("BUILD"));
        assertTrue(failure(new PickleWriter()
                        .global("collections", "OrderedDict")
                        .integer(3)
                        .reduce())
                .getMessage()
                .contains("not a tuple"));
        assertTrue(failure(new PickleWriter()
                        .mark()
                        .mark()
                        .str("not storage")
                        .tuple()
                        .op('Q')
                        .stop())
                .getMessage()
                .contains("persistent id"));
        assertTrue(failure(new PickleWriter()
                        .global("torch._utils", "_rebuild_tensor_v2")
                        .mark()
                        .integer(1)
                        .tuple()
                        .reduce()
                        .stop())
                .getMessage()
                .contains("tensor rebuild"));
    }

    @Test
    void amplificationIsBounded() {
        // A 65536-item list copied into a new set over and over would need O(n^2) memory.
        PickleWriter w = new PickleWriter()
                .proto(2)
                .global("builtins", "set")
                .put(0)
                .op(']')
                .put(1)
                .mark();
        for (int i = 0; i < 65536; i++) {
            w.integer(i);
        }
        w.op('e');
        for (int i = 0; i < 2000; i++) {
            w.get(0).get(1).op(0x85).reduce();
        }
        IOException e = failure(w.stop());
        assertTrue(e.getMessage().contains("too many objects"), e.getMessage());
    }

    @Test
    void fixtureStateDictUnpickles() throws IOException {
        Map<?, ?> sd = (Map<?, ?>) PickleReader.forStateDicts().load(fixturePickle());
        assertEquals(52, sd.size());
        TorchTensorRef pos = (TorchTensorRef) sd.get("pos_embed");
        assertArrayEquals(new long[] {1, 16, 64}, pos.shape());
        assertEquals(DType.F32, pos.storage().dtype());
    }

    /** Random corruptions of a real pickle end in an IOException or a value, never in anything else. */
    @Test
    void fuzzedFixturePicklesFailCleanly() throws IOException {
        byte[] original = fixturePickle();
        Random random = new Random(1234);
        int failures = 0;
        for (int round = 0; round < 3000; round++) {
            byte[] bytes = original.clone();
            int edits = 1 + random.nextInt(4);
            for (int i = 0; i < edits; i++) {
                bytes[random.nextInt(bytes.length)] = (byte) random.nextInt(256);
            }
            if (random.nextInt(4) == 0) {
                bytes = Arrays.copyOf(bytes, random.nextInt(bytes.length));
            }
            try {
                PickleReader.forStateDicts().load(bytes);
            } catch (IOException expected) {
                failures++;
            } catch (Throwable t) {
                fail("round " + round + " escaped with " + t, t);
            }
        }
        assertTrue(failures > 1000, "most corruptions should be detected, got " + failures);
    }

    private static byte[] fixturePickle() throws IOException {
        try (ZipFile zip = new ZipFile(Fixtures.reference("dit_small.pt").toFile());
                InputStream in = zip.getInputStream(zip.getEntry("dit_small/data.pkl"))) {
            return in.readAllBytes();
        }
    }

    @Test
    void noneIsNull() throws IOException {
        assertNull(load(new PickleWriter().op('N').stop()));
    }
}
