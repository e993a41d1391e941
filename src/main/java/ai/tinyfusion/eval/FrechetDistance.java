package ai.tinyfusion.eval;

import org.apache.commons.math3.exception.MathIllegalStateException;
import org.apache.commons.math3.linear.Array2DRowRealMatrix;
import org.apache.commons.math3.linear.EigenDecomposition;
import org.apache.commons.math3.linear.RealMatrix;
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
 * part. Only the trace is needed, and it equals the sum of the square roots of the eigenvalues of
 * S1·S2. Writing A = S1^{1/2} (symmetric PSD, from an eigendecomposition of S1), S1·S2 = A·(A·S2)
 * has the same non-zero eigenvalues as (A·S2)·A = A·S2·A, which is symmetric positive
 * semi-definite. So
 *
 * <pre>
 *   tr(sqrtm(S1·S2)) = Σ_i sqrt(λ_i(A·S2·A)),   A = V·diag(sqrt(max(μ, 0)))·Vᵀ where S1 = V·diag(μ)·Vᵀ
 * </pre>
 *
 * which needs two symmetric eigendecompositions (commons-math3 {@link EigenDecomposition}) and no
 * complex arithmetic. Eigenvalues that come out slightly negative through rounding (they are ≥ 0
 * in exact arithmetic) are clamped to 0; this corresponds to dropping the tiny imaginary part that
 * {@code sqrtm} produces in the same situation. A clearly negative eigenvalue (below -1e-6 of the
 * largest) can only come from a covariance that is not PSD and is logged as a warning.
 *
 * <p><b>Retry.</b> As in the references, if the trace term is not finite (here: the
 * eigendecomposition fails to converge or overflows), it is recomputed with {@code eps·I} added to
 * both covariances (the traces tr(S1), tr(S2) keep the original matrices).
 *
 * <p><b>Cost.</b> O(D³): three D×D products and two eigendecompositions, all in plain Java; for
 * Inception's D = 2048 this takes tens of seconds, done once per evaluation.
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

    static double compute(double[] mu1, double[][] sigma1, double[] mu2, double[][] sigma2, double eps,
                          TraceSqrt traceSqrt) {
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
        } catch (MathIllegalStateException e) { // no convergence
            LOG.debug("eigendecomposition failed: {}", e.getMessage());
            return Double.NaN;
        }
    }

    /**
     * tr(sqrtm(s1·s2)) for symmetric PSD s1, s2, as the sum of the square roots of the eigenvalues of
     * sqrt(s1)·s2·sqrt(s1) (see the class comment). Both inputs are symmetrised ((M + Mᵀ)/2) first.
     */
    public static double traceSqrtProduct(double[][] s1, double[][] s2) {
        int d = s1.length;
        double[][] a = sqrtPsd(symmetrize(s1));
        double[][] m = multiply(multiply(a, symmetrize(s2)), a);
        double[] lambda = symmetricEigenvalues(symmetrize(m));
        double max = 0;
        double min = 0;
        for (double l : lambda) {
            max = Math.max(max, Math.abs(l));
            min = Math.min(min, l);
        }
        if (min < -1e-6 * max) {
            LOG.warn("sqrt(S1)·S2·sqrt(S1) has eigenvalue {} (largest {}): a covariance is not positive semi-definite; "
                    + "clamping to 0", min, max);
        }
        double sum = 0;
        for (int i = 0; i < d; i++) {
            sum += Math.sqrt(Math.max(lambda[i], 0));
        }
        return sum;
    }

    /** Principal square root of a symmetric PSD matrix (negative eigenvalues clamped to 0). */
    static double[][] sqrtPsd(double[][] s) {
        int d = s.length;
        EigenDecomposition eig = new EigenDecomposition(new Array2DRowRealMatrix(s, false));
        double[] mu = eig.getRealEigenvalues();
        RealMatrix v = eig.getV();
        double[][] vd = v.getData();
        // vs = V·diag(sqrt(mu)), then A = vs·Vᵀ.
        double[][] vs = new double[d][d];
        for (int j = 0; j < d; j++) {
            double r = Math.sqrt(Math.max(mu[j], 0));
            for (int i = 0; i < d; i++) {
                vs[i][j] = vd[i][j] * r;
            }
        }
        return multiplyTransposed(vs, vd);
    }

    private static double[] symmetricEigenvalues(double[][] m) {
        return new EigenDecomposition(new Array2DRowRealMatrix(m, false)).getRealEigenvalues();
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

    /** a·b for square/rectangular row-major matrices (i-k-j order, streams rows of b). */
    static double[][] multiply(double[][] a, double[][] b) {
        int n = a.length;
        int k = b.length;
        int m = b[0].length;
        double[][] c = new double[n][m];
        for (int i = 0; i < n; i++) {
            double[] ai = a[i];
            double[] ci = c[i];
            for (int p = 0; p < k; p++) {
                double v = ai[p];
                if (v == 0) {
                    continue;
                }
                double[] bp = b[p];
                for (int j = 0; j < m; j++) {
                    ci[j] += v * bp[j];
                }
            }
        }
        return c;
    }

    /** a·bᵀ (rows of a dotted with rows of b). */
    static double[][] multiplyTransposed(double[][] a, double[][] b) {
        int n = a.length;
        int m = b.length;
        double[][] c = new double[n][m];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < m; j++) {
                c[i][j] = PrecisionRecall.dot(a[i], b[j]);
            }
        }
        return c;
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
