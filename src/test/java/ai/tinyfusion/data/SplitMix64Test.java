package ai.tinyfusion.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class SplitMix64Test {

    @Test
    void matchesReferenceSequenceForSeedZero() {
        // Vigna's splitmix64.c with x = 0.
        SplitMix64 r = new SplitMix64(0);
        assertEquals(0xE220A8397B1DCDAFL, r.nextLong());
        assertEquals(0x6E789E6AA1B965F4L, r.nextLong());
        assertEquals(0x06C45D188009454FL, r.nextLong());
    }

    @Test
    void stateRestoresTheExactStream() {
        SplitMix64 a = new SplitMix64(12345);
        for (int i = 0; i < 17; i++) {
            a.nextLong();
        }
        SplitMix64 b = new SplitMix64(a.state());
        for (int i = 0; i < 5; i++) {
            assertEquals(a.nextLong(), b.nextLong());
            assertEquals(a.nextInt(7), b.nextInt(7));
            assertEquals(a.nextDouble(), b.nextDouble());
        }
    }

    @Test
    void nextIntIsInRangeAndRoughlyUniform() {
        SplitMix64 r = new SplitMix64(3);
        int[] counts = new int[6];
        int n = 60000;
        for (int i = 0; i < n; i++) {
            counts[r.nextInt(6)]++;
        }
        double chi2 = 0;
        for (int c : counts) {
            chi2 += Math.pow(c - n / 6.0, 2) / (n / 6.0);
        }
        assertTrue(chi2 < 20.5, "chi2 = " + chi2 + " counts " + Arrays.toString(counts)); // p ~ 0.001 at 5 dof
        for (int i = 0; i < 1000; i++) {
            double d = r.nextDouble();
            assertTrue(d >= 0 && d < 1);
        }
    }

    @Test
    void shuffleIsAPermutationAndDeriveSeparatesStreams() {
        int[] a = IntStream.range(0, 100).toArray();
        new SplitMix64(1).shuffle(a);
        int[] sorted = a.clone();
        Arrays.sort(sorted);
        assertArrayEquals(IntStream.range(0, 100).toArray(), sorted);
        assertTrue(Arrays.mismatch(a, sorted) >= 0, "shuffle left the identity");
        assertEquals(SplitMix64.derive(5, 1, 0), SplitMix64.derive(5, 1, 0));
        assertNotEquals(SplitMix64.derive(5, 1, 0), SplitMix64.derive(5, 0, 1));
        assertNotEquals(SplitMix64.derive(5, 1, 0), SplitMix64.derive(6, 1, 0));
    }
}
