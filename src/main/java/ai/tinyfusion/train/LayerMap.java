package ai.tinyfusion.train;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.TreeSet;

/**
 * Which student block output distils which teacher block output in the representation loss: pairs
 * (student layer s_i, teacher layer t_i), student layers strictly increasing.
 *
 * <p>How a pruned student's map is derived from its decision record (source layers {@code kept},
 * source depth L):
 * <ul>
 *   <li><b>With a pattern</b> ({@link #blockEnds}; {@code prune.DecisionRecord#layerMap} picks the rule): one pair per pattern block. A block covers source
 *       layers [o, o + M); after the student's last kept layer of the block, the student has applied
 *       its whole share of that block, so its output is compared with the teacher's output at the
 *       block's end, layer o + M − 1. Earlier kept layers of the same block have no teacher output
 *       that they should reproduce and are not distilled. This is the original's rule: 1:2 on 28
 *       layers gives student i ↔ teacher 2i + 1 (whichever layer of each pair was kept); 2:4 gives
 *       student 2b + 1 ↔ teacher 4b + 3; DiT-D19 (blocks of 4 keeping 3,3,2,3,2,3,3) gives students
 *       2,5,7,10,12,15,18 ↔ teachers 3,7,11,15,19,23,27, the original's hard-coded lists.</li>
 *   <li><b>Without a pattern</b> ({@link #segments}): kept layer k_j (student layer j) ↔ teacher layer
 *       k_{j+1} − 1, the teacher layer whose output is the input of the teacher's next kept layer (the
 *       last kept layer ↔ L − 1). Every student layer is distilled.</li>
 * </ul>
 * A user map ({@link #parse}, {@code --layer-map 0:1,1:3}) overrides both.
 */
public record LayerMap(int[] student, int[] teacher) {
    public LayerMap {
        if (student.length != teacher.length) {
            throw new IllegalArgumentException(
                    "layer map: " + student.length + " student and " + teacher.length + " teacher layers");
        }
        if (student.length == 0) {
            throw new IllegalArgumentException("layer map is empty");
        }
        for (int i = 0; i < student.length; i++) {
            if (student[i] < 0 || teacher[i] < 0) {
                throw new IllegalArgumentException("layer map: negative layer index in " + pairs(student, teacher));
            }
            if (i > 0 && student[i] <= student[i - 1]) {
                throw new IllegalArgumentException(
                        "layer map: student layers must be strictly increasing, got " + pairs(student, teacher));
            }
        }
        student = student.clone();
        teacher = teacher.clone();
    }

    /**
     * One pair per pattern block: the student layer holding the block's last kept layer ↔ the
     * block's last layer. The blocks are contiguous from layer 0; {@code blockEnds[b]} is the
     * (exclusive) end of block b, so the last one is the source depth.
     */
    public static LayerMap blockEnds(int[] blockEnds, int[] kept) {
        ai.tinyfusion.model.dit.LayerSubset.validate(kept, blockEnds[blockEnds.length - 1]);
        List<int[]> pairs = new ArrayList<>();
        int offset = 0;
        for (int end : blockEnds) {
            int last = -1;
            for (int j = 0; j < kept.length; j++) {
                if (kept[j] >= offset && kept[j] < end) {
                    last = j;
                }
            }
            if (last >= 0) {
                pairs.add(new int[] {last, end - 1});
            }
            offset = end;
        }
        return of(pairs);
    }

    /** Kept layer k_j ↔ k_{j+1} − 1, the last ↔ depth − 1. */
    public static LayerMap segments(int[] kept, int depth) {
        ai.tinyfusion.model.dit.LayerSubset.validate(kept, depth);
        int[] s = new int[kept.length];
        int[] t = new int[kept.length];
        for (int j = 0; j < kept.length; j++) {
            s[j] = j;
            t[j] = j + 1 < kept.length ? kept[j + 1] - 1 : depth - 1;
        }
        return new LayerMap(s, t);
    }

    /** Student layer i ↔ teacher layer i for every layer (a student as deep as its teacher). */
    public static LayerMap identity(int depth) {
        int[] s = new int[depth];
        Arrays.setAll(s, i -> i);
        return new LayerMap(s, s);
    }

    /** "s:t,s:t,..." with whitespace allowed; pairs in any order (sorted by student layer). */
    public static LayerMap parse(String spec) {
        if (spec == null || spec.isBlank()) {
            throw new IllegalArgumentException("empty layer map (expected student:teacher pairs, e.g. 0:1,1:3)");
        }
        List<int[]> pairs = new ArrayList<>();
        for (String tok : spec.trim().split("\\s*,\\s*")) {
            java.util.regex.Matcher m = java.util.regex.Pattern.compile("^\\s*(\\d+)\\s*:\\s*(\\d+)\\s*$")
                    .matcher(tok);
            if (!m.matches()) {
                throw new IllegalArgumentException(
                        "layer map '" + spec + "': '" + tok + "' is not student:teacher (whole numbers, e.g. 0:1)");
            }
            pairs.add(new int[] {Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2))});
        }
        pairs.sort((a, b) -> Integer.compare(a[0], b[0]));
        return of(pairs);
    }

    private static LayerMap of(List<int[]> pairs) {
        return new LayerMap(
                pairs.stream().mapToInt(p -> p[0]).toArray(),
                pairs.stream().mapToInt(p -> p[1]).toArray());
    }

    /** Fails unless every index fits the two models. */
    public LayerMap check(int studentDepth, int teacherDepth) {
        for (int i = 0; i < student.length; i++) {
            if (student[i] >= studentDepth || teacher[i] >= teacherDepth) {
                throw new IllegalArgumentException(String.format(
                        Locale.ROOT,
                        "layer map %s does not fit a %d-layer student and a %d-layer teacher",
                        this,
                        studentDepth,
                        teacherDepth));
            }
        }
        return this;
    }

    public int size() {
        return student.length;
    }

    /** The distinct teacher layers, ascending (what the teacher's forward pass captures). */
    public int[] teacherCaptures() {
        TreeSet<Integer> s = new TreeSet<>();
        for (int t : teacher) {
            s.add(t);
        }
        return s.stream().mapToInt(Integer::intValue).toArray();
    }

    /** Position of pair i's teacher layer in {@link #teacherCaptures()}. */
    public int teacherSlot(int i) {
        return Arrays.binarySearch(teacherCaptures(), teacher[i]);
    }

    @Override
    public String toString() {
        return pairs(student, teacher);
    }

    private static String pairs(int[] s, int[] t) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < Math.min(s.length, t.length); i++) {
            sb.append(i == 0 ? "" : ",").append(s[i]).append(':').append(t[i]);
        }
        return sb.toString();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof LayerMap m && Arrays.equals(m.student, student) && Arrays.equals(m.teacher, teacher);
    }

    @Override
    public int hashCode() {
        return 31 * Arrays.hashCode(student) + Arrays.hashCode(teacher);
    }
}
