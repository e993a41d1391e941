package ai.tinyfusion.prune;

import java.util.Arrays;

/**
 * The hand-designed "oracle" choice of BK-SDM (Kim et al. 2023), as the TinyFusion paper applies it to
 * DiT: the first half of the depth acts as an encoder and the second as a decoder; both are cut into
 * blocks of two layers, and the FIRST layer of each encoder block and the LAST layer of each decoder
 * block are kept. For 28 layers: 0, 2, 4, 6, 8, 10, 12, 15, 17, 19, 21, 23, 25, 27.
 *
 * <p>For any even depth L the L/2 pairs (2p, 2p+1) are split at the middle: pairs with 2p + 1 &lt; L/2
 * (entirely in the encoder half) keep 2p, pairs with 2p ≥ L/2 keep 2p + 1. When L/2 is odd the middle
 * pair straddles the two halves and keeps its first (encoder) layer. Only the ratio 1:2 is defined.
 */
public final class OracleIndices {
    private OracleIndices() {}

    /** The kept layers of an even {@code depth}, L/2 of them. */
    public static int[] keep(int depth) {
        if (depth < 2 || depth % 2 != 0) {
            throw new IllegalArgumentException(
                    "the oracle (BK-SDM) scheme needs an even depth, the model has " + depth + " layers");
        }
        int[] out = new int[depth / 2];
        for (int p = 0; p < depth / 2; p++) {
            boolean decoder = 2 * p >= depth / 2;
            out[p] = decoder ? 2 * p + 1 : 2 * p;
        }
        return out;
    }

    /**
     * The oracle choice for {@code target}, which must keep half the layers (--depth L/2, or a pattern such
     * as 1:2 that the oracle's layers obey).
     */
    public static int[] keep(Target target) {
        int depth = target.depth();
        int[] kept = keep(depth); // refuses an odd depth
        if (target.kept() * 2 != depth) {
            throw new IllegalArgumentException("the oracle (BK-SDM) scheme is defined for ratio 1:2 only (one layer of "
                    + "every pair): use --depth " + depth / 2 + " or --pattern 1:2, not a target keeping "
                    + target.kept()
                    + " of " + depth + " layers");
        }
        try {
            target.check(kept);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("the oracle (BK-SDM) layers " + Arrays.toString(kept) + " do not fit "
                    + target + ": " + e.getMessage());
        }
        return kept;
    }
}
