package ai.tinyfusion.prune;

import ai.tinyfusion.data.SplitMix64;
import java.util.Arrays;
import java.util.stream.IntStream;

/**
 * Layer choices that need no model: an explicit list, a seeded random subset, the first / last K, or K
 * evenly spaced. Under a {@link Target} with a pattern, each rule is applied inside every pattern block
 * (first N of each M, ...); under a plain count, to the whole depth.
 */
public final class SimpleSelections {
    private SimpleSelections() {}

    /**
     * An explicit choice: the layers to keep, or the layers to drop (exactly one of the two).
     *
     * @return kept layer indices, ascending
     * @throws IllegalArgumentException for both/neither lists, an index outside 0..L−1, a repeated index, or
     *     nothing left to keep
     */
    public static int[] indices(int[] keep, int[] drop, int depth) {
        if ((keep == null) == (drop == null)) {
            throw new IllegalArgumentException("--method indices needs exactly one of --keep-layers or --drop-layers");
        }
        String name = keep != null ? "--keep-layers" : "--drop-layers";
        int[] list = keep != null ? keep : drop;
        if (list.length == 0) {
            throw new IllegalArgumentException(name + " is empty");
        }
        boolean[] in = new boolean[depth];
        for (int l : list) {
            if (l < 0 || l >= depth) {
                throw new IllegalArgumentException(name + ": layer " + l + " is outside 0.." + (depth - 1));
            }
            if (in[l]) {
                throw new IllegalArgumentException(name + ": layer " + l + " is listed twice");
            }
            in[l] = true;
        }
        boolean keepList = keep != null;
        int[] kept = IntStream.range(0, depth).filter(l -> in[l] == keepList).toArray();
        if (kept.length == 0) {
            throw new IllegalArgumentException("--drop-layers removes all " + depth + " layers");
        }
        return kept;
    }

    /** The first n layers of every segment. */
    public static int[] first(Target target) {
        return perSegment(target, (s, j) -> j);
    }

    /** The last n layers of every segment. */
    public static int[] last(Target target) {
        return perSegment(target, (s, j) -> s.m() - s.n() + j);
    }

    /**
     * n evenly spaced layers of every segment: local index ⌊j·m/n⌋ for j = 0..n−1 (stride m/n from the
     * segment's first layer; every other layer, starting at 0, for 14 of 28).
     */
    public static int[] uniform(Target target) {
        return perSegment(target, (s, j) -> (int) ((long) j * s.m() / s.n()));
    }

    /**
     * A uniformly random choice: every n-subset of every segment equally likely, segments independent
     * (so uniform over all C(L, K) subsets for a plain count, uniform over the pattern's masks otherwise).
     */
    public static int[] random(Target target, SplitMix64 rng) {
        int[] out = new int[target.kept()];
        int k = 0;
        for (Target.Segment s : target.segments()) {
            int[] local = IntStream.range(0, s.m()).toArray();
            // Partial Fisher-Yates: the first n entries become a uniform random n-subset.
            for (int i = 0; i < s.n(); i++) {
                int j = i + rng.nextInt(s.m() - i);
                int t = local[i];
                local[i] = local[j];
                local[j] = t;
            }
            int[] chosen = Arrays.copyOf(local, s.n());
            Arrays.sort(chosen);
            for (int j : chosen) {
                out[k++] = s.offset() + j;
            }
        }
        return out;
    }

    private interface LocalIndex {
        int of(Target.Segment s, int j);
    }

    private static int[] perSegment(Target target, LocalIndex f) {
        int[] out = new int[target.kept()];
        int k = 0;
        for (Target.Segment s : target.segments()) {
            for (int j = 0; j < s.n(); j++) {
                out[k++] = s.offset() + f.of(s, j);
            }
        }
        return out;
    }
}
