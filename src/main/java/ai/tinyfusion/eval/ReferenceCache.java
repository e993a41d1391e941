package ai.tinyfusion.eval;

import ai.tinyfusion.io.HostTensor;
import ai.tinyfusion.io.Npz;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.LinkedHashMap;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Cached reference features: the statistics (FID, sFID) and pooled features (precision/recall) of
 * a reference image set under a feature network, stored as {@code <key>.stats.npz} and
 * {@code <key>.pooled.npz} in the cache directory. The key must identify both the images and the
 * network (callers use their SHA-256s). The directory is {@code -Dtinyfusion.cache}, else
 * {@code $XDG_CACHE_HOME/tinyfusion}, else {@code ~/.cache/tinyfusion}. A cache file that cannot be
 * read is recomputed and rewritten (with a warning), never trusted.
 */
public final class ReferenceCache {
    private static final Logger LOG = LoggerFactory.getLogger(ReferenceCache.class);

    private final Path dir;

    public ReferenceCache(Path dir) {
        this.dir = dir;
    }

    public static ReferenceCache standard() {
        String p = System.getProperty("tinyfusion.cache");
        if (p != null && !p.isBlank()) {
            return new ReferenceCache(Path.of(p));
        }
        String xdg = System.getenv("XDG_CACHE_HOME");
        Path base = xdg != null && !xdg.isBlank() ? Path.of(xdg) : Path.of(System.getProperty("user.home"), ".cache");
        return new ReferenceCache(base.resolve("tinyfusion"));
    }

    /** What a reference needs: statistics and pooled features. */
    public record Entry(ReferenceStats stats, double[][] pooled) {}

    /** Computes a summary of the reference images (with pooled features kept). */
    @FunctionalInterface
    public interface Compute {
        FeatureNet.Summary summarize() throws IOException;
    }

    /**
     * The cache for reference files in {@code file}'s folder: that folder when it is writable,
     * otherwise {@link #standard()}.
     */
    public static ReferenceCache nextTo(Path file) {
        Path parent = file.toAbsolutePath().getParent();
        return parent != null && Files.isDirectory(parent) && Files.isWritable(parent)
                ? new ReferenceCache(parent)
                : standard();
    }

    /** The folder the files are kept in. */
    public Path dir() {
        return dir;
    }

    /** Computes an entry directly (statistics and pooled features). */
    @FunctionalInterface
    public interface ComputeEntry {
        Entry compute() throws IOException;
    }

    /** The cached entry for {@code key}, or computes, stores and returns it. */
    public Entry get(String key, Compute compute) throws IOException {
        return getEntry(key, () -> {
            FeatureNet.Summary s = compute.summarize();
            return new Entry(s.referenceStats(), s.pooled());
        });
    }

    /**
     * The cached entry for {@code key}, or computes, stores and returns it. Both files are written
     * to a temporary file in the folder and moved into place, so a reader never sees half a file.
     */
    public Entry getEntry(String key, ComputeEntry compute) throws IOException {
        Path stats = dir.resolve(key + ".stats.npz");
        Path pooled = dir.resolve(key + ".pooled.npz");
        if (Files.isRegularFile(stats) && Files.isRegularFile(pooled)) {
            try {
                return new Entry(ReferenceStats.load(stats), readPooled(pooled));
            } catch (IOException | RuntimeException e) {
                LOG.warn("ignoring unreadable reference cache {} ({}); recomputing", stats, e.getMessage());
            }
        }
        Entry e = compute.compute();
        try {
            Files.createDirectories(dir);
            Path tmp = Files.createTempFile(dir, key, ".stats.tmp.npz");
            e.stats().save(tmp);
            Files.move(tmp, stats, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            writePooled(pooled, e.pooled()); // Npz.write is atomic
        } catch (IOException ex) {
            LOG.warn("could not write the reference cache in {}: {}", dir, ex.getMessage());
        }
        return e;
    }

    private static void writePooled(Path file, double[][] pooled) throws IOException {
        int n = pooled.length;
        int d = n == 0 ? 0 : pooled[0].length;
        float[] flat = new float[n * d];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < d; j++) {
                flat[i * d + j] = (float) pooled[i][j];
            }
        }
        Map<String, HostTensor> arrays = new LinkedHashMap<>();
        arrays.put("pooled", HostTensor.ofFloats(flat, n, d));
        Npz.write(file, arrays);
    }

    private static double[][] readPooled(Path file) throws IOException {
        HostTensor t = Npz.read(file).get("pooled");
        if (t == null || t.shape().length != 2) {
            throw new IOException(file + ": no 2-D 'pooled' array");
        }
        int n = (int) t.shape()[0];
        int d = (int) t.shape()[1];
        float[] flat = t.toFloatArray();
        double[][] out = new double[n][d];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < d; j++) {
                out[i][j] = flat[i * d + j];
            }
        }
        return out;
    }
}
