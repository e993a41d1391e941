package ai.tinyfusion.eval;

import ai.tinyfusion.io.HostTensor;
import ai.tinyfusion.io.Npz;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Mean vector and covariance matrix of a set of feature vectors, accumulated batch by batch.
 *
 * <p>The covariance has {@code np.cov(features, rowvar=False)} semantics: unbiased, divided by
 * {@code N - 1}. Batches are merged with the pairwise update of Chan, Golub and LeVeque (each batch
 * is centred on its own mean, then its co-moment matrix is added with a correction for the shift
 * of the mean), which keeps the result as accurate as a two-pass computation and lets statistics
 * of disjoint shards be merged with {@link #merge}. Memory is one D×D matrix; cost per batch is
 * B·D²/2 multiply-adds.
 *
 * <p>These are the statistics behind FID (Inception pool-3 features, D = 2048) and sFID (the first
 * 7 channels of Inception's {@code mixed_6/conv} output, flattened, D = 7·17·17 = 2023); both are
 * compared with {@link FrechetDistance}.
 *
 * <p><b>Caching.</b> {@link #saveNpz} writes an uncompressed numpy {@code .npz} with arrays
 * {@code mu} (float64, (D,)), {@code sigma} (float64, (D, D)) and {@code count} (int64, ()), which
 * {@code np.load} reads directly. {@link #loadNpz(Path)} reads such files and also the reference
 * batches of OpenAI's ADM evaluator, which carry {@code mu}/{@code sigma} (pool features) and
 * {@code mu_s}/{@code sigma_s} (spatial features) but no count; statistics loaded without a count
 * can be compared but not updated further.
 *
 * <p>Serializable, so that statistics of shards computed in other processes can be sent to one place and merged
 * there.
 */
public final class FeatureStats implements java.io.Serializable {
    private static final long serialVersionUID = 1L;

    private final int dim;
    private long count;
    private final double[] mean;
    /** Sum over samples of (x - mean)(x - mean)^T; only the upper triangle is maintained while accumulating. */
    private final double[][] comoment;
    /** False for statistics loaded from mean/covariance alone. */
    private final boolean updatable;

    /** An empty accumulator for {@code dim}-dimensional features. */
    public FeatureStats(int dim) {
        if (dim <= 0) {
            throw new IllegalArgumentException("dim must be positive, got " + dim);
        }
        this.dim = dim;
        this.mean = new double[dim];
        this.comoment = new double[dim][dim];
        this.updatable = true;
    }

    private FeatureStats(double[] mean, double[][] comoment, long count, boolean updatable) {
        this.dim = mean.length;
        this.mean = mean;
        this.comoment = comoment;
        this.count = count;
        this.updatable = updatable;
    }

    /** Statistics of all rows of {@code features} (N × D). */
    public static FeatureStats of(double[][] features) {
        if (features.length == 0) {
            throw new IllegalArgumentException("no features");
        }
        FeatureStats s = new FeatureStats(features[0].length);
        s.update(features);
        return s;
    }

    /**
     * Statistics given directly by a mean and an (unbiased) covariance. With {@code count >= 2}
     * they can be updated further; with {@code count <= 0} (unknown) they can only be compared.
     */
    public static FeatureStats fromMoments(double[] mu, double[][] sigma, long count) {
        int d = mu.length;
        FrechetDistance.checkSquare(sigma, d, "sigma");
        double[][] m2 = new double[d][d];
        double scale = count >= 2 ? count - 1 : 1;
        for (int i = 0; i < d; i++) {
            for (int j = 0; j < d; j++) {
                m2[i][j] = sigma[i][j] * scale;
            }
        }
        return new FeatureStats(mu.clone(), m2, Math.max(count, 0), count >= 2);
    }

    /** Adds the rows of {@code batch} (B × D). */
    public void update(double[][] batch) {
        int b = batch.length;
        if (b == 0) {
            return;
        }
        double[][] rows = new double[b][];
        for (int r = 0; r < b; r++) {
            if (batch[r].length != dim) {
                throw new IllegalArgumentException(
                        "row " + r + " has " + batch[r].length + " features, expected " + dim);
            }
            rows[r] = batch[r];
        }
        addCentered(rows);
    }

    /** Adds the rows of {@code batch} (B × D), single precision (widened exactly to double). */
    public void update(float[][] batch) {
        double[][] rows = new double[batch.length][];
        for (int r = 0; r < batch.length; r++) {
            if (batch[r].length != dim) {
                throw new IllegalArgumentException(
                        "row " + r + " has " + batch[r].length + " features, expected " + dim);
            }
            rows[r] = new double[dim];
            for (int j = 0; j < dim; j++) {
                rows[r][j] = batch[r][j];
            }
        }
        addCentered(rows);
    }

    /** Adds {@code rows} samples stored row-major in {@code flat} (length rows·D), e.g. an NDArray's {@code toFloatArray()}. */
    public void update(float[] flat, int rows) {
        if ((long) rows * dim != flat.length) {
            throw new IllegalArgumentException(flat.length + " values are not " + rows + " rows of " + dim);
        }
        float[][] batch = new float[rows][];
        for (int r = 0; r < rows; r++) {
            batch[r] = java.util.Arrays.copyOfRange(flat, r * dim, (r + 1) * dim);
        }
        update(batch);
    }

    private void addCentered(double[][] rows) {
        requireUpdatable();
        int b = rows.length;
        double[] bm = new double[dim];
        for (double[] row : rows) {
            for (int j = 0; j < dim; j++) {
                bm[j] += row[j];
            }
        }
        for (int j = 0; j < dim; j++) {
            bm[j] /= b;
        }
        double[][] bc = new double[dim][dim];
        double[] c = new double[dim];
        for (double[] row : rows) {
            for (int j = 0; j < dim; j++) {
                c[j] = row[j] - bm[j];
            }
            for (int i = 0; i < dim; i++) {
                double ci = c[i];
                double[] out = bc[i];
                for (int j = i; j < dim; j++) {
                    out[j] += ci * c[j];
                }
            }
        }
        combine(b, bm, bc);
    }

    /** Adds another accumulator's samples (both must be updatable and of the same dimension). */
    public void merge(FeatureStats other) {
        if (other.dim != dim) {
            throw new IllegalArgumentException("dimension " + other.dim + " != " + dim);
        }
        other.requireUpdatable();
        requireUpdatable();
        if (other.count == 0) {
            return;
        }
        double[][] oc = new double[dim][dim];
        for (int i = 0; i < dim; i++) {
            System.arraycopy(other.comoment[i], i, oc[i], i, dim - i);
        }
        combine(other.count, other.mean.clone(), oc);
    }

    /** Chan et al.: merge (nb, meanB, M2_B upper triangle) into this. */
    private void combine(long nb, double[] mb, double[][] m2b) {
        long na = count;
        long n = na + nb;
        double[] delta = new double[dim];
        for (int j = 0; j < dim; j++) {
            delta[j] = mb[j] - mean[j];
        }
        double w = (double) na * (double) nb / (double) n;
        for (int i = 0; i < dim; i++) {
            double di = delta[i] * w;
            double[] out = comoment[i];
            double[] add = m2b[i];
            for (int j = i; j < dim; j++) {
                out[j] += add[j] + di * delta[j];
            }
        }
        double f = (double) nb / (double) n;
        for (int j = 0; j < dim; j++) {
            mean[j] += delta[j] * f;
        }
        count = n;
    }

    private void requireUpdatable() {
        if (!updatable) {
            throw new IllegalStateException("statistics loaded without a sample count cannot be updated");
        }
    }

    public int dim() {
        return dim;
    }

    /** Number of samples (0 when unknown, e.g. loaded from an ADM reference batch). */
    public long count() {
        return count;
    }

    /** The mean vector (a copy). */
    public double[] mean() {
        if (updatable && count == 0) {
            throw new IllegalStateException("no samples");
        }
        return mean.clone();
    }

    /** The unbiased covariance (divided by N - 1, as np.cov), a fresh D×D array. */
    public double[][] covariance() {
        double[][] s = new double[dim][dim];
        double scale;
        if (updatable) {
            if (count < 2) {
                throw new IllegalStateException("covariance needs at least 2 samples, have " + count);
            }
            scale = 1.0 / (count - 1);
        } else {
            scale = count >= 2 ? 1.0 / (count - 1) : 1.0;
        }
        for (int i = 0; i < dim; i++) {
            for (int j = i; j < dim; j++) {
                double v = comoment[i][j] * scale;
                s[i][j] = v;
                s[j][i] = v;
            }
        }
        if (!updatable) {
            // Loaded matrices are stored whole and may be slightly asymmetric: keep them as given.
            for (int i = 0; i < dim; i++) {
                for (int j = 0; j < i; j++) {
                    s[i][j] = comoment[i][j] * scale;
                }
            }
        }
        return s;
    }

    /** Fréchet distance between these statistics and {@code other} (FID / sFID). */
    public double frechetDistance(FeatureStats other) {
        return FrechetDistance.compute(mean(), covariance(), other.mean(), other.covariance());
    }

    /** Writes {@code mu}, {@code sigma} and {@code count} to an uncompressed npz at {@code path}. */
    public void saveNpz(Path path) throws IOException {
        Map<String, HostTensor> arrays = new LinkedHashMap<>();
        putMoments(arrays, "mu", "sigma");
        arrays.put("count", HostTensor.ofLongs(new long[] {count}));
        Npz.write(path, arrays);
    }

    /** Puts the mean (float64, {@code (d,)}) and covariance (float64, {@code (d, d)}) under the given keys. */
    void putMoments(Map<String, HostTensor> arrays, String muKey, String sigmaKey) {
        double[][] sigma = covariance();
        double[] flat = new double[Math.multiplyExact(dim, dim)];
        for (int i = 0; i < dim; i++) {
            System.arraycopy(sigma[i], 0, flat, i * dim, dim);
        }
        arrays.put(muKey, HostTensor.ofDoubles(mean(), dim));
        arrays.put(sigmaKey, HostTensor.ofDoubles(flat, dim, dim));
    }

    /** Loads {@code mu}/{@code sigma} (and {@code count} if present) from an npz. */
    public static FeatureStats loadNpz(Path path) throws IOException {
        return loadNpz(path, "mu", "sigma");
    }

    /**
     * Loads the mean and covariance stored under the given keys, e.g. {@code "mu_s", "sigma_s"} for
     * the spatial (sFID) statistics of an ADM reference batch. A {@code count} array, if present,
     * makes the result updatable.
     */
    public static FeatureStats loadNpz(Path path, String muKey, String sigmaKey) throws IOException {
        try (Npz.Archive npz = Npz.open(path)) {
            HostTensor mu = npz.get(muKey);
            HostTensor sigma = npz.get(sigmaKey);
            if (mu.shape().length != 1) {
                throw new IOException(
                        path + ": " + muKey + " must be 1-D, has shape " + java.util.Arrays.toString(mu.shape()));
            }
            int d = (int) mu.shape()[0];
            if (sigma.shape().length != 2 || sigma.shape()[0] != d || sigma.shape()[1] != d) {
                throw new IOException(path + ": " + sigmaKey + " must be " + d + "x" + d + ", has shape "
                        + java.util.Arrays.toString(sigma.shape()));
            }
            double[] flat = sigma.toDoubleArray();
            double[][] s = new double[d][d];
            for (int i = 0; i < d; i++) {
                System.arraycopy(flat, i * d, s[i], 0, d);
            }
            long count = npz.contains("count") ? (long) npz.get("count").toDoubleArray()[0] : 0;
            return fromMoments(mu.toDoubleArray(), s, count);
        }
    }
}
