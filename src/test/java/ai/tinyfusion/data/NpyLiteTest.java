package ai.tinyfusion.data;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class NpyLiteTest {
    @TempDir
    Path tmp;

    @Test
    void roundTripsFloat32AndInt64WithNumpyHeader() throws IOException {
        float[] v = {1.5f, -2f, 0f, 3.25f, 1e-8f, -0f};
        Path f = tmp.resolve("a.npy");
        NpyLite.writeFloat32(f, new int[] {2, 1, 3}, v);
        byte[] bytes = Files.readAllBytes(f);
        // Exactly what np.save writes for this array: 128-byte header, then the data.
        String header = new String(bytes, 10, 118, StandardCharsets.US_ASCII);
        assertEquals("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 1, 3), }", header.trim());
        assertEquals(128 + 24, bytes.length);
        assertEquals('\n', bytes[127]);
        NpyLite.Array a = NpyLite.read(f);
        assertArrayEquals(new int[] {2, 1, 3}, a.shape());
        assertArrayEquals(v, a.f32(), 0f);
        assertNull(a.i64());

        Path g = tmp.resolve("b.npy");
        NpyLite.writeInt64(g, new int[] {1}, new long[] {987654321012L});
        String h = new String(Files.readAllBytes(g), 10, 118, StandardCharsets.US_ASCII);
        assertTrue(h.startsWith("{'descr': '<i8', 'fortran_order': False, 'shape': (1,), }"), h);
        assertArrayEquals(new long[] {987654321012L}, NpyLite.read(g).i64());
        assertArrayEquals(new int[] {1}, NpyLite.read(g).shape());
    }

    @Test
    void rejectsUnsupportedOrDamagedFiles() throws IOException {
        Path f = tmp.resolve("f.npy");
        NpyLite.writeFloat32(f, new int[] {4}, new float[] {1, 2, 3, 4});
        byte[] good = Files.readAllBytes(f);
        String text = new String(good, StandardCharsets.ISO_8859_1);

        Path fortran = tmp.resolve("fortran.npy");
        Files.write(fortran, text.replace("'fortran_order': False", "'fortran_order': True ").getBytes(StandardCharsets.ISO_8859_1));
        assertTrue(assertThrows(IOException.class, () -> NpyLite.read(fortran)).getMessage().contains("Fortran"));

        Path f8 = tmp.resolve("f8.npy");
        Files.write(f8, text.replace("<f4", "<f8").getBytes(StandardCharsets.ISO_8859_1));
        assertTrue(assertThrows(IOException.class, () -> NpyLite.read(f8)).getMessage().contains("<f8"));

        Path cut = tmp.resolve("cut.npy");
        Files.write(cut, java.util.Arrays.copyOf(good, good.length - 4));
        IOException e = assertThrows(IOException.class, () -> NpyLite.read(cut));
        assertTrue(e.getMessage().contains("cut.npy") && e.getMessage().contains("expected 16"), e.getMessage());

        Path junk = tmp.resolve("junk.npy");
        Files.writeString(junk, "hello world");
        assertThrows(IOException.class, () -> NpyLite.read(junk));
        assertThrows(IllegalArgumentException.class, () -> NpyLite.writeInt64(tmp.resolve("x.npy"), new int[] {3}, new long[2]));
    }
}
