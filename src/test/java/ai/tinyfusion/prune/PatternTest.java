package ai.tinyfusion.prune;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class PatternTest {
    @Test
    void combinationsAreItertoolsOrder() {
        // list(itertools.combinations(range(4), 2))
        assertArrayEquals(new int[][] {{0, 1}, {0, 2}, {0, 3}, {1, 2}, {1, 3}, {2, 3}}, Pattern.combinations(4, 2));
        assertArrayEquals(new int[][] {{0}, {1}}, Pattern.combinations(2, 1));
        assertArrayEquals(new int[][] {{0, 1, 2}}, Pattern.combinations(3, 3));
        assertArrayEquals(
                new int[][] {
                    {0, 1, 2}, {0, 1, 3}, {0, 1, 4}, {0, 2, 3}, {0, 2, 4}, {0, 3, 4}, {1, 2, 3}, {1, 2, 4}, {1, 3, 4},
                    {2, 3, 4}
                },
                Pattern.combinations(5, 3));
        // C(14,7) = 3432 strictly increasing sets, lexicographically ordered, first and last as itertools.
        int[][] c = Pattern.combinations(14, 7);
        assertEquals(3432, c.length);
        assertArrayEquals(new int[] {0, 1, 2, 3, 4, 5, 6}, c[0]);
        assertArrayEquals(new int[] {0, 1, 2, 3, 4, 5, 7}, c[1]);
        assertArrayEquals(new int[] {7, 8, 9, 10, 11, 12, 13}, c[3431]);
        for (int i = 1; i < c.length; i++) {
            assertTrue(java.util.Arrays.compare(c[i - 1], c[i]) < 0, "row " + i);
        }
        assertEquals(40116600L, Pattern.binomial(28, 14));
        assertEquals(1, Pattern.binomial(5, 0));
        assertEquals(0, Pattern.binomial(3, 4));
    }

    @Test
    void uniformPatternsRepeatOverTheDepth() {
        Pattern p = Pattern.parse("1:2", 28);
        assertEquals(14, p.blocks().size());
        assertEquals(14, p.keptCount());
        assertEquals(28, p.depth());
        assertEquals(2, p.blocks().get(0).candidateCount());
        assertEquals(26, p.blocks().get(13).offset());

        Pattern p24 = Pattern.parse("2:4", 28);
        assertEquals(7, p24.blocks().size());
        assertEquals(6, p24.blocks().get(3).candidateCount());
        assertArrayEquals(
                new float[][] {{1, 1, 0, 0}, {1, 0, 1, 0}, {1, 0, 0, 1}, {0, 1, 1, 0}, {0, 1, 0, 1}, {0, 0, 1, 1}},
                p24.blocks().get(3).candidateMasks());

        Pattern p714 = Pattern.parse("7:14", 28);
        assertEquals(2, p714.blocks().size());
        assertEquals(3432, p714.blocks().get(1).candidateCount());
        assertEquals(14, p714.keptCount());

        Pattern p14 = Pattern.parse(" 1 : 4 ", 28);
        assertEquals(7, p14.keptCount());
        assertEquals("1:4", p14.spec());
        // The kept layers of a choice: block b, candidate c → offset + combination.
        assertArrayEquals(new int[] {0, 5, 10, 15, 16, 21, 27}, p14.keptLayers(new int[] {0, 1, 2, 3, 0, 1, 3}));
    }

    @Test
    void mixedListsFollowTheGivenBlocks() {
        Pattern p = Pattern.parse("2:4,2:4,3:4,1:2,1:1,2:3,1:3,4:7", 28);
        List<Pattern.Block> b = p.blocks();
        assertEquals(8, b.size());
        assertArrayEquals(
                new int[] {0, 4, 8, 12, 14, 15, 18, 21},
                b.stream().mapToInt(Pattern.Block::offset).toArray());
        assertArrayEquals(
                new int[] {6, 6, 4, 2, 1, 3, 3, 35},
                b.stream().mapToInt(Pattern.Block::candidateCount).toArray());
        assertEquals(2 + 2 + 3 + 1 + 1 + 2 + 1 + 4, p.keptCount());
        assertEquals("2:4,2:4,3:4,1:2,1:1,2:3,1:3,4:7", p.expanded());
        // Choice 5 of 2:4 is {2,3}; 3:4 choice 3 is {1,2,3}; 1:1 keeps its layer; 4:7 choice 34 is {3,4,5,6}.
        assertArrayEquals(
                new int[] {2, 3, 4, 5, 9, 10, 11, 13, 14, 15, 16, 19, 24, 25, 26, 27},
                p.keptLayers(new int[] {5, 0, 3, 1, 0, 0, 1, 34}));
        // N = M everywhere is allowed (nothing pruned), as is a single block covering the depth.
        assertEquals(4, Pattern.parse("2:2,2:2", 4).keptCount());
        assertEquals(1, Pattern.parse("3:4", 4).blocks().size());
        assertEquals(Pattern.parse("1:2", 4), Pattern.parse("1:2,1:2", 4));
    }

    @Test
    void invalidPatternsNameTheProblem() {
        assertMessage("1:3", 28, "M=3 does not divide the depth 28");
        assertMessage("2:4,2:4", 28, "add up to 8, but the model has 28 layers");
        assertMessage("2:4,5:4,2:4", 12, "block 1 ('5:4')", "between 1 and M=4, got 5");
        assertMessage("0:2", 28, "between 1 and M=2, got 0");
        assertMessage("1:0", 28, "M must be at least 1");
        assertMessage("1-2", 28, "expected N:M");
        assertMessage("1:2,,1:2", 6, "block 1 ('')", "expected N:M");
        assertMessage("a:b", 28, "expected N:M");
        assertMessage("", 28, "empty pruning pattern");
        assertMessage("14:28", 28, "candidates is too many");
        assertMessage("99999999999:2", 28, "number too large");
    }

    private static void assertMessage(String spec, int depth, String... parts) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Pattern.parse(spec, depth));
        for (String part : parts) {
            assertTrue(e.getMessage().contains(part), "'" + spec + "': " + e.getMessage());
        }
    }
}
