package ai.tinyfusion.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.tinyfusion.io.HostTensor;
import ai.tinyfusion.io.Npy;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LatentFolderDatasetTest {
    @TempDir
    Path root;

    /** Latent n: entry e, position p holds n*100 + e*10 + p/10 (C=2, H=W=2 -> 8 values). */
    private static float[] latents(int n, int entries) {
        float[] v = new float[entries * 8];
        for (int e = 0; e < entries; e++) {
            for (int p = 0; p < 8; p++) {
                v[e * 8 + p] = n * 100 + e * 10 + p / 10f;
            }
        }
        return v;
    }

    private void write(int n, int entries, long label) throws IOException {
        Path f = root.resolve("imagenet256_features");
        Path l = root.resolve("imagenet256_labels");
        Files.createDirectories(f);
        Files.createDirectories(l);
        Npy.write(f.resolve(n + ".npy"), HostTensor.ofFloats(latents(n, entries), entries, 2, 2, 2));
        Npy.write(l.resolve(n + ".npy"), HostTensor.ofLongs(new long[] {label}, 1));
    }

    @Test
    void readsPairsInPythonSortedOrderAndSelectsFlippedLatent() throws IOException {
        write(0, 2, 5);
        write(1, 2, 7);
        write(10, 2, 999);
        write(2, 1, 0);
        Files.writeString(root.resolve("imagenet256_features/README.txt"), "not a latent");
        LatentFolderDataset ds = new LatentFolderDataset(root, "imagenet256");
        assertEquals(List.of("0.npy", "1.npy", "10.npy", "2.npy"), ds.files());
        assertEquals(4, ds.size());
        assertEquals(2, ds.channels());
        assertEquals(2, ds.height());
        assertEquals(2, ds.width());
        assertEquals(1000, ds.numClasses());
        Sample s = ds.get(2);
        assertEquals(999, s.label());
        assertArrayEquals(
                new float[] {1000f, 1000.1f, 1000.2f, 1000.3f, 1000.4f, 1000.5f, 1000.6f, 1000.7f}, s.image(), 1e-4f);
        assertEquals(1010f, ds.get(2, true).image()[0], 0f);
        // A single stored latent is returned for both choices.
        assertEquals(200f, ds.get(3, false).image()[0], 0f);
        assertEquals(200f, ds.get(3, true).image()[0], 0f);
        assertEquals(7, ds.get(1, true).label());
    }

    @Test
    void batcherPicksBothVersionsReproducibly() throws IOException {
        for (int n = 0; n < 6; n++) {
            write(n, 2, n);
        }
        LatentFolderDataset ds = new LatentFolderDataset(root, "imagenet256");
        Batcher b = Batcher.builder(ds, 6).seed(11).randomFlip(0.5).build();
        int flipped = 0;
        for (int k = 0; k < 10; k++) {
            Batcher.HostBatch hb = b.nextHost();
            for (int j = 0; j < 6; j++) {
                int idx = hb.indices()[j];
                float first = hb.images()[j * 8];
                assertEquals(idx * 100 + (hb.flipped()[j] ? 10 : 0), first, 0f);
                assertEquals(idx, hb.labels()[j]);
                flipped += hb.flipped()[j] ? 1 : 0;
            }
        }
        assertTrue(flipped > 15 && flipped < 45, "flipped " + flipped + " of 60");
    }

    @Test
    void inconsistentFoldersAreErrors() throws IOException {
        write(0, 2, 1);
        write(1, 2, 1);
        Files.delete(root.resolve("imagenet256_labels/1.npy"));
        IOException e = assertThrows(IOException.class, () -> new LatentFolderDataset(root, "imagenet256"));
        assertTrue(e.getMessage().contains("differ"), e.getMessage());
        Npy.write(root.resolve("imagenet256_labels/5.npy"), HostTensor.ofLongs(new long[] {1}, 1));
        e = assertThrows(IOException.class, () -> new LatentFolderDataset(root, "imagenet256"));
        assertTrue(e.getMessage().contains("1.npy"), e.getMessage());
        Files.delete(root.resolve("imagenet256_labels/5.npy"));
        Npy.write(root.resolve("imagenet256_labels/1.npy"), HostTensor.ofFloats(new float[] {1}, 1));
        LatentFolderDataset ds = new LatentFolderDataset(root, "imagenet256");
        UncheckedIOException u = assertThrows(UncheckedIOException.class, () -> ds.get(1));
        assertTrue(u.getMessage().contains("int64"), u.getMessage());
        Npy.write(root.resolve("imagenet256_labels/1.npy"), HostTensor.ofLongs(new long[] {1000}, 1));
        u = assertThrows(UncheckedIOException.class, () -> ds.get(1));
        assertTrue(u.getMessage().contains("outside"), u.getMessage());
        Npy.write(root.resolve("imagenet256_features/1.npy"), HostTensor.ofFloats(new float[24], 2, 3, 2, 2));
        u = assertThrows(UncheckedIOException.class, () -> ds.get(1));
        assertTrue(u.getMessage().contains("differs"), u.getMessage());
        assertThrows(IOException.class, () -> new LatentFolderDataset(root, "missing"));
    }
}
