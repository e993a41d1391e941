package ai.tinyfusion.eval;

import ai.tinyfusion.io.HostTensor;
import ai.tinyfusion.io.Npz;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Cached feature statistics of a reference image set: pooled features (FID) and spatial features
 * (sFID), stored in one uncompressed {@code .npz} with the key names of ADM's reference batches:
 * <ul>
 *   <li>{@code mu} (float64, (D,)) and {@code sigma} (float64, (D, D)): pooled features;</li>
 *   <li>{@code mu_s} (float64, (D_s,)) and {@code sigma_s} (float64, (D_s, D_s)): spatial features;</li>
 *   <li>{@code count} (int64, ()): number of images (the same for both).</li>
 * </ul>
 * Covariances are unbiased ({@code np.cov}). {@code FeatureStats.loadNpz(path)} reads the pooled
 * part and {@code FeatureStats.loadNpz(path, "mu_s", "sigma_s")} the spatial part of such a file.
 */
public record ReferenceStats(FeatureStats pooled, FeatureStats spatial) {
    public ReferenceStats {
        if (pooled.count() != spatial.count()) {
            throw new IllegalArgumentException(
                    "pooled and spatial statistics cover " + pooled.count() + " and " + spatial.count() + " images");
        }
    }

    public long count() {
        return pooled.count();
    }

    /** FID against these statistics (pooled features). */
    public double fid(FeatureStats samples) {
        return samples.frechetDistance(pooled);
    }

    /** sFID against these statistics (spatial features). */
    public double sfid(FeatureStats samples) {
        return samples.frechetDistance(spatial);
    }

    /** Writes the npz described above. */
    public void save(Path path) throws IOException {
        Map<String, HostTensor> arrays = new LinkedHashMap<>();
        pooled.putMoments(arrays, "mu", "sigma");
        spatial.putMoments(arrays, "mu_s", "sigma_s");
        arrays.put("count", HostTensor.ofLongs(new long[] {count()}));
        Npz.write(path, arrays);
    }

    /** Reads a file written by {@link #save} (or an ADM reference batch, whose count is unknown). */
    public static ReferenceStats load(Path path) throws IOException {
        List<String> keys;
        try (Npz.Archive npz = Npz.open(path)) {
            keys = npz.keys();
        }
        for (String k : new String[] {"mu", "sigma", "mu_s", "sigma_s"}) {
            if (!keys.contains(k)) {
                throw new IOException(path + " is not a reference-statistics npz: no '" + k + "' (has " + keys + ")");
            }
        }
        return new ReferenceStats(FeatureStats.loadNpz(path), FeatureStats.loadNpz(path, "mu_s", "sigma_s"));
    }
}
