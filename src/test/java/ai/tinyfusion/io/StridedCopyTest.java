package ai.tinyfusion.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import org.junit.jupiter.api.Test;

class StridedCopyTest {
    private static ByteBuffer arange(int n) {
        return ByteBuffer.wrap(TorchZips.arange(n));
    }

    private static float[] floats(ByteBuffer b) {
        return HostTensor.of(DType.F32, new long[] {b.remaining() / 4}, b).toFloatArray();
    }

    @Test
    void gathersPermutedThreeDimensionalViews() {
        // A (2,3,4) array permuted to (4,2,3): strides (1,12,4).
        ByteBuffer out = StridedCopy.gather(arange(24), 0, new long[] {4, 2, 3}, new long[] {1, 12, 4}, 4);
        float[] v = floats(out);
        assertEquals(24, v.length);
        for (int a = 0; a < 4; a++) {
            for (int b = 0; b < 2; b++) {
                for (int c = 0; c < 3; c++) {
                    assertEquals(b * 12 + c * 4 + a, v[a * 6 + b * 3 + c]);
                }
            }
        }
    }

    @Test
    void zeroStridesRankZeroAndBounds() {
        assertArrayEquals(
                new float[] {5, 5, 5}, floats(StridedCopy.gather(arange(8), 5, new long[] {3}, new long[] {0}, 4)));
        assertArrayEquals(new float[] {7}, floats(StridedCopy.gather(arange(8), 7, new long[] {}, new long[] {}, 4)));
        assertThrows(
                IllegalArgumentException.class,
                () -> StridedCopy.gather(arange(8), 1, new long[] {2, 4}, new long[] {4, 1}, 4));
        assertThrows(
                IllegalArgumentException.class,
                () -> StridedCopy.gather(arange(8), 0, new long[] {2}, new long[] {-1}, 4));
    }

    @Test
    void shapeArithmetic() {
        assertArrayEquals(new long[] {12, 4, 1}, Shapes.contiguousStrides(new long[] {2, 3, 4}));
        assertArrayEquals(new long[] {1, 2, 6}, Shapes.fortranStrides(new long[] {2, 3, 4}));
        assertTrue(Shapes.isContiguous(new long[] {2, 1, 4}, new long[] {4, 99, 1}));
        assertFalse(Shapes.isContiguous(new long[] {2, 4}, new long[] {1, 2}));
        assertEquals(-1, Shapes.maxRelativeIndex(new long[] {0, 3}, new long[] {3, 1}));
        assertThrows(IllegalArgumentException.class, () -> Shapes.numel(new long[] {1L << 40, 1L << 40}));
    }
}
