package ai.tinyfusion.eval;

/**
 * Inception Score (Salimans et al. 2016): exp(E_x KL(p(y|x) ‖ p(y))), averaged over splits.
 *
 * <p>Per split, with rows p(y|x) of class probabilities and p(y) the split's mean row:
 * {@code score = exp(mean_x Σ_y p(y|x)·(log p(y|x) − log p(y)))}, exactly as in the Improved-GAN
 * code and the ADM evaluator. Two ways of splitting are offered:
 * <ul>
 *   <li>{@link #compute(double[][], int)}: {@code splits} near-equal consecutive parts, part i being
 *       rows [i·N/splits, (i+1)·N/splits) (Improved-GAN, default 10 splits);</li>
 *   <li>{@link #computeWithSplitSize}: consecutive chunks of {@code splitSize} rows, the last one
 *       possibly shorter (ADM: {@code split_size = 5000} on its softmax outputs).</li>
 * </ul>
 * The result is the mean of the per-split scores ({@link #splitScores} gives them all, e.g. for a
 * standard deviation). Terms with p(y|x) = 0 contribute 0 (the limit of p·log p); numpy would
 * produce NaN for an exact 0, which softmax outputs practically never contain.
 *
 * <p>Inputs are probabilities; {@link #softmax} converts logits (numerically stable, per row).
 */
public final class InceptionScore {
    /** ADM's split size. */
    public static final int ADM_SPLIT_SIZE = 5000;

    private InceptionScore() {}

    /** Mean score over {@code splits} near-equal consecutive parts of {@code probs} (N × K). */
    public static double compute(double[][] probs, int splits) {
        return mean(splitScores(probs, splits));
    }

    /** Mean score over consecutive chunks of {@code splitSize} rows (ADM style). */
    public static double computeWithSplitSize(double[][] probs, int splitSize) {
        if (splitSize <= 0) {
            throw new IllegalArgumentException("splitSize must be positive, got " + splitSize);
        }
        check(probs);
        int n = probs.length;
        int parts = (n + splitSize - 1) / splitSize;
        double[] scores = new double[parts];
        for (int i = 0; i < parts; i++) {
            scores[i] = score(probs, i * splitSize, Math.min(n, (i + 1) * splitSize));
        }
        return mean(scores);
    }

    /** {@link #compute} on {@code softmax(logits)}. */
    public static double computeFromLogits(double[][] logits, int splits) {
        return compute(softmax(logits), splits);
    }

    /** Per-split scores, split i covering rows [i·N/splits, (i+1)·N/splits). */
    public static double[] splitScores(double[][] probs, int splits) {
        check(probs);
        int n = probs.length;
        if (splits <= 0 || splits > n) {
            throw new IllegalArgumentException("splits must be in [1, " + n + "], got " + splits);
        }
        double[] scores = new double[splits];
        for (int i = 0; i < splits; i++) {
            scores[i] = score(probs, (int) ((long) i * n / splits), (int) ((long) (i + 1) * n / splits));
        }
        return scores;
    }

    /** exp(mean KL(p(y|x) ‖ p(y))) over rows [from, to). */
    static double score(double[][] probs, int from, int to) {
        int k = probs[from].length;
        double[] py = new double[k];
        for (int r = from; r < to; r++) {
            for (int j = 0; j < k; j++) {
                py[j] += probs[r][j];
            }
        }
        int count = to - from;
        double[] logPy = new double[k];
        for (int j = 0; j < k; j++) {
            logPy[j] = Math.log(py[j] / count);
        }
        double klSum = 0;
        for (int r = from; r < to; r++) {
            double kl = 0;
            double[] p = probs[r];
            for (int j = 0; j < k; j++) {
                if (p[j] > 0) {
                    kl += p[j] * (Math.log(p[j]) - logPy[j]);
                }
            }
            klSum += kl;
        }
        return Math.exp(klSum / count);
    }

    /**
     * The ADM evaluator's score computed while predictions stream in, holding one split at a time:
     * rows are added in order, every {@code splitSize} rows close a split, and a shorter last split
     * counts as one more. {@link #mean()} equals {@link #computeWithSplitSize} over all rows added.
     */
    public static final class Splits {
        private final int splitSize;
        private final java.util.List<double[]> current = new java.util.ArrayList<>();
        private final java.util.List<Double> closed = new java.util.ArrayList<>();
        private long rows;

        public Splits(int splitSize) {
            if (splitSize <= 0) {
                throw new IllegalArgumentException("splitSize must be positive, got " + splitSize);
            }
            this.splitSize = splitSize;
        }

        /** Adds {@code count} rows of logits stored row-major in {@code flat} (softmax is applied per row). */
        public void addLogits(float[] flat, int count) {
            if (count <= 0 || flat.length % count != 0) {
                throw new IllegalArgumentException(flat.length + " logits are not " + count + " rows");
            }
            int k = flat.length / count;
            for (int r = 0; r < count; r++) {
                double[] z = new double[k];
                for (int j = 0; j < k; j++) {
                    z[j] = flat[r * k + j];
                }
                add(softmax(new double[][] {z})[0]);
            }
        }

        /** Adds one row of class probabilities. */
        public void add(double[] probs) {
            current.add(probs);
            rows++;
            if (current.size() == splitSize) {
                closed.add(score(current.toArray(new double[0][]), 0, splitSize));
                current.clear();
            }
        }

        /** Rows added so far. */
        public long rows() {
            return rows;
        }

        /** Per-split scores, the unfinished last split included. */
        public double[] splitScores() {
            if (rows == 0) {
                throw new IllegalStateException("no predictions");
            }
            double[][] rest = current.toArray(new double[0][]);
            if (rest.length > 0) {
                check(rest);
            }
            double[] out = new double[closed.size() + (rest.length > 0 ? 1 : 0)];
            for (int i = 0; i < closed.size(); i++) {
                out[i] = closed.get(i);
            }
            if (rest.length > 0) {
                out[out.length - 1] = score(rest, 0, rest.length);
            }
            return out;
        }

        /** The score: the mean of {@link #splitScores()}. */
        public double mean() {
            return InceptionScore.mean(splitScores());
        }
    }

    /** Row-wise softmax with max subtraction. */
    public static double[][] softmax(double[][] logits) {
        double[][] out = new double[logits.length][];
        for (int r = 0; r < logits.length; r++) {
            double[] z = logits[r];
            double max = Double.NEGATIVE_INFINITY;
            for (double v : z) {
                max = Math.max(max, v);
            }
            double[] e = new double[z.length];
            double sum = 0;
            for (int j = 0; j < z.length; j++) {
                e[j] = Math.exp(z[j] - max);
                sum += e[j];
            }
            for (int j = 0; j < z.length; j++) {
                e[j] /= sum;
            }
            out[r] = e;
        }
        return out;
    }

    private static void check(double[][] probs) {
        if (probs.length == 0) {
            throw new IllegalArgumentException("no predictions");
        }
        int k = probs[0].length;
        for (int r = 0; r < probs.length; r++) {
            double[] p = probs[r];
            if (p.length != k) {
                throw new IllegalArgumentException("row " + r + " has " + p.length + " classes, expected " + k);
            }
            double s = 0;
            for (double v : p) {
                if (!(v >= 0) || v > 1) {
                    throw new IllegalArgumentException("row " + r + " is not a probability vector (value " + v
                            + "); pass logits through softmax() or use computeFromLogits");
                }
                s += v;
            }
            if (Math.abs(s - 1) > 1e-3) {
                throw new IllegalArgumentException("row " + r + " sums to " + s
                        + ", not 1; pass logits through softmax()" + " or use computeFromLogits");
            }
        }
    }

    private static double mean(double[] v) {
        double s = 0;
        for (double x : v) {
            s += x;
        }
        return s / v.length;
    }
}
