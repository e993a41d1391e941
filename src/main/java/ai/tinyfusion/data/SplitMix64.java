package ai.tinyfusion.data;

/**
 * SplitMix64 (Steele, Lea and Flood 2014; Vigna's reference constants): a 64-bit generator whose
 * whole state is one {@code long}, so a training run can save it and resume the exact stream
 * ({@link #state()} / {@link #setState(long)}). Not thread-safe.
 */
public final class SplitMix64 {
    private static final long GOLDEN_GAMMA = 0x9E3779B97F4A7C15L;

    private long state;

    /** A generator whose state is {@code seed} (the first output is {@code mix64(seed + GOLDEN_GAMMA)}). */
    public SplitMix64(long seed) {
        this.state = seed;
    }

    /** The current state; {@code new SplitMix64(state())} continues the same sequence. */
    public long state() {
        return state;
    }

    public void setState(long state) {
        this.state = state;
    }

    /** Next 64 random bits. */
    public long nextLong() {
        state += GOLDEN_GAMMA;
        return mix64(state);
    }

    /** Uniform in [0, 1) with 53 random bits. */
    public double nextDouble() {
        return (nextLong() >>> 11) * 0x1.0p-53;
    }

    /** Uniform in [0, bound), unbiased (rejection of the incomplete top interval). */
    public int nextInt(int bound) {
        if (bound <= 0) {
            throw new IllegalArgumentException("bound must be positive, got " + bound);
        }
        while (true) {
            int bits = (int) (nextLong() >>> 33); // 31 bits
            int val = bits % bound;
            if (bits - val + (bound - 1) >= 0) { // no overflow: bits lies in a complete interval
                return val;
            }
        }
    }

    /** Fisher-Yates shuffle of {@code a} in place. */
    public void shuffle(int[] a) {
        for (int i = a.length - 1; i > 0; i--) {
            int j = nextInt(i + 1);
            int t = a[i];
            a[i] = a[j];
            a[j] = t;
        }
    }

    /** The SplitMix64 finaliser (a bijection on 64-bit values). */
    public static long mix64(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    /** A well-mixed seed derived from {@code seed} and the given stream coordinates (e.g. epoch, purpose). */
    public static long derive(long seed, long... coordinates) {
        long h = mix64(seed + GOLDEN_GAMMA);
        for (long c : coordinates) {
            h = mix64(h ^ mix64(c + GOLDEN_GAMMA * 3));
        }
        return h;
    }
}
