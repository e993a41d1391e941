package ai.tinyfusion.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Reads files numpy 2.4 wrote (src/test/resources/ai/tinyfusion/io/npy) and writes the same bytes. */
class NpyTest {
    @TempDir
    Path tmp;

    static Path resource(String name) {
        try {
            return Paths.get(NpyTest.class.getResource("npy/" + name).toURI());
        } catch (URISyntaxException | NullPointerException e) {
            throw new IllegalStateException("missing test resource npy/" + name, e);
        }
    }

    /** Reads a file through all three entry points, which must agree. */
    private static HostTensor read(String name) throws IOException {
        Path file = resource(name);
        HostTensor fromPath = Npy.read(file);
        assertEquals(fromPath, Npy.read(Files.readAllBytes(file)), name);
        try (InputStream in = Files.newInputStream(file)) {
            assertEquals(fromPath, Npy.read(in), name);
        }
        return fromPath;
    }

    private static double[] range(int n) {
        double[] v = new double[n];
        for (int i = 0; i < n; i++) {
            v[i] = i;
        }
        return v;
    }

    @Test
    void littleEndianCOrderFiles() throws IOException {
        HostTensor f4 = read("f4_c.npy");
        assertEquals(DType.F32, f4.dtype());
        assertArrayEquals(new long[] {2, 3}, f4.shape());
        assertArrayEquals(new float[] {-1, -0.5f, 0, 0.5f, 1, 1.5f}, f4.toFloatArray());
        assertArrayEquals(new float[] {1, -2, 0.5f, 65504}, read("f2.npy").toFloatArray());
        HostTensor b1 = read("b1.npy");
        assertEquals(DType.BOOL, b1.dtype());
        assertArrayEquals(new long[] {1, 0, 1}, b1.toLongArray());
        assertArrayEquals(new long[] {0, 200, 255}, read("u1.npy").toLongArray());
        assertArrayEquals(new long[] {-128, 127, 0}, read("i1.npy").toLongArray());
        assertArrayEquals(new long[] {-32768, 32767, 5}, read("i2.npy").toLongArray());
        HostTensor i8 = read("i8.npy");
        assertArrayEquals(new long[] {2, 2}, i8.shape());
        assertArrayEquals(new long[] {-(1L << 62), 3, 4, 1L << 62}, i8.toLongArray());
        HostTensor scalar = read("scalar_i8.npy");
        assertEquals(0, scalar.rank());
        assertArrayEquals(new long[] {42}, scalar.toLongArray());
        HostTensor empty = read("empty_f4.npy");
        assertArrayEquals(new long[] {0, 3}, empty.shape());
        assertEquals(0, empty.byteSize());
        HostTensor many = read("shape_long.npy");
        assertArrayEquals(new long[] {1, 2, 1, 2, 1, 2, 1}, many.shape());
        assertArrayEquals(new float[] {0, 1, 2, 3, 4, 5, 6, 7}, many.toFloatArray());
    }

    @Test
    void fortranOrderIsTransposedToCOrder() throws IOException {
        HostTensor f8 = read("f8_fortran.npy");
        assertArrayEquals(new long[] {2, 3, 4}, f8.shape());
        assertArrayEquals(range(24), f8.toDoubleArray());
        HostTensor u1 = read("u1_fortran.npy");
        assertArrayEquals(new long[] {5, 6}, u1.shape());
        assertArrayEquals(Arrays.stream(range(30)).mapToLong(d -> (long) d).toArray(), u1.toLongArray());
    }

    @Test
    void bigEndianIsConverted() throws IOException {
        assertArrayEquals(new double[] {1.5, -2.25, 1e300}, read("f8_big.npy").toDoubleArray());
        HostTensor i4 = read("i4_big.npy");
        assertEquals(DType.I32, i4.dtype());
        assertArrayEquals(new long[] {1, -2, 70000}, i4.toLongArray());
    }

    @Test
    void formatVersionsTwoAndThree() throws IOException {
        assertArrayEquals(new long[] {0, 1, 2, 3}, read("v2.npy").toLongArray());
        assertArrayEquals(new long[] {0, 1, 2, 3}, read("v3.npy").toLongArray());
    }

    @Test
    void unsupportedDtypesAreNamed() {
        IOException e = assertThrows(IOException.class, () -> Npy.read(resource("c8.npy")));
        assertTrue(e.getMessage().contains("unsupported .npy dtype '<c8'"), e.getMessage());
        assertTrue(e.getMessage().contains("c8.npy"), e.getMessage());
        e = assertThrows(IOException.class, () -> Npy.read(resource("str.npy")));
        assertTrue(e.getMessage().contains("'<U3'"), e.getMessage());
        e = assertThrows(IOException.class, () -> Npy.read(resource("structured.npy")));
        assertTrue(e.getMessage().contains("structured dtypes are not supported"), e.getMessage());
    }

    @Test
    void writesTheBytesNumpyWrites() throws IOException {
        for (String name : List.of(
                "f4_c.npy",
                "f2.npy",
                "b1.npy",
                "u1.npy",
                "i1.npy",
                "i2.npy",
                "i8.npy",
                "scalar_i8.npy",
                "empty_f4.npy",
                "shape_long.npy")) {
            byte[] numpy = Files.readAllBytes(resource(name));
            assertArrayEquals(numpy, Npy.toBytes(Npy.read(resource(name))), name);
        }
        // Converted inputs are written back as numpy writes C-order little-endian arrays.
        HostTensor fortran = Npy.read(resource("f8_fortran.npy"));
        assertEquals(fortran, Npy.read(Npy.toBytes(fortran)));
    }

    @Test
    void fileRoundTripAndBf16Refusal() throws IOException {
        Path file = tmp.resolve("x.npy");
        HostTensor t = HostTensor.ofLongs(new long[] {1, 2, 3, 4, 5, 6}, 3, 2);
        Npy.write(file, t);
        assertEquals(t, Npy.read(file));
        HostTensor bf16 = HostTensor.ofBytes(DType.BF16, new byte[] {0, 0x3f}, 1);
        IOException e = assertThrows(IOException.class, () -> Npy.write(tmp.resolve("bf.npy"), bf16));
        assertTrue(
                e.getMessage().contains("bf.npy") && e.getMessage().contains("BF16 has no NumPy dtype"),
                e.getMessage());
    }

    @Test
    void hugeHeadersUseVersionTwo() throws IOException {
        long[] shape = new long[25000];
        Arrays.fill(shape, 1);
        HostTensor t = HostTensor.ofFloats(new float[] {3}, shape);
        byte[] bytes = Npy.toBytes(t);
        assertEquals(2, bytes[6]);
        assertEquals(0, (bytes.length - 4) % 64);
        assertEquals(t, Npy.read(bytes));
    }

    @Test
    void corruptInputNamesTheProblem() throws IOException {
        byte[] good = Files.readAllBytes(resource("f4_c.npy"));
        assertProblem(Arrays.copyOf(good, good.length - 1), "truncated .npy data: 23 of 24 bytes");
        assertProblem(Arrays.copyOf(good, good.length + 2), "2 unexpected bytes after the .npy data");
        assertProblem(Arrays.copyOf(good, 30), "truncated .npy header");
        assertProblem(Arrays.copyOf(good, 5), "missing \\x93NUMPY magic");
        byte[] version = good.clone();
        version[6] = 4;
        assertProblem(version, "unsupported .npy format version 4.0");
        assertProblem(replaceHeader(good, "'fortran_order': False", "'fortran_order': 0    "), "malformed .npy header");
        assertProblem(replaceHeader(good, "'shape': (2, 3)", "'shape': (2, -3)"), "malformed .npy header");
        assertProblem(replaceHeader(good, "'descr'", "'dtype'"), "must have exactly the keys");
        assertProblem(replaceHeader(good, "'<f4'", "'<q4'"), "unsupported .npy dtype '<q4'");
        Path file = Files.write(tmp.resolve("cut.npy"), Arrays.copyOf(good, good.length - 4));
        IOException e = assertThrows(IOException.class, () -> Npy.read(file));
        assertTrue(e.getMessage().startsWith(file.toString()), e.getMessage());
        assertTrue(e.getMessage().contains("truncated .npy data"), e.getMessage());
    }

    /** Edits the header text, keeping its length (and so the stored header length) unchanged. */
    private static byte[] replaceHeader(byte[] npy, String from, String to) {
        String text = new String(npy, StandardCharsets.ISO_8859_1);
        int newline = text.indexOf('\n');
        String header = text.substring(0, newline);
        assertTrue(header.contains(from));
        String edited = header.replace(from, to);
        int growth = edited.length() - header.length();
        if (growth > 0) {
            assertTrue(edited.endsWith(" ".repeat(growth)));
            edited = edited.substring(0, edited.length() - growth);
        } else {
            edited = edited + " ".repeat(-growth);
        }
        return (edited + text.substring(newline)).getBytes(StandardCharsets.ISO_8859_1);
    }

    private static void assertProblem(byte[] bytes, String expected) {
        IOException e = assertThrows(IOException.class, () -> Npy.read(bytes), expected);
        assertTrue(e.getMessage().contains(expected), e.getMessage());
        IOException s = assertThrows(IOException.class, () -> Npy.read(new ByteArrayInputStream(bytes)), expected);
        assertTrue(s.getMessage().contains(expected), s.getMessage());
    }
}
