package ai.tinyfusion.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.tinyfusion.prune.LearnedPruning;
import ai.tinyfusion.prune.Tiny;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The search-vs-training step benchmark runs both loops and reads their per-step times (no timing asserted). */
class SearchStepBenchTest {
    @Test
    void runsBothLoopsAndReportsPositiveStepTimes(@TempDir Path dir) throws Exception {
        SearchStepBench.Result r = SearchStepBench.run(
                SearchStepBench.randomInit(Tiny.config(4), 0),
                4,
                new LearnedPruning.Options().pattern("1:2"),
                3,
                1,
                true,
                dir);
        assertTrue(r.trainSec() > 0 && r.searchSec() > 0, r.toString());
        assertTrue(Double.isFinite(r.ratio()));
        assertTrue(Files.exists(dir.resolve("search-0").resolve(LearnedPruning.DECISIONS_CSV)));
    }

    @Test
    void stepTimesAreDifferencesWithoutTheFirstStep(@TempDir Path dir) throws Exception {
        Path csv = dir.resolve("m.csv");
        Files.writeString(csv, "step,seconds,loss\n1,2.0,0.5\n2,2.5,0.4\n3,3.25,0.3\n");
        assertEquals(List.of(0.5, 0.75), SearchStepBench.stepSeconds(csv));
    }

    @Test
    void refusesTooFewSteps(@TempDir Path dir) {
        assertThrows(
                IllegalArgumentException.class,
                () -> SearchStepBench.run(
                        SearchStepBench.randomInit(Tiny.config(4), 0),
                        2,
                        new LearnedPruning.Options(),
                        1,
                        1,
                        true,
                        dir));
    }
}
