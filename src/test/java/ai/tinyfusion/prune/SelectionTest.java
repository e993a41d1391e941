package ai.tinyfusion.prune;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.tinyfusion.data.SplitMix64;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Targets, selection by scores, the oracle and the model-free selections (no engine needed). */
class SelectionTest {
    private static void fails(Runnable r, String... parts) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, r::run);
        for (String p : parts) {
            assertTrue(e.getMessage().contains(p), e.getMessage());
        }
    }

    @Test
    void invalidTargetsAreRefusedWithTheProblemNamed() {
        fails(() -> Target.of(0, null, 28), "--depth 0", "at least 1");
        fails(() -> Target.of(-3, null, 28), "--depth -3");
        fails(() -> Target.of(29, null, 28), "--depth 29", "only 28 layers");
        fails(() -> Target.of(null, null, 28), "--depth K", "--pattern");
        fails(() -> Target.of(10, "1:2", 28), "keeps 14 of the 28 layers", "--depth is 10");
        fails(() -> Target.of(null, "2:4,2:4", 28), "add up to 8", "28 layers");
        fails(() -> Target.of(null, "1:3", 28), "M=3 does not divide the depth 28");
        fails(() -> Target.of(null, "3:2", 28), "between 1 and M=2");
        // Consistent depth and pattern are fine; K = L keeps everything.
        assertEquals(14, Target.of(14, "1:2", 28).kept());
        assertEquals(28, Target.of(28, null, 28).kept());
        assertEquals("1:2", Target.of(null, "1:2", 28).patternSpec());
        assertEquals(null, Target.depth(14, 28).patternSpec());
    }

    @Test
    void checkNamesTheSegmentAChoiceViolates() {
        Target p = Target.of(null, "1:2", 6);
        p.check(new int[] {0, 3, 5});
        fails(() -> p.check(new int[] {0, 1, 4}), "pattern 1:2 keeps 1 of layers 0..1", "keeps 2");
        fails(() -> Target.depth(3, 6).check(new int[] {0, 1}), "keeps 3 layers");
        fails(() -> Target.depth(2, 6).check(new int[] {1, 0}), "strictly increasing");
    }

    @Test
    void selectionByScoresKeepsTheHighestPerSegment() {
        double[] s = {0.5, 0.1, 0.9, 0.3, 0.2, 0.8};
        assertArrayEquals(new int[] {0, 2, 5}, Target.depth(3, 6).selectTop(s, null));
        assertArrayEquals(new int[] {0, 2, 5}, Target.of(null, "1:2", 6).selectTop(s, null));
        assertArrayEquals(new int[] {0, 2, 3, 5}, Target.of(null, "2:3", 6).selectTop(s, null));
        // Forced layers win over scores; ties go to the lower index.
        boolean[] forced = new boolean[6];
        forced[4] = true;
        assertArrayEquals(new int[] {2, 4, 5}, Target.depth(3, 6).selectTop(s, forced));
        assertArrayEquals(new int[] {0, 1}, Target.depth(2, 4).selectTop(new double[] {1, 1, 1, 1}, null));
        fails(
                () -> Target.depth(2, 4).selectTop(new double[] {1, Double.NaN, 1, 1}, null),
                "layer 1",
                "no finite score");
        fails(() -> Target.depth(2, 4).selectTop(new double[] {1, 1}, null), "2 scores for 4 layers");
    }

    @Test
    void oracleIsBkSdmsEncoderDecoderChoice() {
        assertArrayEquals(new int[] {0, 2, 4, 6, 8, 10, 12, 15, 17, 19, 21, 23, 25, 27}, OracleIndices.keep(28));
        assertArrayEquals(
                new int[] {0, 2, 4, 6, 8, 10, 12, 15, 17, 19, 21, 23, 25, 27},
                OracleIndices.keep(Target.depth(14, 28)));
        assertArrayEquals(OracleIndices.keep(28), OracleIndices.keep(Target.of(null, "1:2", 28)));
        assertArrayEquals(OracleIndices.keep(28), OracleIndices.keep(Target.of(null, "2:4", 28)));
        assertArrayEquals(new int[] {0, 3}, OracleIndices.keep(4));
        assertArrayEquals(new int[] {0, 2, 5}, OracleIndices.keep(6)); // the middle pair (2, 3) keeps its first
        assertArrayEquals(new int[] {0, 2, 5, 7}, OracleIndices.keep(8));
        fails(() -> OracleIndices.keep(Target.depth(10, 28)), "ratio 1:2 only", "--depth 14", "keeping 10 of 28");
        fails(() -> OracleIndices.keep(Target.depth(3, 7)), "even depth", "7 layers");
        fails(() -> OracleIndices.keep(Target.of(null, "1:4,3:4,2:4,2:4,2:4,2:4,2:4", 28)), "do not fit");
    }

    @Test
    void indicesKeepOrDrop() {
        assertArrayEquals(new int[] {1, 4, 5}, SimpleSelections.indices(new int[] {5, 1, 4}, null, 6));
        assertArrayEquals(new int[] {0, 2, 3}, SimpleSelections.indices(null, new int[] {5, 1, 4}, 6));
        fails(
                () -> SimpleSelections.indices(new int[] {1}, new int[] {2}, 6),
                "exactly one of --keep-layers or --drop-layers");
        fails(() -> SimpleSelections.indices(null, null, 6), "exactly one");
        fails(() -> SimpleSelections.indices(new int[] {1, 6}, null, 6), "--keep-layers", "layer 6 is outside 0..5");
        fails(() -> SimpleSelections.indices(null, new int[] {2, 2}, 6), "--drop-layers", "layer 2 is listed twice");
        fails(() -> SimpleSelections.indices(null, new int[] {0, 1, 2}, 3), "removes all 3 layers");
    }

    @Test
    void firstLastUniformPerSegment() {
        Target d = Target.depth(3, 9);
        assertArrayEquals(new int[] {0, 1, 2}, SimpleSelections.first(d));
        assertArrayEquals(new int[] {6, 7, 8}, SimpleSelections.last(d));
        assertArrayEquals(new int[] {0, 3, 6}, SimpleSelections.uniform(d));
        assertArrayEquals(
                new int[] {0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26},
                SimpleSelections.uniform(Target.depth(14, 28)));
        assertArrayEquals(new int[] {0, 2, 4, 6, 8}, SimpleSelections.uniform(Target.depth(5, 11))); // ⌊j·11/5⌋
        Target p = Target.of(null, "2:4,1:2", 6);
        assertArrayEquals(new int[] {0, 1, 4}, SimpleSelections.first(p));
        assertArrayEquals(new int[] {2, 3, 5}, SimpleSelections.last(p));
        assertArrayEquals(new int[] {0, 2, 4}, SimpleSelections.uniform(p));
        assertArrayEquals(new int[] {0, 1, 2, 3}, SimpleSelections.first(Target.depth(4, 4)));
    }

    @Test
    void randomIsSeededAndUniformOverSubsets() {
        Target d = Target.depth(2, 4);
        assertArrayEquals(SimpleSelections.random(d, new SplitMix64(5)), SimpleSelections.random(d, new SplitMix64(5)));
        Target big = Target.depth(14, 28);
        assertNotEquals(
                Arrays.toString(SimpleSelections.random(big, new SplitMix64(5))),
                Arrays.toString(SimpleSelections.random(big, new SplitMix64(6))));
        // 6,000 draws of 2 of 4: each of the C(4,2) = 6 subsets about 1,000 times (sd ≈ 29).
        Map<String, Integer> counts = new HashMap<>();
        SplitMix64 rng = new SplitMix64(1);
        for (int i = 0; i < 6000; i++) {
            int[] k = SimpleSelections.random(d, rng);
            d.check(k);
            counts.merge(Arrays.toString(k), 1, Integer::sum);
        }
        assertEquals(6, counts.size());
        counts.forEach((k, n) -> assertTrue(n > 880 && n < 1120, k + ": " + n));
        // Under a pattern every draw obeys it, and each block's candidates are equally likely.
        Target p = Target.of(null, "1:2,2:3", 5);
        Map<String, Integer> pc = new HashMap<>();
        for (int i = 0; i < 6000; i++) {
            int[] k = SimpleSelections.random(p, rng);
            p.check(k);
            pc.merge(Arrays.toString(k), 1, Integer::sum);
        }
        assertEquals(6, pc.size()); // 2 × 3 masks
        pc.forEach((k, n) -> assertTrue(n > 880 && n < 1120, k + ": " + n));
    }
}
