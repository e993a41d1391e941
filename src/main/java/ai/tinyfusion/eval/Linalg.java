package ai.tinyfusion.eval;

/**
 * The dense linear algebra behind {@link FrechetDistance}, written for speed on row-major
 * {@code double[][]} (every inner loop runs along a row): a pivoted Cholesky factorisation of a
 * symmetric positive semi-definite matrix and the eigenvalues (without eigenvectors) of a symmetric
 * matrix. For D = 2048 the whole Fréchet distance takes seconds; commons-math3's
 * {@code EigenDecomposition}, which always accumulates eigenvectors through element accessors,
 * needed about 80 s per 2048² decomposition on this project's 2-core machines (it is used as the
 * reference in the tests).
 */
final class Linalg {
    private Linalg() {}

    /** Result of {@link #pivotedCholesky}: {@code s[perm[i]][perm[j]] ≈ Σ_k l[i][k]·l[j][k]}, l is n×rank, l[i][k] = 0 for i < k. */
    record Cholesky(double[][] l, int[] perm, int rank) {}

    /**
     * Outer-product Cholesky with complete (diagonal) pivoting, LAPACK {@code dpstrf} style: at each
     * step the largest remaining diagonal entry is the pivot, and the factorisation stops when it is
     * at most {@code n·ε·max(diag(s))} (what is left is then numerically zero, e.g. the null space of
     * a covariance estimated from fewer samples than dimensions).
     */
    static Cholesky pivotedCholesky(double[][] s) {
        int n = s.length;
        double[][] a = new double[n][];
        for (int i = 0; i < n; i++) {
            a[i] = s[i].clone();
        }
        int[] perm = new int[n];
        double maxDiag = 0;
        for (int i = 0; i < n; i++) {
            perm[i] = i;
            maxDiag = Math.max(maxDiag, a[i][i]);
        }
        double tol = n * Math.ulp(1.0) * maxDiag;
        int rank = 0;
        double[] col = new double[n];
        for (int k = 0; k < n; k++) {
            int q = k;
            for (int i = k + 1; i < n; i++) {
                if (a[i][i] > a[q][q]) {
                    q = i;
                }
            }
            if (!(a[q][q] > tol)) {
                break;
            }
            if (q != k) {
                double[] tr = a[k];
                a[k] = a[q];
                a[q] = tr;
                for (double[] row : a) {
                    double t = row[k];
                    row[k] = row[q];
                    row[q] = t;
                }
                int tp = perm[k];
                perm[k] = perm[q];
                perm[q] = tp;
            }
            double piv = Math.sqrt(a[k][k]);
            a[k][k] = piv;
            for (int i = k + 1; i < n; i++) {
                a[i][k] /= piv;
                col[i] = a[i][k];
            }
            // Schur complement on the trailing block, both triangles (keeps row/column swaps simple).
            for (int i = k + 1; i < n; i++) {
                double ci = col[i];
                if (ci == 0) {
                    continue;
                }
                double[] row = a[i];
                for (int j = k + 1; j < n; j++) {
                    row[j] -= ci * col[j];
                }
            }
            rank = k + 1;
        }
        double[][] l = new double[n][rank];
        for (int i = 0; i < n; i++) {
            int upto = Math.min(i + 1, rank);
            System.arraycopy(a[i], 0, l[i], 0, upto);
        }
        return new Cholesky(l, perm, rank);
    }

    /**
     * {@code Lᵀ·B·L} for the n×r lower-trapezoidal {@code l} and symmetric n×n {@code b}, r×r and
     * exactly symmetric (the upper triangle is computed and mirrored).
     */
    static double[][] congruence(double[][] l, double[][] b, int r) {
        int n = l.length;
        // t = B·L (n×r), skipping the structural zeros of L.
        double[][] t = new double[n][r];
        for (int i = 0; i < n; i++) {
            double[] bi = b[i];
            double[] ti = t[i];
            for (int j = 0; j < n; j++) {
                double v = bi[j];
                if (v == 0) {
                    continue;
                }
                double[] lj = l[j];
                int upto = Math.min(j + 1, r);
                for (int k = 0; k < upto; k++) {
                    ti[k] += v * lj[k];
                }
            }
        }
        // m = Lᵀ·t, upper triangle: m[a][c] = Σ_i l[i][a]·t[i][c] for c ≥ a.
        double[][] m = new double[r][r];
        for (int i = 0; i < n; i++) {
            double[] li = l[i];
            double[] ti = t[i];
            int upto = Math.min(i + 1, r);
            for (int a = 0; a < upto; a++) {
                double v = li[a];
                if (v == 0) {
                    continue;
                }
                double[] ma = m[a];
                for (int c = a; c < r; c++) {
                    ma[c] += v * ti[c];
                }
            }
        }
        for (int a = 0; a < r; a++) {
            for (int c = a + 1; c < r; c++) {
                m[c][a] = m[a][c];
            }
        }
        return m;
    }

    /**
     * Eigenvalues (ascending) of a symmetric matrix: Householder reduction to tridiagonal form
     * followed by the implicit QL algorithm with Wilkinson-type shifts. Only the lower triangle's
     * mirror-image consistency is assumed: pass an exactly symmetric matrix.
     */
    static double[] symmetricEigenvalues(double[][] s) {
        int n = s.length;
        double[] d = new double[n];
        double[] e = new double[n];
        if (n == 0) {
            return d;
        }
        double[][] a = new double[n][];
        for (int i = 0; i < n; i++) {
            a[i] = s[i].clone();
        }
        tridiagonalize(a, d, e);
        tridiagonalQl(d, e);
        java.util.Arrays.sort(d);
        return d;
    }

    /**
     * Householder tridiagonalisation (Golub and Van Loan, Alg. 8.3.1), working on rows: step k
     * reflects row/column k's part below the diagonal onto its first entry and applies the
     * symmetric rank-2 update to the trailing block. On return d holds the diagonal and
     * e[k] the entry coupling k and k+1 (e[n-1] = 0).
     */
    private static void tridiagonalize(double[][] a, double[] d, double[] e) {
        int n = a.length;
        double[] v = new double[n];
        double[] p = new double[n];
        for (int k = 0; k < n - 2; k++) {
            double[] rowK = a[k];
            int m0 = k + 1;
            double scale = 0;
            for (int i = m0; i < n; i++) {
                scale = Math.max(scale, Math.abs(rowK[i]));
            }
            d[k] = rowK[k];
            if (scale == 0) {
                e[k] = 0;
                continue;
            }
            double norm2 = 0;
            for (int i = m0; i < n; i++) {
                v[i] = rowK[i] / scale;
                norm2 += v[i] * v[i];
            }
            double x0 = v[m0];
            double alpha = -Math.copySign(Math.sqrt(norm2), x0);
            // v = x - alpha e1, H = I - beta v vᵀ with beta = 1 / (alpha² - alpha·x0).
            v[m0] = x0 - alpha;
            double beta = 1.0 / (norm2 - alpha * x0);
            e[k] = alpha * scale;
            // p = beta · A' v over the trailing block (rows are contiguous, A' symmetric).
            double pv = 0;
            for (int i = m0; i < n; i++) {
                double[] ri = a[i];
                double sum = 0;
                for (int j = m0; j < n; j++) {
                    sum += ri[j] * v[j];
                }
                p[i] = beta * sum;
                pv += p[i] * v[i];
            }
            // w = p - (beta/2)(pᵀv) v ; A' -= v wᵀ + w vᵀ
            double half = 0.5 * beta * pv;
            for (int i = m0; i < n; i++) {
                p[i] -= half * v[i];
            }
            for (int i = m0; i < n; i++) {
                double vi = v[i];
                double wi = p[i];
                double[] ri = a[i];
                for (int j = m0; j < n; j++) {
                    ri[j] -= vi * p[j] + wi * v[j];
                }
            }
        }
        if (n >= 2) {
            d[n - 2] = a[n - 2][n - 2];
            e[n - 2] = a[n - 1][n - 2];
        }
        d[n - 1] = a[n - 1][n - 1];
        e[n - 1] = 0;
    }

    /**
     * Eigenvalues of the symmetric tridiagonal matrix (diagonal d, off-diagonal e[i] between i and
     * i+1) by implicit QL iterations with shifts; d is overwritten with the eigenvalues (unsorted).
     */
    private static void tridiagonalQl(double[] d, double[] e) {
        int n = d.length;
        for (int l = 0; l < n; l++) {
            int iter = 0;
            int m;
            do {
                for (m = l; m < n - 1; m++) {
                    double dd = Math.abs(d[m]) + Math.abs(d[m + 1]);
                    if (Math.abs(e[m]) <= Math.ulp(1.0) * dd) {
                        break;
                    }
                }
                if (m != l) {
                    if (++iter > 100) {
                        throw new ArithmeticException("tridiagonal QL did not converge");
                    }
                    double g = (d[l + 1] - d[l]) / (2.0 * e[l]);
                    double r = Math.hypot(g, 1.0);
                    g = d[m] - d[l] + e[l] / (g + Math.copySign(r, g));
                    double s = 1;
                    double c = 1;
                    double p = 0;
                    int i;
                    boolean underflow = false;
                    for (i = m - 1; i >= l; i--) {
                        double f = s * e[i];
                        double b = c * e[i];
                        r = Math.hypot(f, g);
                        e[i + 1] = r;
                        if (r == 0) {
                            d[i + 1] -= p;
                            e[m] = 0;
                            underflow = true;
                            break;
                        }
                        s = f / r;
                        c = g / r;
                        g = d[i + 1] - p;
                        r = (d[i] - g) * s + 2.0 * c * b;
                        p = s * r;
                        d[i + 1] = g + p;
                        g = c * r - b;
                    }
                    if (underflow) {
                        continue;
                    }
                    d[l] -= p;
                    e[l] = g;
                    e[m] = 0;
                }
            } while (m != l);
        }
    }
}
