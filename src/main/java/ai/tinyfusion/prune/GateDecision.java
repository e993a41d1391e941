package ai.tinyfusion.prune;

import java.util.List;

/**
 * What a set of gate logits decides. For each block the chosen candidate is the argmax of its
 * logits (first on ties, as {@code torch.max}); its probabilities are {@code softmax(scaling · g)},
 * and the confidence is the largest of them. This is exactly what the original
 * {@code prune_by_learning.py} reports ("Confidence: max(softmax(gate · scaling))", evaluated on
 * the EMA gates with the scaling of the current step), i.e. the probability of the winning
 * candidate without Gumbel noise and without the temperature. A layer's keep probability is the
 * sum of the probabilities of the candidates that keep it (its marginal under the categorical).
 *
 * @param choice candidate index per block
 * @param kept the kept global layer indices, ascending
 * @param probabilities per block, the candidate probabilities
 * @param confidence per block, the largest probability
 * @param layerKeepProbability per layer of the source model, the marginal keep probability
 */
public record GateDecision(
        int[] choice, int[] kept, double[][] probabilities, double[] confidence, double[] layerKeepProbability) {

    /** Evaluates {@code logits} (one vector per block of {@code pattern}) at {@code scaling}. */
    public static GateDecision of(Pattern pattern, List<float[]> logits, double scaling) {
        List<Pattern.Block> blocks = pattern.blocks();
        if (logits.size() != blocks.size()) {
            throw new IllegalArgumentException(
                    "expected logits for " + blocks.size() + " blocks, got " + logits.size());
        }
        int[] choice = new int[blocks.size()];
        double[][] probs = new double[blocks.size()][];
        double[] conf = new double[blocks.size()];
        double[] layerProb = new double[pattern.depth()];
        for (Pattern.Block b : blocks) {
            float[] g = logits.get(b.index());
            if (g.length != b.candidateCount()) {
                throw new IllegalArgumentException("block " + b.index() + " (" + b + ") has " + b.candidateCount()
                        + " candidates but " + g.length + " logits");
            }
            int best = 0;
            for (int c = 1; c < g.length; c++) {
                if (g[c] > g[best]) {
                    best = c;
                }
            }
            choice[b.index()] = best;
            double[] p = softmax(g, scaling);
            probs[b.index()] = p;
            double max = 0;
            for (double v : p) {
                max = Math.max(max, v);
            }
            conf[b.index()] = max;
            int[][] cands = b.candidates();
            for (int c = 0; c < cands.length; c++) {
                for (int j : cands[c]) {
                    layerProb[b.offset() + j] += p[c];
                }
            }
        }
        return new GateDecision(choice, pattern.keptLayers(choice), probs, conf, layerProb);
    }

    /** softmax(scaling · g) in double precision. */
    public static double[] softmax(float[] g, double scaling) {
        double max = Double.NEGATIVE_INFINITY;
        for (float v : g) {
            max = Math.max(max, scaling * v);
        }
        double[] p = new double[g.length];
        double sum = 0;
        for (int i = 0; i < g.length; i++) {
            p[i] = Math.exp(scaling * g[i] - max);
            sum += p[i];
        }
        for (int i = 0; i < g.length; i++) {
            p[i] /= sum;
        }
        return p;
    }
}
