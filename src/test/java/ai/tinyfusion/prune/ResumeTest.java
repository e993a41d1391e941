package ai.tinyfusion.prune;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import ai.tinyfusion.OneThread;
import ai.tinyfusion.data.Dataset;
import ai.tinyfusion.data.Sample;
import ai.tinyfusion.model.dit.DiT;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** A search killed after a checkpoint and resumed ends exactly where the uninterrupted search ends. */
@ExtendWith(OneThread.class)
class ResumeTest {
    /** Fails every read once {@code limit} items were read: a crash in the middle of a run. */
    private static Dataset crashing(Dataset d, int limit) {
        AtomicInteger reads = new AtomicInteger();
        return new Dataset() {
            @Override
            public int size() {
                return d.size();
            }

            @Override
            public int channels() {
                return d.channels();
            }

            @Override
            public int height() {
                return d.height();
            }

            @Override
            public int width() {
                return d.width();
            }

            @Override
            public int numClasses() {
                return d.numClasses();
            }

            @Override
            public Sample get(int index, boolean hflip) {
                if (reads.incrementAndGet() > limit) {
                    throw new IllegalStateException("simulated crash");
                }
                return d.get(index, hflip);
            }
        };
    }

    private static LearnedPruning.Options options() {
        // Short run: tau and scaling both move, decisions logged every 3 steps, checkpoints every 6.
        return new LearnedPruning.Options()
                .pattern("2:4")
                .tau(4, 0.5)
                .scaling(50, 100)
                .ema(0.9)
                .seed(3)
                .decisionEvery(3)
                .logEvery(1)
                .checkpoints(6, 0);
    }

    @Test
    void resumedSearchEqualsUninterruptedSearch(@TempDir Path dir) throws Exception {
        int batch = 8;
        long steps = 12;
        Dataset data = Tiny.data(64);
        LearnedPruning.Outcome full;
        try (NDManager m = NDManager.newBaseManager()) {
            DiT model = Tiny.randomModel(m, 4, 8);
            full = LearnedPruning.search(
                    model, Tiny.batcher(data, batch, 4), steps, options(), dir.resolve("a"), null, null);
        }
        try (NDManager m = NDManager.newBaseManager()) {
            DiT model = Tiny.randomModel(m, 4, 8);
            // Dies while reading the 8th batch, after the step-6 checkpoint.
            IllegalStateException crash = assertThrows(
                    IllegalStateException.class,
                    () -> LearnedPruning.search(
                            model,
                            Tiny.batcher(crashing(data, 7 * batch + 3), batch, 4),
                            steps,
                            options(),
                            dir.resolve("b"),
                            null,
                            null));
            assertEquals("simulated crash", crash.getMessage());
        }
        assertTrue(Files.exists(dir.resolve("b/checkpoints/step-0000006.safetensors")));
        assertEquals(3, DecisionLog.read(dir.resolve("b/decisions.csv")).size()); // steps 0, 3, 6
        LearnedPruning.Outcome resumed;
        try (NDManager m = NDManager.newBaseManager()) {
            DiT model = Tiny.randomModel(m, 4, 8);
            // A search on other source weights refuses the checkpoint.
            IOException wrong = assertThrows(
                    IOException.class,
                    () -> LearnedPruning.search(
                            model,
                            Tiny.batcher(data, batch, 4),
                            steps,
                            options(),
                            dir.resolve("b"),
                            dir.resolve("b"),
                            "ab12"));
            assertTrue(wrong.getMessage().contains("SHA-256"), wrong.getMessage());
            resumed = LearnedPruning.search(
                    model, Tiny.batcher(data, batch, 4), steps, options(), dir.resolve("b"), dir.resolve("b"), null);
        }
        assertEquals(steps, resumed.train().steps());
        assertEquals(full.emaLogits().size(), resumed.emaLogits().size());
        for (int b = 0; b < full.emaLogits().size(); b++) {
            assertArrayEquals(full.emaLogits().get(b), resumed.emaLogits().get(b), "EMA logits of block " + b);
        }
        assertArrayEquals(full.decision().kept(), resumed.decision().kept());
        assertArrayEquals(full.decision().confidence(), resumed.decision().confidence());
        // The decision traces are identical, row for row (steps 0, 3, ..., 12).
        List<String> a = Files.readAllLines(dir.resolve("a/decisions.csv"));
        List<String> b = Files.readAllLines(dir.resolve("b/decisions.csv"));
        assertEquals(6, a.size());
        assertEquals(a, b);
        // The logits did move (the comparison is not between two untouched initialisations).
        float[] l0 = full.emaLogits().get(0);
        float spread = 0;
        for (float v : l0) {
            spread = Math.max(spread, Math.abs(v - 0.02f));
        }
        assertTrue(spread > 1e-4, "EMA logits moved: " + java.util.Arrays.toString(l0));
    }
}
