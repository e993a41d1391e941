package ai.tinyfusion.data;

/**
 * Standard normal draws addressed by (seed, index, draw) instead of by position in one stream: item {@code index}'s
 * draw number {@code draw} is the same numbers whichever items are processed with it, in whatever batch or order.
 * Each address seeds its own {@link SplitMix64}; the normals come from the Box–Muller transform of its doubles.
 * Reproducible on every platform (plain Java arithmetic), but not the stream {@code torch.randn} gives.
 */
public final class IndexedGaussians {
    private IndexedGaussians() {}

    /** Fills {@code out[at .. at + n)} with item {@code index}'s draw number {@code draw} of a run seeded with {@code seed}. */
    public static void fill(long seed, long index, long draw, float[] out, int at, int n) {
        SplitMix64 g = generator(seed, index, draw);
        for (int j = 0; j < n; j += 2) {
            double u1 = 1.0 - g.nextDouble(); // (0, 1]: the log is finite
            double u2 = g.nextDouble();
            double radius = Math.sqrt(-2 * Math.log(u1));
            double angle = 2 * Math.PI * u2;
            out[at + j] = (float) (radius * Math.cos(angle));
            if (j + 1 < n) {
                out[at + j + 1] = (float) (radius * Math.sin(angle));
            }
        }
    }

    /** The generator of one address, for other draws than normals (a coin for a flip, say). */
    public static SplitMix64 generator(long seed, long index, long draw) {
        return new SplitMix64(SplitMix64.mix64(SplitMix64.mix64(SplitMix64.mix64(seed) + index) + draw));
    }
}
