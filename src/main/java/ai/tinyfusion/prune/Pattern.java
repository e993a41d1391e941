package ai.tinyfusion.prune;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;

/**
 * A layer-pruning pattern: the depth is cut into consecutive blocks of M layers, and N layers are
 * kept in each block. Written either as one {@code N:M} repeated over the whole depth ("1:2" on 28
 * layers is fourteen 1:2 blocks) or as a comma list of blocks whose M's add up to the depth
 * ("2:4,2:4,3:4,..."). A block with N = M keeps all its layers (one candidate).
 *
 * <p>The candidates of a block are all C(M, N) binary keep-masks, listed in lexicographic order of
 * their kept index sets, which is the order of Python's {@code itertools.combinations(range(M), N)}:
 * for 2:4 that is {0,1}, {0,2}, {0,3}, {1,2}, {1,3}, {2,3}.
 */
public final class Pattern {
    /** Upper bound on candidates per block (the gates hold one logit per candidate). */
    public static final long MAX_CANDIDATES = 1L << 20;

    /** One block of the pattern: layers [offset, offset + m), n of them kept. */
    public record Block(int index, int offset, int n, int m) {
        /** C(m, n). */
        public int candidateCount() {
            return (int) binomial(m, n);
        }

        /** The kept local indices of every candidate, lexicographically ordered. */
        public int[][] candidates() {
            return combinations(m, n);
        }

        /** The candidates as (C × M) 0/1 rows. */
        public float[][] candidateMasks() {
            int[][] c = candidates();
            float[][] out = new float[c.length][m];
            for (int i = 0; i < c.length; i++) {
                for (int j : c[i]) {
                    out[i][j] = 1f;
                }
            }
            return out;
        }

        @Override
        public String toString() {
            return n + ":" + m;
        }
    }

    private final List<Block> blocks;
    private final int depth;
    private final String spec;

    private Pattern(List<Block> blocks, String spec) {
        this.blocks = Collections.unmodifiableList(blocks);
        this.depth = blocks.stream().mapToInt(Block::m).sum();
        this.spec = spec;
    }

    /**
     * Parses {@code spec} for a model of {@code depth} layers.
     *
     * @throws IllegalArgumentException naming the offending block and the problem
     */
    public static Pattern parse(String spec, int depth) {
        if (spec == null || spec.isBlank()) {
            throw new IllegalArgumentException(
                    "empty pruning pattern (expected N:M, e.g. 1:2, or a list like 2:4,2:4,...)");
        }
        if (depth <= 0) {
            throw new IllegalArgumentException("cannot prune a model of depth " + depth);
        }
        String[] parts = spec.trim().split("\\s*,\\s*", -1);
        List<int[]> nm = new ArrayList<>();
        for (int i = 0; i < parts.length; i++) {
            nm.add(parseBlock(parts[i], parts.length == 1 ? null : i, spec));
        }
        List<Block> blocks = new ArrayList<>();
        if (parts.length == 1) {
            int n = nm.get(0)[0];
            int m = nm.get(0)[1];
            if (depth % m != 0) {
                throw new IllegalArgumentException(String.format(
                        Locale.ROOT,
                        "pattern '%s': block size M=%d does not divide the depth %d (use a list of N:M blocks whose M's sum to %d)",
                        spec.trim(),
                        m,
                        depth,
                        depth));
            }
            for (int b = 0; b < depth / m; b++) {
                blocks.add(new Block(b, b * m, n, m));
            }
        } else {
            int offset = 0;
            for (int b = 0; b < nm.size(); b++) {
                blocks.add(new Block(b, offset, nm.get(b)[0], nm.get(b)[1]));
                offset += nm.get(b)[1];
            }
            if (offset != depth) {
                throw new IllegalArgumentException(String.format(
                        Locale.ROOT,
                        "pattern '%s': the block sizes M add up to %d, but the model has %d layers",
                        spec.trim(),
                        offset,
                        depth));
            }
        }
        return new Pattern(blocks, spec.trim().replaceAll("\\s+", ""));
    }

    private static int[] parseBlock(String token, Integer position, String spec) {
        String where = position == null
                ? "pattern '" + spec.trim() + "'"
                : "pattern '" + spec.trim() + "', block " + position + " ('" + token + "')";
        java.util.regex.Matcher mt = java.util.regex.Pattern.compile("^\\s*(\\d+)\\s*:\\s*(\\d+)\\s*$")
                .matcher(token);
        if (!mt.matches()) {
            throw new IllegalArgumentException(where + ": expected N:M with whole numbers, e.g. 1:2");
        }
        int n;
        int m;
        try {
            n = Integer.parseInt(mt.group(1));
            m = Integer.parseInt(mt.group(2));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(where + ": number too large");
        }
        if (m < 1) {
            throw new IllegalArgumentException(where + ": block size M must be at least 1, got " + m);
        }
        if (n < 1 || n > m) {
            throw new IllegalArgumentException(where + ": kept count N must be between 1 and M=" + m + ", got " + n);
        }
        if (binomial(m, n) > MAX_CANDIDATES) {
            throw new IllegalArgumentException(where + ": C(" + m + "," + n + ") = " + binomial(m, n)
                    + " candidates is too many (at most " + MAX_CANDIDATES + "); use smaller blocks");
        }
        return new int[] {n, m};
    }

    /** The (exclusive) end layer of every block, in order; the last is the depth. */
    public int[] blockEnds() {
        return blocks.stream().mapToInt(b -> b.offset() + b.m()).toArray();
    }

    public List<Block> blocks() {
        return blocks;
    }

    /** Number of layers the pattern covers (the model depth). */
    public int depth() {
        return depth;
    }

    /** Number of layers kept. */
    public int keptCount() {
        return blocks.stream().mapToInt(Block::n).sum();
    }

    /** The pattern as written (whitespace removed). */
    public String spec() {
        return spec;
    }

    /** One N:M per block, comma-separated. */
    public String expanded() {
        StringBuilder sb = new StringBuilder();
        for (Block b : blocks) {
            sb.append(sb.length() == 0 ? "" : ",").append(b);
        }
        return sb.toString();
    }

    /** The global indices of the kept layers when block {@code b} takes candidate {@code choice[b]}. */
    public int[] keptLayers(int[] choice) {
        if (choice.length != blocks.size()) {
            throw new IllegalArgumentException("expected " + blocks.size() + " choices, got " + choice.length);
        }
        int[] out = new int[keptCount()];
        int k = 0;
        for (Block b : blocks) {
            int[][] cands = b.candidates();
            if (choice[b.index()] < 0 || choice[b.index()] >= cands.length) {
                throw new IllegalArgumentException("block " + b.index() + ": candidate " + choice[b.index()]
                        + " outside 0.." + (cands.length - 1));
            }
            for (int j : cands[choice[b.index()]]) {
                out[k++] = b.offset() + j;
            }
        }
        return out;
    }

    /** All N-subsets of {0..M−1} in lexicographic order (itertools.combinations order). */
    public static int[][] combinations(int m, int n) {
        if (n < 0 || n > m) {
            throw new IllegalArgumentException("no " + n + "-subsets of " + m + " items");
        }
        int[][] out = new int[(int) binomial(m, n)][];
        int[] idx = new int[n];
        for (int i = 0; i < n; i++) {
            idx[i] = i;
        }
        int row = 0;
        while (true) {
            out[row++] = idx.clone();
            int i = n - 1;
            while (i >= 0 && idx[i] == m - n + i) {
                i--;
            }
            if (i < 0) {
                return out;
            }
            idx[i]++;
            for (int j = i + 1; j < n; j++) {
                idx[j] = idx[j - 1] + 1;
            }
        }
    }

    /** C(m, n), saturating at Long.MAX_VALUE. */
    public static long binomial(int m, int n) {
        if (n < 0 || n > m) {
            return 0;
        }
        int k = Math.min(n, m - n);
        long r = 1;
        for (int i = 1; i <= k; i++) {
            // r * (m - k + i) / i stays exact: r·(m−k+i) is divisible by i at every step.
            long num = m - k + i;
            if (r > Long.MAX_VALUE / num) {
                return Long.MAX_VALUE;
            }
            r = r * num / i;
        }
        return r;
    }

    @Override
    public String toString() {
        return spec + " (" + blocks.size() + " blocks, " + keptCount() + " of " + depth + " layers kept)";
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Pattern p && p.expanded().equals(expanded());
    }

    @Override
    public int hashCode() {
        return expanded().hashCode();
    }
}
