package ai.tinyfusion.eval;

import java.util.SplittableRandom;

/**
 * How much an FID moves with the draw of generated samples: the standard deviation of the FID over
 * bootstrap resamples of the sample set (N rows drawn with replacement, statistics recomputed,
 * Fréchet distance to the fixed reference statistics).
 *
 * <p>The reference set is held fixed because every model is compared against the same one; its own
 * sampling error shifts all rows together and cancels in a comparison. A bootstrap FID is biased
 * upwards (duplicated rows shrink the covariance), so only the spread is reported, next to the FID of
 * the full set. Two models whose FIDs differ by less than about twice this spread are not told apart
 * by the evaluation.
 *
 * <p>Cost per round: N·D²/2 multiply-adds for the covariance plus one D×D matrix square root
 * (D = 128 for the shipped feature network: a few milliseconds).
 */
public final class FidBootstrap {
    private FidBootstrap() {}

    /**
     * @param samples pooled features of the generated set, N × D (N ≥ 2)
     * @param reference reference statistics of dimension D
     * @param rounds bootstrap rounds (≥ 2)
     * @param seed seed of the resampling, so the result is reproducible
     * @return the sample standard deviation of the FID over the rounds
     */
    public static double std(double[][] samples, FeatureStats reference, int rounds, long seed) {
        if (rounds < 2) {
            throw new IllegalArgumentException("need at least 2 bootstrap rounds, got " + rounds);
        }
        int n = samples.length;
        if (n < 2) {
            throw new IllegalArgumentException("need at least 2 samples to bootstrap, got " + n);
        }
        if (samples[0].length != reference.dim()) {
            throw new IllegalArgumentException(
                    "samples have " + samples[0].length + " features, reference " + reference.dim());
        }
        SplittableRandom rng = new SplittableRandom(seed);
        double[][] draw = new double[n][];
        double[] fids = new double[rounds];
        for (int r = 0; r < rounds; r++) {
            for (int i = 0; i < n; i++) {
                draw[i] = samples[rng.nextInt(n)];
            }
            fids[r] = FeatureStats.of(draw).frechetDistance(reference);
        }
        double mean = java.util.Arrays.stream(fids).average().orElseThrow();
        double ss = 0;
        for (double f : fids) {
            ss += (f - mean) * (f - mean);
        }
        return Math.sqrt(ss / (rounds - 1));
    }
}
