package ai.tinyfusion.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import org.junit.jupiter.api.Test;

/** The Masked-KD rule: |h − μ| < k·σ per sample over all tokens and channels. */
class HiddenMaskTest {
    @Test
    void valuesBeyondTwoSigmaAreMaskedPerSample() {
        try (NDManager m = NDManager.newBaseManager()) {
            // Sample 0: nine zeros and a 10: μ = 1, σ² = (9·1 + 81)/9 = 10 (unbiased), 2σ = 6.32 → the 10 (|9| > 6.32)
            // is masked, the zeros (|−1|) are kept. Sample 1: ±1 alternating: μ = 0, 2σ = 2.11 → all kept.
            float[] v = {0, 0, 0, 0, 0, 0, 0, 0, 0, 10, 1, -1, 1, -1, 1, -1, 1, -1, 1, -1};
            NDArray h = m.create(v, new Shape(2, 5, 2)); // (N, T, D)
            NDArray mask = HiddenMask.of(h, 2);
            assertArrayEquals(new long[] {2, 5, 2}, mask.getShape().getShape());
            float[] expect = {1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1};
            assertArrayEquals(expect, mask.toFloatArray());
            // k = 0.9: sample 1's bound is 0.9·1.054 = 0.95 < 1 → all of it masked; sample 0's bound 2.85 still
            // keeps the zeros (|−1|).
            float[] narrow = {1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
            assertArrayEquals(narrow, HiddenMask.of(h, 0.9).toFloatArray());
            // The bound uses the unbiased σ: with k = 2.9, 2.9·√10 = 9.17 > 9 keeps the 10; the biased σ (√9 = 3,
            // bound 8.7) would mask it.
            assertArrayEquals(
                    new float[] {1, 1, 1, 1, 1, 1, 1, 1, 1, 1},
                    HiddenMask.of(h.get("0:1"), 2.9).toFloatArray());
            assertThrows(IllegalArgumentException.class, () -> HiddenMask.of(m.zeros(new Shape(2, 4)), 2));
        }
    }
}
