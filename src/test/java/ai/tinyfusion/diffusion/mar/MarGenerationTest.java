package ai.tinyfusion.diffusion.mar;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.tinyfusion.model.mar.Mar;
import ai.tinyfusion.model.mar.MarFixture;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Generation with drawn orders and noise: shapes, the mask schedule, reproducibility, bad settings. */
class MarGenerationTest {
    @Test
    void drawnGenerationIsReproducibleAndRevealsEveryTokenOnce() throws Exception {
        try (NDManager m = NDManager.newBaseManager()) {
            Mar model = MarFixture.load(m);
            MarSampler sampler = new MarSampler(new MarDiffusion(model));
            NDArray labels = m.create(new long[] {0, 9});
            List<Integer> predicted = new ArrayList<>();
            MarSampler.Options o = new MarSampler.Options()
                    .numIter(5)
                    .cfg(3.0)
                    .temperature(1.0)
                    .listener((step, z, sampled, scale) ->
                            predicted.add((int) sampled.getShape().get(0) / 2));
            Engine.getInstance().setRandomSeed(3);
            NDArray a = sampler.sample(m, 2, labels, o, new Random(5));
            assertEquals(new Shape(2, 16, 4, 4), a.getShape());
            // cosine schedule over 16 tokens and 5 steps: 15, 12, 9, 4, then 1 left → 1+3+3+5+4 per sample (× 2)
            assertEquals(List.of(2, 6, 6, 10, 8), predicted);
            assertEquals(32, predicted.stream().mapToInt(Integer::intValue).sum());
            predicted.clear();
            Engine.getInstance().setRandomSeed(3);
            NDArray b = sampler.sample(m, 2, labels, o, new Random(5));
            assertEquals(0f, a.sub(b).abs().max().getFloat());
            assertTrue(Float.isFinite(a.abs().max().getFloat()));
            Engine.getInstance().setRandomSeed(4);
            NDArray c = sampler.sample(m, 2, labels, o, new Random(5));
            assertTrue(a.sub(c).abs().max().getFloat() > 0, "other noise, other samples");
            assertThrows(IllegalArgumentException.class, () -> new MarSampler.Options().numIter(0));
        }
    }
}
