package ai.tinyfusion.prune;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Locale;

/**
 * How many layers a pruning keeps, and where: either a plain layer count K of the model's L layers
 * ({@code --depth K}, one segment covering the whole depth) or an N:M {@link Pattern} ({@code --pattern},
 * one segment per pattern block, N kept of each M). Every selection rule (by scores, first, last,
 * uniform, random) works segment by segment, so the two kinds of target are handled alike.
 */
public final class Target {
    /** Layers [offset, offset + m) of which n are kept. */
    public record Segment(int offset, int n, int m) {}

    private final int depth;
    private final Pattern pattern; // null for a plain layer count
    private final List<Segment> segments;

    private Target(int depth, Pattern pattern, List<Segment> segments) {
        this.depth = depth;
        this.pattern = pattern;
        this.segments = Collections.unmodifiableList(segments);
    }

    /**
     * The target of {@code --depth keep} and/or {@code --pattern pattern} for a model of {@code depth}
     * layers. With both, the pattern must keep exactly {@code keep} layers.
     *
     * @param keep kept layer count, or null
     * @param pattern N:M pattern as written, or null
     * @throws IllegalArgumentException naming the problem (neither given, K outside 1..L, a pattern that does not
     *     cover the depth or disagrees with K)
     */
    public static Target of(Integer keep, String pattern, int depth) {
        if (depth < 1) {
            throw new IllegalArgumentException("cannot prune a model of depth " + depth);
        }
        if (keep == null && pattern == null) {
            throw new IllegalArgumentException("no target: give --depth K (layers to keep) or --pattern N:M");
        }
        if (keep != null) {
            checkDepth(keep, depth);
        }
        if (pattern == null) {
            return new Target(depth, null, List.of(new Segment(0, keep, depth)));
        }
        Pattern p = Pattern.parse(pattern, depth);
        if (keep != null && p.keptCount() != keep) {
            throw new IllegalArgumentException(String.format(
                    Locale.ROOT,
                    "--pattern %s keeps %d of the %d layers, but --depth is %d",
                    p.spec(),
                    p.keptCount(),
                    depth,
                    keep));
        }
        return of(p);
    }

    /** A plain layer count. */
    public static Target depth(int keep, int depth) {
        return of(keep, null, depth);
    }

    /** The segments of a parsed pattern. */
    public static Target of(Pattern p) {
        List<Segment> segs = new ArrayList<>();
        for (Pattern.Block b : p.blocks()) {
            segs.add(new Segment(b.offset(), b.n(), b.m()));
        }
        return new Target(p.depth(), p, segs);
    }

    private static void checkDepth(int keep, int depth) {
        if (keep < 1) {
            throw new IllegalArgumentException("--depth " + keep + ": keep at least 1 layer");
        }
        if (keep > depth) {
            throw new IllegalArgumentException("--depth " + keep + ": the model has only " + depth + " layers");
        }
    }

    /** The source model's depth L. */
    public int depth() {
        return depth;
    }

    /** Layers kept, K. */
    public int kept() {
        return segments.stream().mapToInt(Segment::n).sum();
    }

    /** The pattern, or null for a plain layer count. */
    public Pattern pattern() {
        return pattern;
    }

    /** The pattern as written, or null (what a {@link DecisionRecord} stores). */
    public String patternSpec() {
        return pattern == null ? null : pattern.spec();
    }

    public List<Segment> segments() {
        return segments;
    }

    /**
     * Keeps, in every segment, the n layers with the highest scores (ties: the lower index); layers with
     * {@code forced[l]} are kept first whatever their score.
     *
     * @param scores one per layer (L), finite
     * @param forced null, or one flag per layer
     * @return kept layer indices, ascending
     */
    public int[] selectTop(double[] scores, boolean[] forced) {
        if (scores.length != depth) {
            throw new IllegalArgumentException(scores.length + " scores for " + depth + " layers");
        }
        for (int l = 0; l < depth; l++) {
            if (!Double.isFinite(scores[l])) {
                throw new IllegalArgumentException("layer " + l + " has no finite score (" + scores[l] + ")");
            }
        }
        List<Integer> kept = new ArrayList<>();
        for (Segment s : segments) {
            Integer[] order = new Integer[s.m()];
            for (int j = 0; j < s.m(); j++) {
                order[j] = s.offset() + j;
            }
            Arrays.sort(order, (a, b) -> {
                boolean fa = forced != null && forced[a];
                boolean fb = forced != null && forced[b];
                if (fa != fb) {
                    return fa ? -1 : 1;
                }
                int c = Double.compare(scores[b], scores[a]);
                return c != 0 ? c : Integer.compare(a, b);
            });
            long nForced = forced == null
                    ? 0
                    : Arrays.stream(order).filter(l -> forced[l]).count();
            if (nForced > s.n()) {
                throw new IllegalArgumentException(String.format(
                        Locale.ROOT,
                        "layers %d..%d keep %d, but %d of them must be kept",
                        s.offset(),
                        s.offset() + s.m() - 1,
                        s.n(),
                        nForced));
            }
            kept.addAll(Arrays.asList(order).subList(0, s.n()));
        }
        return kept.stream().mapToInt(Integer::intValue).sorted().toArray();
    }

    /**
     * Checks that {@code kept} is a valid choice under this target (ascending, in range, the right count in
     * every segment).
     *
     * @throws IllegalArgumentException naming the first violation
     */
    public void check(int[] kept) {
        ai.tinyfusion.model.dit.LayerSubset.validate(kept, depth);
        for (Segment s : segments) {
            long in = Arrays.stream(kept)
                    .filter(l -> l >= s.offset() && l < s.offset() + s.m())
                    .count();
            if (in != s.n()) {
                String where = pattern == null
                        ? "the target keeps " + s.n() + " layers"
                        : String.format(
                                Locale.ROOT,
                                "pattern %s keeps %d of layers %d..%d",
                                pattern.spec(),
                                s.n(),
                                s.offset(),
                                s.offset() + s.m() - 1);
                throw new IllegalArgumentException(
                        where + ", but " + Arrays.toString(kept) + " keeps " + in + (pattern == null ? "" : " there"));
            }
        }
    }

    @Override
    public String toString() {
        return pattern == null ? kept() + " of " + depth + " layers" : "pattern " + pattern;
    }
}
