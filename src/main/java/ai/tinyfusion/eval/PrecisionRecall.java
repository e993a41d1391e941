package ai.tinyfusion.eval;

import java.util.Arrays;
import java.util.BitSet;
import java.util.stream.IntStream;

/**
 * Improved precision and recall (Kynkäänniemi et al. 2019) as the ADM evaluator computes them
 * ({@code ManifoldEstimator} with {@code nhood_sizes=(3,)} and no percentile clamping).
 *
 * <ul>
 *   <li>Each set's manifold is the union of balls around its samples; a sample's radius is its
 *       <em>squared</em> Euclidean distance to its k-th nearest neighbour in the same set, self
 *       excluded. ADM takes the (k+1)-th smallest distance of a row including the self-distance
 *       0 ({@code np.partition(..., k)[:, k]}), and so does {@link #manifoldRadii}: exact
 *       duplicates therefore count as neighbours at distance 0.</li>
 *   <li>precision = fraction of generated samples that lie inside at least one real sample's ball
 *       ({@code d²(real_i, gen_j) <= r_real_i});</li>
 *   <li>recall = fraction of real samples inside at least one generated sample's ball.</li>
 * </ul>
 *
 * <p>Distances are computed in double precision directly as Σ(x−y)² (ADM computes
 * ‖x‖²−2x·y+‖y‖² in float16, falling back to float32 when that overflows), so results can differ
 * from ADM's only for samples lying within float rounding of a ball's boundary.
 *
 * <p>Memory stays bounded: distances are produced in row blocks of {@value #ROW_BLOCK} against all
 * columns and reduced on the fly (k+1 smallest per row; "inside" flags), so no N×M matrix is ever
 * held. Row blocks run on the common fork-join pool. Pairs whose outcome is already decided (both
 * flags set) are skipped, which never changes the result.
 */
public final class PrecisionRecall {
    /** ADM's neighbourhood size. */
    public static final int DEFAULT_K = 3;

    static final int ROW_BLOCK = 64;
    static final int COL_BLOCK = 512;

    private PrecisionRecall() {}

    /** Precision and recall of the generated set against the real set. */
    public record Result(double precision, double recall) {}

    /** Improved precision/recall with k = {@value #DEFAULT_K}. */
    public static Result compute(double[][] real, double[][] generated) {
        return compute(real, generated, DEFAULT_K);
    }

    /** Improved precision/recall with neighbourhood size {@code k}. */
    public static Result compute(double[][] real, double[][] generated, int k) {
        checkFeatures(real, "real");
        checkFeatures(generated, "generated");
        if (real[0].length != generated[0].length) {
            throw new IllegalArgumentException(
                    "feature dimensions differ: " + real[0].length + " vs " + generated[0].length);
        }
        double[] realRadii = manifoldRadii(real, k);
        double[] genRadii = manifoldRadii(generated, k);
        boolean[][] flags = crossInside(real, realRadii, generated, genRadii);
        return new Result(fraction(flags[1]), fraction(flags[0]));
    }

    /**
     * Squared distance from each row to its k-th nearest other row (the (k+1)-th smallest squared
     * distance including the row itself). Needs at least k+1 rows.
     */
    public static double[] manifoldRadii(double[][] features, int k) {
        checkFeatures(features, "features");
        int n = features.length;
        if (k < 1) {
            throw new IllegalArgumentException("k must be >= 1, got " + k);
        }
        if (n < k + 1) {
            throw new IllegalArgumentException(
                    "need at least k+1 = " + (k + 1) + " samples for k = " + k + ", have " + n);
        }
        double[] radii = new double[n];
        int blocks = (n + ROW_BLOCK - 1) / ROW_BLOCK;
        IntStream.range(0, blocks).parallel().forEach(blk -> {
            int r0 = blk * ROW_BLOCK;
            int r1 = Math.min(n, r0 + ROW_BLOCK);
            // best[r][0..k]: the k+1 smallest distances of row r, ascending.
            double[][] best = new double[r1 - r0][k + 1];
            for (double[] b : best) {
                Arrays.fill(b, Double.POSITIVE_INFINITY);
            }
            for (int c0 = 0; c0 < n; c0 += COL_BLOCK) {
                int c1 = Math.min(n, c0 + COL_BLOCK);
                for (int r = r0; r < r1; r++) {
                    double[] x = features[r];
                    double[] b = best[r - r0];
                    for (int c = c0; c < c1; c++) {
                        double dist = squaredDistance(x, features[c]);
                        if (dist < b[k]) {
                            int pos = k;
                            while (pos > 0 && b[pos - 1] > dist) {
                                b[pos] = b[pos - 1];
                                pos--;
                            }
                            b[pos] = dist;
                        }
                    }
                }
            }
            for (int r = r0; r < r1; r++) {
                radii[r] = best[r - r0][k];
            }
        });
        return radii;
    }

    /**
     * Fraction of {@code evalFeatures} rows inside at least one ball (squared radius
     * {@code refRadii[i]}) around the rows of {@code refFeatures}.
     */
    public static double fractionInside(double[][] refFeatures, double[] refRadii, double[][] evalFeatures) {
        checkFeatures(refFeatures, "refFeatures");
        checkFeatures(evalFeatures, "evalFeatures");
        if (refRadii.length != refFeatures.length) {
            throw new IllegalArgumentException(
                    refRadii.length + " radii for " + refFeatures.length + " reference rows");
        }
        int n = evalFeatures.length;
        boolean[] inside = new boolean[n];
        int blocks = (n + ROW_BLOCK - 1) / ROW_BLOCK;
        IntStream.range(0, blocks).parallel().forEach(blk -> {
            int r0 = blk * ROW_BLOCK;
            int r1 = Math.min(n, r0 + ROW_BLOCK);
            for (int r = r0; r < r1; r++) {
                double[] x = evalFeatures[r];
                for (int c = 0; c < refFeatures.length; c++) {
                    if (squaredDistance(x, refFeatures[c]) <= refRadii[c]) {
                        inside[r] = true;
                        break;
                    }
                }
            }
        });
        return fraction(inside);
    }

    /**
     * One pass over all (a_i, b_j) pairs: {@code [0][i]} = a_i inside some b ball, {@code [1][j]} =
     * b_j inside some a ball.
     */
    static boolean[][] crossInside(double[][] a, double[] aRadii, double[][] b, double[] bRadii) {
        int na = a.length;
        int nb = b.length;
        boolean[] aIn = new boolean[na];
        int blocks = (na + ROW_BLOCK - 1) / ROW_BLOCK;
        BitSet bIn = IntStream.range(0, blocks)
                .parallel()
                .mapToObj(blk -> {
                    int r0 = blk * ROW_BLOCK;
                    int r1 = Math.min(na, r0 + ROW_BLOCK);
                    BitSet local = new BitSet(nb);
                    for (int c0 = 0; c0 < nb; c0 += COL_BLOCK) {
                        int c1 = Math.min(nb, c0 + COL_BLOCK);
                        for (int r = r0; r < r1; r++) {
                            double[] x = a[r];
                            double ra = aRadii[r];
                            for (int c = c0; c < c1; c++) {
                                boolean needA = !aIn[r];
                                boolean needB = !local.get(c);
                                if (!needA && !needB) {
                                    continue;
                                }
                                double dist = squaredDistance(x, b[c]);
                                if (needA && dist <= bRadii[c]) {
                                    aIn[r] = true;
                                }
                                if (needB && dist <= ra) {
                                    local.set(c);
                                }
                            }
                        }
                    }
                    return local;
                })
                .reduce(new BitSet(nb), (x, y) -> {
                    BitSet z = (BitSet) x.clone();
                    z.or(y);
                    return z;
                });
        boolean[] bFlags = new boolean[nb];
        for (int j = bIn.nextSetBit(0); j >= 0; j = bIn.nextSetBit(j + 1)) {
            bFlags[j] = true;
        }
        return new boolean[][] {aIn, bFlags};
    }

    static double squaredDistance(double[] x, double[] y) {
        int d = x.length;
        double s0 = 0;
        double s1 = 0;
        double s2 = 0;
        double s3 = 0;
        int i = 0;
        for (; i + 3 < d; i += 4) {
            double t0 = x[i] - y[i];
            double t1 = x[i + 1] - y[i + 1];
            double t2 = x[i + 2] - y[i + 2];
            double t3 = x[i + 3] - y[i + 3];
            s0 += t0 * t0;
            s1 += t1 * t1;
            s2 += t2 * t2;
            s3 += t3 * t3;
        }
        for (; i < d; i++) {
            double t = x[i] - y[i];
            s0 += t * t;
        }
        return (s0 + s1) + (s2 + s3);
    }

    static double dot(double[] x, double[] y) {
        int d = x.length;
        double s0 = 0;
        double s1 = 0;
        double s2 = 0;
        double s3 = 0;
        int i = 0;
        for (; i + 3 < d; i += 4) {
            s0 += x[i] * y[i];
            s1 += x[i + 1] * y[i + 1];
            s2 += x[i + 2] * y[i + 2];
            s3 += x[i + 3] * y[i + 3];
        }
        for (; i < d; i++) {
            s0 += x[i] * y[i];
        }
        return (s0 + s1) + (s2 + s3);
    }

    private static double fraction(boolean[] flags) {
        int c = 0;
        for (boolean f : flags) {
            if (f) {
                c++;
            }
        }
        return (double) c / flags.length;
    }

    private static void checkFeatures(double[][] f, String name) {
        if (f.length == 0) {
            throw new IllegalArgumentException(name + " is empty");
        }
        int d = f[0].length;
        for (int i = 0; i < f.length; i++) {
            if (f[i].length != d) {
                throw new IllegalArgumentException(
                        name + " row " + i + " has " + f[i].length + " features, expected " + d);
            }
        }
    }
}
