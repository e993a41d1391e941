package ai.tinyfusion.eval;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Fréchet distance between two Gaussians, the quantity behind FID and sFID.
 *
 * <pre>
 *   d² = ||mu1 - mu2||² + tr(S1) + tr(S2) - 2·tr( sqrtm(S1·S2) )
 * </pre>
 *
 * as computed by pytorch-fid and by the ADM evaluator ({@code FIDStatistics.frechet_distance}):
 * same formula, same {@code eps·I} retry, real part of the matrix square root.
 *
 * <p><b>How the trace term is computed.</b> The reference implementations call
 * {@code scipy.linalg.sqrtm} on the non-symmetric product S1·S2 and take the trace of the real
 * part. Only the trace is needed, and for a diagonalisable matrix with non-negative eigenvalues it
 * is the sum of the square roots of its eigenvalues. For any factorisation S1 = F·Fᵀ,
 * S1·S2 = F·(Fᵀ·S2) has the same non-zero eigenvalues as (Fᵀ·S2)·F = Fᵀ·S2·F (AB and BA share
 * their non-zero spectrum), and Fᵀ·S2·F is symmetric positive semi-definite. With F = S1^{1/2}
 * this is the familiar sqrt(S1)·S2·sqrt(S1); here F is the cheaper pivoted Cholesky factor
 * (S1 = P·L·Lᵀ·Pᵀ, L of numerical rank r, so rank-deficient covariances from fewer samples than
 * dimensions are fine):
 *
 * <pre>
 *   tr(sqrtm(S1·S2)) = Σ_i sqrt(max(λ_i, 0)),   λ = eigenvalues of Lᵀ·(Pᵀ·S2·P)·L  (r × r, symmetric)
 * </pre>
 *
 * No complex arithmetic and no non-symmetric eigenproblem are involved. Eigenvalues that come out
 * slightly negative through rounding (they are ≥ 0 in exact arithmetic) are clamped to 0; this
 * corresponds to dropping the tiny imaginary part {@code sqrtm} produces in the same situation. A
 * clearly negative eigenvalue (below -1e-6 of the largest) can only come from a covariance that is
 * not PSD and is logged as a warning. The pivoted Cholesky stops at pivots below n·ε·max(diag S1),
 * the usual numerical-rank threshold, whose effect is at the level of rounding noise.
 *
 * <p><b>Retry.</b> As in the references, if the trace term is not finite (here: an overflow or a
 * failure of the eigenvalue iteration to converge), it is recomputed with {@code eps·I} added to
 * both covariances (the traces tr(S1), tr(S2) keep the original matrices).
 *
 * <p><b>Cost.</b> About (2/3 + 1 + 4/3)·D³ flops in plain Java ({@link Linalg}): about 9 s for
 * Inception's D = 2048 on the project's 2-core machines, once per evaluation.
 *
 * <p>sFID is the same function applied to the statistics of spatial features (see
 * {@link FeatureStats}).
 */
public final class FrechetDistance {
    private static final Logger LOG = LoggerFactory.getLogger(FrechetDistance.class);

    /** The diagonal offset used by pytorch-fid and ADM when the first attempt fails. */
    public static final double DEFAULT_EPS = 1e-6;

    private FrechetDistance() {}

    /** Strategy for tr(sqrtm(s1·s2)); separated so the retry path can be exercised in tests. */
    interface TraceSqrt {
        double apply(double[][] s1, double[][] s2);
    }

    /** Fréchet distance with the default retry offset {@value #DEFAULT_EPS}. */
    public static double compute(double[] mu1, double[][] sigma1, double[] mu2, double[][] sigma2) {
        return compute(mu1, sigma1, mu2, sigma2, DEFAULT_EPS);
    }

    /** Fréchet distance; {@code eps} is the diagonal offset used when the first attempt is not finite. */
    public static double compute(double[] mu1, double[][] sigma1, double[] mu2, double[][] sigma2, double eps) {
        return compute(mu1, sigma1, mu2, sigma2, eps, FrechetDistance::traceSqrtProduct);
    }

    static double compute(
            double[] mu1, double[][] sigma1, double[] mu2, double[][] sigma2, double eps, TraceSqrt traceSqrt) {
        int d = mu1.length;
        if (mu2.length != d) {
            throw new IllegalArgumentException("mean vectors have different lengths: " + d + ", " + mu2.length);
        }
        checkSquare(sigma1, d, "sigma1");
        checkSquare(sigma2, d, "sigma2");
        checkFinite(mu1, "mu1");
        checkFinite(mu2, "mu2");
        checkFinite(sigma1, "sigma1");
        checkFinite(sigma2, "sigma2");

        double diff2 = 0;
        for (int i = 0; i < d; i++) {
            double t = mu1[i] - mu2[i];
            diff2 += t * t;
        }
        double tr1 = 0;
        double tr2 = 0;
        for (int i = 0; i < d; i++) {
            tr1 += sigma1[i][i];
            tr2 += sigma2[i][i];
        }
        double trCovmean = safeTrace(traceSqrt, sigma1, sigma2);
        if (!Double.isFinite(trCovmean)) {
            LOG.warn("fid calculation produces singular product; adding {} to diagonal of cov estimates", eps);
            trCovmean = safeTrace(traceSqrt, addDiagonal(sigma1, eps), addDiagonal(sigma2, eps));
            if (!Double.isFinite(trCovmean)) {
                throw new ArithmeticException("tr(sqrtm(S1·S2)) is not finite even with eps = " + eps);
            }
        }
        return diff2 + tr1 + tr2 - 2 * trCovmean;
    }

    private static double safeTrace(TraceSqrt f, double[][] s1, double[][] s2) {
        try {
            return f.apply(s1, s2);
        } catch (ArithmeticException e) { // no convergence
            LOG.debug("eigenvalue iteration failed: {}", e.getMessage());
            return Double.NaN;
        }
    }

    /**
     * tr(sqrtm(s1·s2)) for symmetric PSD s1, s2, as the sum of the square roots of the eigenvalues of
     * Lᵀ·(Pᵀ·s2·P)·L where s1 = P·L·Lᵀ·Pᵀ (see the class comment). Both inputs are symmetrised
     * ((M + Mᵀ)/2) first.
     */
    public static double traceSqrtProduct(double[][] s1, double[][] s2) {
        int d = s1.length;
        Linalg.Cholesky ch = Linalg.pivotedCholesky(symmetrize(s1));
        if (ch.rank() == 0) {
            return 0;
        }
        double[][] b = symmetrize(s2);
        int[] perm = ch.perm();
        double[][] bp = new double[d][d];
        for (int i = 0; i < d; i++) {
            double[] src = b[perm[i]];
            double[] dst = bp[i];
            for (int j = 0; j < d; j++) {
                dst[j] = src[perm[j]];
            }
        }
        double[] lambda = Linalg.symmetricEigenvalues(Linalg.congruence(ch.l(), bp, ch.rank()));
        double max = 0;
        double min = 0;
        for (double l : lambda) {
            max = Math.max(max, Math.abs(l));
            min = Math.min(min, l);
        }
        if (min < -1e-6 * max) {
            LOG.warn(
                    "L'·S2·L has eigenvalue {} (largest {}): a covariance is not positive semi-definite; "
                            + "clamping to 0",
                    min,
                    max);
        }
        double sum = 0;
        for (double l : lambda) {
            sum += Math.sqrt(Math.max(l, 0));
        }
        return sum;
    }

    static double[][] symmetrize(double[][] m) {
        int d = m.length;
        double[][] out = new double[d][d];
        for (int i = 0; i < d; i++) {
            out[i][i] = m[i][i];
            for (int j = i + 1; j < d; j++) {
                double v = 0.5 * (m[i][j] + m[j][i]);
                out[i][j] = v;
                out[j][i] = v;
            }
        }
        return out;
    }

    private static double[][] addDiagonal(double[][] s, double eps) {
        double[][] out = new double[s.length][];
        for (int i = 0; i < s.length; i++) {
            out[i] = s[i].clone();
            out[i][i] += eps;
        }
        return out;
    }

    static void checkSquare(double[][] s, int d, String name) {
        if (s.length != d) {
            throw new IllegalArgumentException(name + " has " + s.length + " rows, expected " + d);
        }
        for (double[] row : s) {
            if (row.length != d) {
                throw new IllegalArgumentException(name + " is not " + d + "x" + d);
            }
        }
    }

    private static void checkFinite(double[] v, String name) {
        for (double x : v) {
            if (!Double.isFinite(x)) {
                throw new IllegalArgumentException(name + " contains a non-finite value");
            }
        }
    }

    private static void checkFinite(double[][] m, String name) {
        for (double[] row : m) {
            checkFinite(row, name);
        }
    }
}
