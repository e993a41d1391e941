package ai.tinyfusion.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class IdxReaderTest {
    @TempDir
    Path tmp;

    private static byte[] pixels(int n) {
        byte[] p = new byte[n];
        for (int i = 0; i < n; i++) {
            p[i] = (byte) (i * 7 + 3);
        }
        return p;
    }

    @Test
    void readsRawAndGzippedImagesAndLabels() throws IOException {
        byte[] px = pixels(3 * 4 * 5);
        byte[] raw = IdxTestFiles.images(3, 4, 5, px);
        for (Path f : new Path[] {
            IdxTestFiles.write(tmp.resolve("im-idx3-ubyte"), raw),
            IdxTestFiles.write(tmp.resolve("im-idx3-ubyte.gz"), IdxTestFiles.gzip(raw))
        }) {
            IdxReader.Images im = IdxReader.readImages(f);
            assertEquals(3, im.count());
            assertEquals(4, im.rows());
            assertEquals(5, im.cols());
            assertArrayEquals(px, im.pixels());
            // Image 2, row 1, col 3 -> flat index (2*4+1)*5+3 = 48 -> (48*7+3) & 255 = 83.
            assertEquals(83, im.pixel(2, 1, 3));
            assertEquals(((48 * 7 + 3) & 255) / 255f, im.toUnit(2)[1 * 5 + 3], 0f);
        }
        int[] labels = {0, 9, 255, 3};
        Path lf = IdxTestFiles.write(tmp.resolve("lab.gz"), IdxTestFiles.gzip(IdxTestFiles.labels(labels)));
        assertArrayEquals(labels, IdxReader.readLabels(lf));
    }

    @Test
    void truncatedFileNamesFileAndByteCounts() throws IOException {
        byte[] raw = IdxTestFiles.images(3, 4, 5, pixels(60));
        Path shortRaw = IdxTestFiles.write(tmp.resolve("short-images"), Arrays.copyOf(raw, raw.length - 7));
        IOException e = assertThrows(IOException.class, () -> IdxReader.readImages(shortRaw));
        assertTrue(e.getMessage().contains(shortRaw.toString()), e.getMessage());
        assertTrue(e.getMessage().contains("expected 60") && e.getMessage().contains("got 53"), e.getMessage());
        // Same payload shortfall inside a valid gzip stream.
        Path shortGz = IdxTestFiles.write(
                tmp.resolve("short-images.gz"), IdxTestFiles.gzip(Arrays.copyOf(raw, raw.length - 7)));
        e = assertThrows(IOException.class, () -> IdxReader.readImages(shortGz));
        assertTrue(
                e.getMessage().contains("short-images.gz") && e.getMessage().contains("expected 60"), e.getMessage());
        // A cut gzip stream.
        byte[] gz = IdxTestFiles.gzip(raw);
        Path cutGz = IdxTestFiles.write(tmp.resolve("cut.gz"), Arrays.copyOf(gz, gz.length / 2));
        e = assertThrows(IOException.class, () -> IdxReader.readImages(cutGz));
        assertTrue(e.getMessage().contains("cut.gz") && e.getMessage().contains("truncated"), e.getMessage());
        // Header cut short.
        Path hdr = IdxTestFiles.write(tmp.resolve("hdr"), Arrays.copyOf(raw, 10));
        e = assertThrows(IOException.class, () -> IdxReader.readImages(hdr));
        assertTrue(e.getMessage().contains("expected 16 bytes, got 10"), e.getMessage());
        // Labels: 4 declared, 2 present.
        byte[] lab = IdxTestFiles.labels(new int[] {1, 2, 3, 4});
        Path shortLab = IdxTestFiles.write(tmp.resolve("lab"), Arrays.copyOf(lab, lab.length - 2));
        e = assertThrows(IOException.class, () -> IdxReader.readLabels(shortLab));
        assertTrue(e.getMessage().contains("expected 4") && e.getMessage().contains("got 2"), e.getMessage());
    }

    @Test
    void rejectsWrongMagicAndTrailingBytes() throws IOException {
        Path labelsAsImages = IdxTestFiles.write(tmp.resolve("l"), IdxTestFiles.labels(new int[] {1, 2}));
        IOException e = assertThrows(IOException.class, () -> IdxReader.readImages(labelsAsImages));
        assertTrue(e.getMessage().contains("0x00000801") && e.getMessage().contains("0x00000803"), e.getMessage());
        byte[] raw = IdxTestFiles.images(1, 2, 2, pixels(4));
        Path longer = IdxTestFiles.write(tmp.resolve("long"), Arrays.copyOf(raw, raw.length + 3));
        e = assertThrows(IOException.class, () -> IdxReader.readImages(longer));
        assertTrue(e.getMessage().contains("trailing"), e.getMessage());
    }
}
