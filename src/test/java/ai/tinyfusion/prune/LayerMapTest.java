package ai.tinyfusion.prune;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.tinyfusion.train.LayerMap;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/** Student ↔ teacher layer maps derived from decision records. */
class LayerMapTest {
    private static DecisionRecord record(int depth, int[] kept, String pattern) {
        return DecisionRecord.of(
                "test",
                new DecisionRecord.Source(null, null, "test", depth),
                kept,
                pattern,
                null,
                null,
                null,
                null,
                null);
    }

    @Test
    void oneOfTwoMapsStudentIToTeacher2iPlus1WhicheverLayerWasKept() {
        // 14 blocks of 2; alternate between keeping the first and the second layer of a block.
        int[] kept = IntStream.range(0, 14).map(b -> 2 * b + (b % 2)).toArray();
        LayerMap m = record(28, kept, "1:2").layerMap();
        assertArrayEquals(IntStream.range(0, 14).toArray(), m.student());
        assertArrayEquals(IntStream.range(0, 14).map(i -> 2 * i + 1).toArray(), m.teacher());
        assertEquals(m, LayerMap.blockEnds(Pattern.parse("1:2", 28).blockEnds(), kept));
    }

    @Test
    void twoOfFourMapsTheLastKeptLayerOfEachBlockToTheBlockEnd() {
        // Blocks of 4 keeping {0,1}, {1,3}, {0,2}, ... cycling through three choices.
        int[][] choices = {{0, 1}, {1, 3}, {0, 2}};
        int[] kept = IntStream.range(0, 7)
                .flatMap(b -> IntStream.of(choices[b % 3]).map(j -> 4 * b + j))
                .toArray();
        LayerMap m = record(28, kept, "2:4").layerMap();
        assertArrayEquals(IntStream.range(0, 7).map(b -> 2 * b + 1).toArray(), m.student());
        assertArrayEquals(IntStream.range(0, 7).map(b -> 4 * b + 3).toArray(), m.teacher());
    }

    @Test
    void mixedPatternReproducesTheOriginalD19Lists() {
        // DiT-D19: seven blocks of 4 keeping 3,3,2,3,2,3,3 layers.
        String pattern = "3:4,3:4,2:4,3:4,2:4,3:4,3:4";
        int[] kept = {0, 1, 2, 4, 5, 7, 9, 10, 12, 13, 15, 16, 18, 20, 22, 23, 24, 25, 27};
        LayerMap m = record(28, kept, pattern).layerMap();
        assertArrayEquals(new int[] {2, 5, 7, 10, 12, 15, 18}, m.student());
        assertArrayEquals(new int[] {3, 7, 11, 15, 19, 23, 27}, m.teacher());
        // Uneven block sizes: 1:2,2:3 over 5 layers, kept {1, 2, 4}.
        LayerMap u = record(5, new int[] {1, 2, 4}, "1:2,2:3").layerMap();
        assertEquals("0:1,2:4", u.toString());
    }

    @Test
    void withoutPatternEachKeptLayerMapsToTheLayerBeforeTheNextKeptOne() {
        LayerMap m = record(10, new int[] {0, 3, 4, 8}, null).layerMap();
        assertArrayEquals(new int[] {0, 1, 2, 3}, m.student());
        assertArrayEquals(new int[] {2, 3, 7, 9}, m.teacher());
        // For a 1:2 choice of first layers it agrees with the pattern rule.
        int[] firsts = IntStream.range(0, 14).map(b -> 2 * b).toArray();
        assertEquals(record(28, firsts, "1:2").layerMap(), LayerMap.segments(firsts, 28));
    }

    @Test
    void explicitMapsAreParsedSortedAndChecked() {
        LayerMap m = LayerMap.parse(" 1:3, 0:1 ");
        assertArrayEquals(new int[] {0, 1}, m.student());
        assertArrayEquals(new int[] {1, 3}, m.teacher());
        LayerMap shared = LayerMap.parse("0:5,1:5,2:2");
        assertArrayEquals(new int[] {2, 5}, shared.teacherCaptures());
        assertEquals(1, shared.teacherSlot(0));
        assertEquals(0, shared.teacherSlot(2));
        assertEquals("0:0,1:1,2:2", LayerMap.identity(3).toString());
        assertTrue(assertThrows(IllegalArgumentException.class, () -> LayerMap.parse("0:1,0:3"))
                .getMessage()
                .contains("strictly increasing"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> LayerMap.parse("0-1"))
                .getMessage()
                .contains("'0-1' is not student:teacher"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> LayerMap.parse("0:1,4:9")
                        .check(4, 8))
                .getMessage()
                .contains("does not fit a 4-layer student and a 8-layer teacher"));
    }
}
