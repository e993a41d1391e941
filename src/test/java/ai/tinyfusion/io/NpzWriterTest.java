package ai.tinyfusion.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The streaming {@code .npz} writer: what it writes reads back as {@link Npz#write}'s archives do. */
class NpzWriterTest {
    @TempDir
    Path tmp;

    private static byte[] ramp(int n) {
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) {
            b[i] = (byte) (i * 7 + i / 3);
        }
        return b;
    }

    /** Images written in uneven pieces, then labels whole: both read back as written, in order. */
    @Test
    void piecesReadBackAsOneArray() throws IOException {
        byte[] images = ramp(5 * 4 * 3 * 2);
        long[] labels = {3, 1, 4, 1, 5};
        Path file = tmp.resolve("s.npz");
        try (NpzWriter w = NpzWriter.create(file)) {
            w.begin("arr_0", DType.U8, 5, 4, 3, 2);
            w.write(Arrays.copyOfRange(images, 0, 7));
            w.write(Arrays.copyOfRange(images, 7, 100));
            w.write(ByteBuffer.wrap(images, 100, 20));
            w.end();
            w.array("arr_1", HostTensor.ofLongs(labels, 5));
            w.commit();
        }
        Map<String, HostTensor> read = Npz.read(file);
        assertEquals(List.of("arr_0", "arr_1"), List.copyOf(read.keySet()));
        assertEquals(HostTensor.ofBytes(DType.U8, images, 5, 4, 3, 2), read.get("arr_0"));
        assertArrayEquals(labels, read.get("arr_1").toLongArray());
        try (ZipFile zip = new ZipFile(file.toFile())) {
            ZipEntry e = zip.getEntry("arr_0.npy");
            assertEquals(ZipEntry.STORED, e.getMethod());
        }
    }

    /** The same arrays give the same bytes as {@link Npz#write} would read back, and the same bytes twice. */
    @Test
    void deterministicBytes() throws IOException {
        HostTensor a = HostTensor.ofFloats(new float[] {1.5f, -2f, 3.25f}, 3);
        Path one = tmp.resolve("one.npz");
        Path two = tmp.resolve("two.npz");
        for (Path p : List.of(one, two)) {
            try (NpzWriter w = NpzWriter.create(p)) {
                w.array("x", a);
                w.commit();
            }
        }
        assertArrayEquals(Files.readAllBytes(one), Files.readAllBytes(two));
        assertEquals(a, Npz.read(one).get("x"));
    }

    /** ZIP64 records (forced here at a tiny size) are read by Java's ZipFile with sizes, offsets and CRCs intact. */
    @Test
    void zip64RecordsReadBack() throws IOException {
        Path file = tmp.resolve("z64.npz");
        byte[] big = ramp(1000);
        try (NpzWriter w = NpzWriter.create(file, 1)) {
            w.array("a", HostTensor.ofBytes(DType.U8, big, 10, 100));
            w.array("b", HostTensor.ofInts(new int[] {7, 8, 9}, 3));
            w.commit();
        }
        Map<String, HostTensor> read = Npz.read(file);
        assertEquals(HostTensor.ofBytes(DType.U8, big, 10, 100), read.get("a"));
        assertArrayEquals(new long[] {7, 8, 9}, read.get("b").toLongArray());
    }

    /** Too few or too many bytes for the shape is an error naming the member; nothing reaches the target. */
    @Test
    void wrongByteCountIsRefusedAndNothingIsWritten() throws IOException {
        Path file = tmp.resolve("bad.npz");
        try (NpzWriter w = NpzWriter.create(file)) {
            w.begin("arr_0", DType.U8, 2, 3);
            w.write(new byte[5]);
            IOException e = assertThrows(IOException.class, w::end);
            assertTrue(e.getMessage().contains("arr_0") && e.getMessage().contains("5 of"), e.getMessage());
        }
        try (NpzWriter w = NpzWriter.create(file)) {
            w.begin("arr_0", DType.U8, 2, 3);
            IOException e = assertThrows(IOException.class, () -> w.write(new byte[7]));
            assertTrue(e.getMessage().contains("more than"), e.getMessage());
        }
        assertFalse(Files.exists(file));
        try (var files = Files.list(tmp)) {
            assertEquals(0, files.count(), "temporary files are removed");
        }
    }

    /** An unfinished writer leaves an existing file untouched; a duplicate name is refused. */
    @Test
    void abandonedWriteKeepsTheOldFile() throws IOException {
        Path file = tmp.resolve("keep.npz");
        Npz.write(file, Map.of("x", HostTensor.ofInts(new int[] {1}, 1)));
        byte[] before = Files.readAllBytes(file);
        try (NpzWriter w = NpzWriter.create(file)) {
            w.array("x", HostTensor.ofInts(new int[] {2}, 1));
            assertThrows(IOException.class, () -> w.array("x", HostTensor.ofInts(new int[] {3}, 1)));
        }
        assertArrayEquals(before, Files.readAllBytes(file));
    }
}
