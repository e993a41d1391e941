package ai.tinyfusion.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.FileNotFoundException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FashionMnistTest {

    private static void assumeInstalled() {
        assumeTrue(
                Files.isRegularFile(FashionMnist.DEFAULT_DIR.resolve("t10k-images-idx3-ubyte.gz")),
                "Debian package dataset-fashion-mnist is not installed (apt-get install dataset-fashion-mnist)");
    }

    @Test
    void loadsInstalledTestSplit() throws IOException {
        assumeInstalled();
        FashionMnist test = FashionMnist.load(FashionMnist.Split.TEST);
        assertEquals(10000, test.size());
        assertEquals(1, test.channels());
        assertEquals(28, test.height());
        assertEquals(28, test.width());
        int[] labels = test.labels();
        assertArrayEquals(new int[] {9, 2, 1, 1, 6, 1, 4, 6}, java.util.Arrays.copyOf(labels, 8));
        int[] counts = new int[10];
        for (int l : labels) {
            counts[l]++;
        }
        assertArrayEquals(new int[] {1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000}, counts);
        // Pixel sums computed independently with numpy from the same files.
        long first = 0;
        long all = 0;
        byte[] px = test.images().pixels();
        for (int i = 0; i < px.length; i++) {
            all += px[i] & 0xff;
            if (i < 784) {
                first += px[i] & 0xff;
            }
        }
        assertEquals(33456, first);
        assertEquals(573469082L, all);
        assertEquals("Ankle boot", test.classNames().get(labels[0]));
        // Row 14 of image 0: 0 0 0 0 0 0 2 4 1 0 0 0 98 136 ... 119 0
        Sample s = test.get(0);
        assertEquals(9, s.label());
        assertEquals(-1f, s.image()[14 * 28], 0f);
        assertEquals((98 / 255f - 0.5f) / 0.5f, s.image()[14 * 28 + 12], 0f);
        assertEquals((119 / 255f - 0.5f) / 0.5f, s.image()[14 * 28 + 26], 0f);
        Sample flipped = test.get(0, true);
        assertEquals(s.image()[14 * 28 + 26], flipped.image()[14 * 28 + 1], 0f);
        for (float v : s.image()) {
            assertTrue(v >= -1f && v <= 1f);
        }
    }

    @Test
    void loadsInstalledTrainSplit() throws IOException {
        assumeInstalled();
        FashionMnist train = FashionMnist.load(null, FashionMnist.Split.TRAIN);
        assertEquals(60000, train.size());
        assertArrayEquals(new int[] {9, 0, 0, 3, 0, 2, 7, 2}, java.util.Arrays.copyOf(train.labels(), 8));
        long first = 0;
        for (int i = 0; i < 784; i++) {
            first += train.images().pixels()[i] & 0xff;
        }
        assertEquals(76247, first);
    }

    @Test
    void readsAUserDirectoryWithRawOrGzippedFiles(@TempDir Path dir) throws IOException {
        byte[] px = new byte[2 * 28 * 28];
        px[0] = (byte) 255;
        px[28 * 28 + 27] = (byte) 51;
        IdxTestFiles.write(dir.resolve("t10k-images-idx3-ubyte"), IdxTestFiles.images(2, 28, 28, px));
        IdxTestFiles.write(
                dir.resolve("t10k-labels-idx1-ubyte.gz"), IdxTestFiles.gzip(IdxTestFiles.labels(new int[] {3, 8})));
        FashionMnist ds = FashionMnist.load(dir, FashionMnist.Split.TEST);
        assertEquals(2, ds.size());
        assertEquals(1f, ds.get(0).image()[0], 0f);
        assertEquals(-1f, ds.get(0, true).image()[0], 0f);
        assertEquals(1f, ds.get(0, true).image()[27], 0f);
        assertEquals((51 / 255f - 0.5f) / 0.5f, ds.get(1).image()[27], 0f);
        assertEquals(8, ds.get(1).label());
        assertEquals("Bag", ds.classNames().get(8));
    }

    @Test
    void mismatchedCountsAndBadLabelsAreErrors(@TempDir Path dir) throws IOException {
        IdxTestFiles.write(dir.resolve("train-images-idx3-ubyte"), IdxTestFiles.images(2, 28, 28, new byte[2 * 784]));
        IdxTestFiles.write(dir.resolve("train-labels-idx1-ubyte"), IdxTestFiles.labels(new int[] {1, 2, 3}));
        IOException e = assertThrows(IOException.class, () -> FashionMnist.load(dir, FashionMnist.Split.TRAIN));
        assertTrue(e.getMessage().contains("2 images but") && e.getMessage().contains("3 labels"), e.getMessage());
        IdxTestFiles.write(dir.resolve("train-labels-idx1-ubyte"), IdxTestFiles.labels(new int[] {1, 10}));
        e = assertThrows(IOException.class, () -> FashionMnist.load(dir, FashionMnist.Split.TRAIN));
        assertTrue(e.getMessage().contains("label 10"), e.getMessage());
    }

    @Test
    void missingFilesExplainHowToInstall(@TempDir Path dir) {
        FileNotFoundException e = assertThrows(
                FileNotFoundException.class, () -> FashionMnist.load(dir.resolve("nowhere"), FashionMnist.Split.TRAIN));
        assertTrue(e.getMessage().contains("train-images-idx3-ubyte.gz"), e.getMessage());
        assertTrue(e.getMessage().contains("apt-get install dataset-fashion-mnist"), e.getMessage());
    }
}
