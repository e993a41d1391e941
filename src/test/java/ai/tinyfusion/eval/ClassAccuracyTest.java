package ai.tinyfusion.eval;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class ClassAccuracyTest {

    @Test
    void argmaxAndAccuracy() {
        double[][] logits = {
            {0.1, 2.0, -1.0}, // 1
            {3.0, 3.0, 0.0}, // tie -> first index 0
            {-5, -4, -3}, // 2
            {Double.NaN, 1, 0}, // NaN never wins -> 1
        };
        assertArrayEquals(new int[] {1, 0, 2, 1}, ClassAccuracy.argmax(logits));
        int[] labels = {1, 1, 2, 0};
        assertEquals(2, ClassAccuracy.correct(logits, labels));
        assertEquals(0.5, ClassAccuracy.compute(logits, labels), 0);
        assertThrows(IllegalArgumentException.class, () -> ClassAccuracy.compute(logits, new int[] {1}));
    }
}
