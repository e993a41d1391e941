package ai.tinyfusion.eval;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Reference features are computed once per key and read back equal; a corrupt cache is recomputed. */
class ReferenceCacheTest {
    private static FeatureNet.Summary summary() {
        double[][] pooled = new double[6][3];
        for (int i = 0; i < 6; i++) {
            for (int j = 0; j < 3; j++) {
                pooled[i][j] = Math.sin(i * 3 + j) + 0.25f * j;
            }
        }
        FeatureStats p = FeatureStats.of(pooled);
        FeatureStats s = FeatureStats.of(new double[][] {{1, 2}, {2, 1}, {0, 3}, {1, 1}, {2, 2}, {0, 1}});
        return new FeatureNet.Summary(p, s, pooled, null, null);
    }

    @Test
    void computesOnceAndReadsBack(@TempDir Path dir) throws Exception {
        ReferenceCache cache = new ReferenceCache(dir);
        AtomicInteger calls = new AtomicInteger();
        ReferenceCache.Entry a = cache.get("k", () -> {
            calls.incrementAndGet();
            return summary();
        });
        ReferenceCache.Entry b = cache.get("k", () -> {
            calls.incrementAndGet();
            return summary();
        });
        assertEquals(1, calls.get());
        assertArrayEquals(a.stats().pooled().mean(), b.stats().pooled().mean(), 0);
        assertEquals(0, a.stats().fid(b.stats().pooled()), 1e-9);
        for (int i = 0; i < a.pooled().length; i++) {
            assertArrayEquals(a.pooled()[i], b.pooled()[i], 1e-6); // stored as float32
        }
    }

    @Test
    void corruptCacheIsRecomputed(@TempDir Path dir) throws Exception {
        ReferenceCache cache = new ReferenceCache(dir);
        cache.get("k", ReferenceCacheTest::summary);
        Files.write(dir.resolve("k.stats.npz"), new byte[] {1, 2, 3});
        AtomicInteger calls = new AtomicInteger();
        cache.get("k", () -> {
            calls.incrementAndGet();
            return summary();
        });
        assertEquals(1, calls.get());
    }
}
