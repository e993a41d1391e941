package ai.tinyfusion.model.dit;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Builds a shallower DiT that keeps a chosen set of blocks from a deeper one, renumbered
 * consecutively (blocks.5.* becomes blocks.2.* if 5 is the third kept index); all non-block weights
 * are copied unchanged. This is the one code path every pruning method uses to make its model.
 */
public final class LayerSubset {
    private LayerSubset() {}

    private static final Pattern BLOCK_KEY = Pattern.compile("^blocks\\.(\\d+)\\.(.*)$");

    /** Validates that {@code kept} is strictly increasing and inside [0, depth). */
    public static void validate(int[] kept, int depth) {
        if (kept.length == 0) {
            throw new IllegalArgumentException("no layers kept (depth " + depth + ")");
        }
        for (int i = 0; i < kept.length; i++) {
            if (kept[i] < 0 || kept[i] >= depth) {
                throw new IllegalArgumentException("kept layer index " + kept[i] + " is outside 0.." + (depth - 1));
            }
            if (i > 0 && kept[i] <= kept[i - 1]) {
                throw new IllegalArgumentException(
                        "kept layer indices must be strictly increasing: " + Arrays.toString(kept));
            }
        }
    }

    /** The state dict of the kept blocks, renumbered; other keys pass through. Arrays are not copied. */
    public static LinkedHashMap<String, NDArray> renumber(Map<String, NDArray> stateDict, int[] kept, int depth) {
        validate(kept, depth);
        int[] newIndex = new int[depth];
        Arrays.fill(newIndex, -1);
        for (int i = 0; i < kept.length; i++) {
            newIndex[kept[i]] = i;
        }
        LinkedHashMap<String, NDArray> out = new LinkedHashMap<>();
        stateDict.forEach((k, v) -> {
            Matcher mt = BLOCK_KEY.matcher(k);
            if (!mt.matches()) {
                out.put(k, v);
                return;
            }
            int idx = Integer.parseInt(mt.group(1));
            if (idx < depth && newIndex[idx] >= 0) {
                out.put("blocks." + newIndex[idx] + "." + mt.group(2), v);
            }
        });
        return out;
    }

    /** A new model in {@code manager} holding copies of the kept blocks of {@code source}. */
    public static DiT keep(DiT source, int[] kept, NDManager manager) {
        DiT out = new DiT(manager, source.config().withDepth(kept.length), false);
        out.loadStateDict(renumber(source.stateDict(), kept, source.depth()), true);
        return out;
    }

    /** Every other block starting at 0 (0, 2, 4, ...): the depth-halved model used by the benchmark. */
    public static int[] everyOther(int depth) {
        int[] k = new int[(depth + 1) / 2];
        for (int i = 0; i < k.length; i++) {
            k[i] = 2 * i;
        }
        return k;
    }
}
