package ai.tinyfusion.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class ResizerTest {

    @Test
    void constantPadCentres28To32() {
        float[] img = new float[28 * 28];
        for (int i = 0; i < img.length; i++) {
            img[i] = i;
        }
        float[] out = Resizer.padConstant(32, 32, -1f).apply(img, 1, 28, 28);
        assertEquals(32 * 32, out.length);
        assertEquals(-1f, out[0], 0f);
        assertEquals(-1f, out[2 * 32 + 1], 0f);
        assertEquals(0f, out[2 * 32 + 2], 0f); // (0,0) lands at (2,2)
        assertEquals(27f, out[2 * 32 + 29], 0f); // (0,27) at (2,29)
        assertEquals(28 * 28 - 1f, out[29 * 32 + 29], 0f); // (27,27) at (29,29)
        assertEquals(-1f, out[30 * 32 + 29], 0f);
    }

    @Test
    void oddMarginPutsExtraBottomRightAndEdgeRepeatsBorder() {
        // 1 channel 2x2 -> 3x5: top 0, bottom 1; left 1, right 2.
        float[] img = {1, 2, 3, 4};
        assertArrayEquals(
                new float[] {
                    9, 1, 2, 9, 9,
                    9, 3, 4, 9, 9,
                    9, 9, 9, 9, 9
                },
                Resizer.padConstant(3, 5, 9f).apply(img, 1, 2, 2),
                0f);
        assertArrayEquals(
                new float[] {
                    1, 1, 2, 2, 2,
                    3, 3, 4, 4, 4,
                    3, 3, 4, 4, 4
                },
                Resizer.padEdge(3, 5).apply(img, 1, 2, 2),
                0f);
    }

    @Test
    void smallerTargetCentreCropsPerChannel() {
        // 2 channels of 4x4, crop to 2x2 -> rows/cols 1..2.
        float[] img = new float[32];
        for (int i = 0; i < 32; i++) {
            img[i] = i;
        }
        assertArrayEquals(
                new float[] {5, 6, 9, 10, 21, 22, 25, 26}, Resizer.padEdge(2, 2).apply(img, 2, 4, 4), 0f);
    }

    @Test
    void bilinearFollowsPytorchAlignCornersFalse() {
        // F.interpolate(torch.tensor([[[[0., 1.]]]]), size=(1, 4), mode="bilinear", align_corners=False)
        // = [0, 0.25, 0.75, 1].
        assertArrayEquals(
                new float[] {0f, 0.25f, 0.75f, 1f}, Resizer.bilinear(1, 4).apply(new float[] {0, 1}, 1, 1, 2), 1e-7f);
        // Downsampling 4 -> 2 averages neighbour pairs: [0,1,2,3] -> [0.5, 2.5].
        assertArrayEquals(
                new float[] {0.5f, 2.5f}, Resizer.bilinear(1, 2).apply(new float[] {0, 1, 2, 3}, 1, 1, 4), 1e-7f);
        // Constant images stay constant.
        float[] c = new float[3 * 28 * 28];
        java.util.Arrays.fill(c, 0.3f);
        for (float v : Resizer.bilinear(32, 32).apply(c, 3, 28, 28)) {
            assertEquals(0.3f, v, 1e-6f);
        }
    }
}
