package ai.tinyfusion.eval;

/**
 * Fraction of samples whose classifier prediction (argmax of logits or probabilities) equals the
 * class that was requested when generating them. Ties resolve to the lowest index, like
 * {@code numpy.argmax} / {@code torch.argmax}.
 */
public final class ClassAccuracy {
    private ClassAccuracy() {}

    /** Index of the largest value (first one on ties); NaN entries are never chosen. */
    public static int argmax(double[] row) {
        if (row.length == 0) {
            throw new IllegalArgumentException("empty row");
        }
        int best = 0;
        for (int j = 1; j < row.length; j++) {
            if (row[j] > row[best] || Double.isNaN(row[best])) {
                best = j;
            }
        }
        return best;
    }

    /** {@link #argmax(double[])} of every row. */
    public static int[] argmax(double[][] logits) {
        int[] out = new int[logits.length];
        for (int i = 0; i < logits.length; i++) {
            out[i] = argmax(logits[i]);
        }
        return out;
    }

    /** Number of rows whose argmax equals {@code labels[i]}. */
    public static int correct(double[][] logits, int[] labels) {
        if (logits.length != labels.length) {
            throw new IllegalArgumentException(logits.length + " predictions for " + labels.length + " labels");
        }
        int c = 0;
        for (int i = 0; i < labels.length; i++) {
            if (argmax(logits[i]) == labels[i]) {
                c++;
            }
        }
        return c;
    }

    /** Accuracy in [0, 1]; needs at least one sample. */
    public static double compute(double[][] logits, int[] labels) {
        if (labels.length == 0) {
            throw new IllegalArgumentException("no samples");
        }
        return (double) correct(logits, labels) / labels.length;
    }
}
