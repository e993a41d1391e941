package ai.tinyfusion.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

class BatcherTest {

    /** n items of C×H×W; item i has value i·1000 + position (mirrored when flipped), label i % 3. */
    static Dataset synthetic(int n, int c, int h, int w) {
        return new Dataset() {
            public int size() {
                return n;
            }

            public int channels() {
                return c;
            }

            public int height() {
                return h;
            }

            public int width() {
                return w;
            }

            public int numClasses() {
                return 3;
            }

            public Sample get(int index, boolean hflip) {
                float[] img = new float[c * h * w];
                for (int p = 0; p < img.length; p++) {
                    img[p] = index * 1000 + p;
                }
                return new Sample(hflip ? Dataset.flipHorizontal(img, c, h, w) : img, index % 3);
            }
        };
    }

    private static List<Batcher.HostBatch> take(Batcher b, int count) {
        List<Batcher.HostBatch> out = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            out.add(b.nextHost());
        }
        return out;
    }

    @Test
    void epochsCoverEveryItemOnceWithShortLastBatch() {
        Batcher b = Batcher.builder(synthetic(10, 1, 1, 2), 4).seed(7).build();
        assertEquals(3, b.batchesPerEpoch());
        for (int epoch = 0; epoch < 3; epoch++) {
            List<Integer> seen = new ArrayList<>();
            int[] sizes = new int[3];
            for (int k = 0; k < 3; k++) {
                Batcher.HostBatch hb = b.nextHost();
                assertEquals(epoch, hb.epoch());
                sizes[k] = hb.indices().length;
                for (int j = 0; j < hb.indices().length; j++) {
                    int idx = hb.indices()[j];
                    seen.add(idx);
                    assertEquals(idx % 3, hb.labels()[j]);
                    assertEquals(idx * 1000f, hb.images()[j * 2], 0f);
                    assertEquals(idx * 1000f + 1, hb.images()[j * 2 + 1], 0f);
                }
            }
            assertArrayEquals(new int[] {4, 4, 2}, sizes);
            seen.sort(Integer::compareTo);
            assertEquals(List.of(0, 1, 2, 3, 4, 5, 6, 7, 8, 9), seen);
        }
        assertFalse(Arrays.equals(b.epochOrder(0), b.epochOrder(1)));
        assertArrayEquals(
                b.epochOrder(1),
                Batcher.builder(synthetic(10, 1, 1, 2), 4).seed(7).build().epochOrder(1));
        assertFalse(Arrays.equals(
                b.epochOrder(0),
                Batcher.builder(synthetic(10, 1, 1, 2), 4).seed(8).build().epochOrder(0)));
    }

    @Test
    void dropLastAndNoShuffle() {
        Batcher b = Batcher.builder(synthetic(10, 1, 1, 1), 4)
                .shuffle(false)
                .dropLast(true)
                .build();
        assertEquals(2, b.batchesPerEpoch());
        assertArrayEquals(new int[] {0, 1, 2, 3}, b.nextHost().indices());
        assertArrayEquals(new int[] {4, 5, 6, 7}, b.nextHost().indices());
        Batcher.HostBatch next = b.nextHost();
        assertEquals(1, next.epoch());
        assertArrayEquals(new int[] {0, 1, 2, 3}, next.indices());
        assertThrows(
                IllegalArgumentException.class,
                () -> Batcher.builder(synthetic(3, 1, 1, 1), 4).dropLast(true).build());
    }

    @Test
    void restoringAStateReproducesTheFollowingBatchesIncludingFlips() {
        for (int stopAfter : new int[] {0, 1, 2, 3, 5}) {
            Batcher a = Batcher.builder(synthetic(9, 1, 2, 3), 3)
                    .seed(42)
                    .randomFlip(0.5)
                    .build();
            take(a, stopAfter);
            Batcher.State saved = a.state();
            List<Batcher.HostBatch> expected = take(a, 7);
            Batcher b = Batcher.builder(synthetic(9, 1, 2, 3), 3)
                    .seed(42)
                    .randomFlip(0.5)
                    .build();
            b.restore(saved);
            assertEquals(saved, b.state());
            List<Batcher.HostBatch> got = take(b, 7);
            for (int i = 0; i < 7; i++) {
                assertEquals(expected.get(i).epoch(), got.get(i).epoch());
                assertArrayEquals(expected.get(i).indices(), got.get(i).indices());
                assertArrayEquals(expected.get(i).flipped(), got.get(i).flipped());
                assertArrayEquals(expected.get(i).images(), got.get(i).images(), 0f);
            }
        }
        Batcher other = Batcher.builder(synthetic(9, 1, 2, 3), 3).seed(1).build();
        Batcher.State foreign =
                Batcher.builder(synthetic(9, 1, 2, 3), 3).seed(2).build().state();
        assertThrows(IllegalArgumentException.class, () -> other.restore(foreign));
    }

    @Test
    void flipsFollowTheProbabilityAndMirrorImages() {
        Batcher b = Batcher.builder(synthetic(100, 1, 1, 4), 50)
                .seed(3)
                .randomFlip(0.25)
                .build();
        int flips = 0;
        int total = 0;
        for (int i = 0; i < 40; i++) {
            Batcher.HostBatch hb = b.nextHost();
            for (int j = 0; j < hb.indices().length; j++) {
                total++;
                float first = hb.images()[j * 4];
                int idx = hb.indices()[j];
                if (hb.flipped()[j]) {
                    flips++;
                    assertEquals(idx * 1000f + 3, first, 0f);
                } else {
                    assertEquals(idx * 1000f, first, 0f);
                }
            }
        }
        double rate = (double) flips / total;
        assertTrue(Math.abs(rate - 0.25) < 0.03, "flip rate " + rate); // 2000 draws: sd ~0.0097
        Batcher none = Batcher.builder(synthetic(10, 1, 1, 4), 10).build();
        for (boolean f : none.nextHost().flipped()) {
            assertFalse(f);
        }
    }

    @Test
    void producesLibtorchOwnedNdArraysWithResizing() {
        Batcher b = Batcher.builder(synthetic(5, 2, 3, 3), 4)
                .shuffle(false)
                .resize(Resizer.padConstant(5, 5, -1f))
                .build();
        assertEquals(5, b.height());
        try (NDManager manager = NDManager.newBaseManager()) {
            Batcher.Batch batch = b.next(manager);
            assertEquals(new Shape(4, 2, 5, 5), batch.images().getShape());
            assertEquals(DataType.FLOAT32, batch.images().getDataType());
            assertEquals(new Shape(4), batch.labels().getShape());
            assertEquals(DataType.INT64, batch.labels().getDataType());
            System.gc(); // the Java-side temporaries are gone; the arrays must not depend on them
            float[] img = batch.images().toFloatArray();
            // Item 2, channel 1, padded position (1,1) = source (0,0) of channel 1 -> 2000 + 9.
            assertEquals(2000f + 9, img[((2 * 2 + 1) * 5 + 1) * 5 + 1], 0f);
            assertEquals(-1f, img[0], 0f);
            assertArrayEquals(new long[] {0, 1, 2, 0}, batch.labels().toLongArray());
            assertEquals(1f, batch.images().get(0).get(0).get(1).sum().getFloat(), 1e-6f); // row [-1, 0, 1, 2, -1]
            batch.close();
            Batcher.Batch last = b.next(manager);
            assertEquals(1, last.size());
            assertEquals(new Shape(1, 2, 5, 5), last.images().getShape());
            last.close();
        }
    }
}
