package ai.tinyfusion.diffusion;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.tinyfusion.io.DType;
import ai.tinyfusion.io.HostTensor;
import ai.tinyfusion.io.Npy;
import ai.tinyfusion.io.Npz;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Sharded generation: resume after an interruption, refusal of a mixed run, damaged shards, the merged files. */
class ShardedGenerationTest {
    @TempDir
    Path tmp;

    private static final long[] LABELS = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0};
    private static final Map<String, String> SETTINGS = Map.of("model", "m", "seed", "0");

    /** Items that depend only on their index and label: 2×3 bytes each. */
    private static byte[] items(long first, long[] labels) {
        byte[] out = new byte[labels.length * 6];
        for (int i = 0; i < labels.length; i++) {
            for (int j = 0; j < 6; j++) {
                out[i * 6 + j] = (byte) ((first + i) * 11 + labels[i] * 3 + j);
            }
        }
        return out;
    }

    private ShardedGeneration open(Path dir) throws IOException {
        return new ShardedGeneration(dir, LABELS, 4, DType.U8, new long[] {2, 3}, SETTINGS);
    }

    @Test
    void interruptedRunResumesToTheSameFile() throws IOException {
        Path whole = tmp.resolve("whole");
        ShardedGeneration a = open(whole.resolve("shards"));
        a.run((first, ys, on) -> items(first, ys), n -> {});
        a.mergeNpz(whole.resolve("samples.npz"));

        Path cut = tmp.resolve("cut");
        ShardedGeneration b = open(cut.resolve("shards"));
        List<Long> calls = new ArrayList<>();
        RuntimeException killed = assertThrows(
                RuntimeException.class,
                () -> b.run(
                        (first, ys, on) -> {
                            calls.add(first);
                            if (first == 4) {
                                throw new UncheckedIOException(new IOException("killed"));
                            }
                            return items(first, ys);
                        },
                        n -> {}));
        assertEquals("killed", killed.getCause().getMessage());
        assertEquals(4, b.done(), "the first shard survived");
        // a temporary file left by a killed write is cleaned up on resume
        Files.write(cut.resolve("shards/.shard-000001.npz.123.tmp"), new byte[] {1, 2});
        ShardedGeneration resumed = open(cut.resolve("shards"));
        List<Long> again = new ArrayList<>();
        resumed.run(
                (first, ys, on) -> {
                    again.add(first);
                    return items(first, ys);
                },
                n -> {});
        assertEquals(List.of(4L, 8L), again, "only the missing shards are generated");
        assertFalse(Files.exists(cut.resolve("shards/.shard-000001.npz.123.tmp")));
        resumed.mergeNpz(cut.resolve("samples.npz"));
        assertArrayEquals(
                Files.readAllBytes(whole.resolve("samples.npz")), Files.readAllBytes(cut.resolve("samples.npz")));

        Map<String, HostTensor> merged = Npz.read(cut.resolve("samples.npz"));
        assertArrayEquals(new long[] {11, 2, 3}, merged.get("arr_0").shape());
        assertArrayEquals(LABELS, merged.get("arr_1").toLongArray());
        assertEquals(HostTensor.ofBytes(DType.U8, items(0, LABELS), 11, 2, 3), merged.get("arr_0"));
        assertArrayEquals(java.util.Arrays.copyOf(items(0, LABELS), 5 * 6), resumed.head(5));

        resumed.mergeNpy(cut.resolve("items.npy"));
        assertEquals(merged.get("arr_0"), Npy.read(cut.resolve("items.npy")));
        resumed.deleteShards();
        assertEquals(0, resumed.done());
        assertTrue(Files.exists(cut.resolve("shards/manifest.json")));
    }

    /** One shard at a time, in any order, repeated: the merged file equals the one of a sequential run. */
    @Test
    void shardsGeneratedOneByOneMergeToTheSameFile() throws IOException {
        Path whole = tmp.resolve("seq");
        ShardedGeneration a = open(whole.resolve("shards"));
        a.run((first, ys, on) -> items(first, ys), n -> {});
        a.mergeNpz(whole.resolve("samples.npz"));

        Path single = tmp.resolve("single");
        ShardedGeneration b = open(single.resolve("shards"));
        for (int s : new int[] {2, 0, 1, 2}) {
            b.generate(s, (first, ys, on) -> items(first, ys), i -> {});
        }
        assertEquals(LABELS.length, b.done());
        assertTrue(b.exists(1));
        b.mergeNpz(single.resolve("samples.npz"));
        assertArrayEquals(
                Files.readAllBytes(whole.resolve("samples.npz")), Files.readAllBytes(single.resolve("samples.npz")));
        assertThrows(IllegalArgumentException.class, () -> b.generate(3, (first, ys, on) -> items(first, ys), i -> {}));
    }

    @Test
    void otherSettingsAreRefusedNamingTheDifference() throws IOException {
        Path dir = tmp.resolve("shards");
        open(dir);
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class,
                () -> new ShardedGeneration(
                        dir, LABELS, 4, DType.U8, new long[] {2, 3}, Map.of("model", "m", "seed", "1")));
        assertTrue(e.getMessage().contains("seed: 0 in") && e.getMessage().contains("1 now"), e.getMessage());
        assertThrows(
                IllegalArgumentException.class,
                () -> new ShardedGeneration(dir, LABELS, 5, DType.U8, new long[] {2, 3}, SETTINGS));
    }

    @Test
    void damagedShardIsNamedAndKept() throws IOException {
        Path dir = tmp.resolve("shards");
        ShardedGeneration g = open(dir);
        g.run((first, ys, on) -> items(first, ys), n -> {});
        Path shard = g.shard(1);
        byte[] bytes = Files.readAllBytes(shard);
        Files.write(shard, java.util.Arrays.copyOf(bytes, bytes.length / 2));
        IOException e = assertThrows(IOException.class, () -> open(dir).run((f, ys, on) -> items(f, ys), n -> {}));
        assertTrue(e.getMessage().contains("shard-000001.npz") && e.getMessage().contains("delete it"), e.getMessage());
        assertEquals(bytes.length / 2, Files.size(shard), "the damaged shard is left for the user to inspect");
        assertTrue(Files.exists(g.shard(0)) && Files.exists(g.shard(2)));
    }

    @Test
    void indexedNoiseDependsOnIndexNotOnBatch() {
        float[] whole = new float[3 * 5];
        IndexedNoise a = new IndexedNoise(7, 10, 3);
        for (int r = 0; r < 3; r++) {
            a.fill(whole, r * 5, 5, 10 + r, 0);
        }
        float[] one = new float[5];
        new IndexedNoise(7, 12, 1).fill(one, 0, 5, 12, 0);
        assertArrayEquals(java.util.Arrays.copyOfRange(whole, 10, 15), one);
        float[] other = new float[5];
        new IndexedNoise(7, 12, 1).fill(other, 0, 5, 12, 1);
        assertFalse(java.util.Arrays.equals(one, other), "each draw of an image differs");
        // standard normal moments over many draws
        float[] many = new float[200_000];
        new IndexedNoise(1, 0, 1).fill(many, 0, many.length, 0, 0);
        double mean = 0;
        double sq = 0;
        for (float v : many) {
            mean += v;
            sq += v * v;
        }
        mean /= many.length;
        double var = sq / many.length - mean * mean;
        assertEquals(0, mean, 0.01);
        assertEquals(1, var, 0.01);
    }
}
