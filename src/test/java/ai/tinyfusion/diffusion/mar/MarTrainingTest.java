package ai.tinyfusion.diffusion.mar;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import ai.tinyfusion.model.mar.Mar;
import ai.tinyfusion.model.mar.MarFixture;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The training objective in training mode (dropout, label drop, drawn masks, t and noise) and its gradients. */
class MarTrainingTest {
    @Test
    void theTrainingLossReachesEveryParameter() throws Exception {
        Engine.getInstance().setRandomSeed(0);
        try (NDManager m = NDManager.newBaseManager()) {
            Mar model = MarFixture.load(m);
            model.attachGradients();
            MarDiffusion diffusion = new MarDiffusion(model);
            try (NDManager step = m.newSubManager()) {
                model.useIn(step);
                NDArray latents = step.randomNormal(new Shape(4, 16, 4, 4));
                NDArray labels = step.create(new long[] {1, 2, 3, 4});
                double value;
                try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                    // 12 of 16 tokens masked (a drawn ratio above 15/16 would mask all and leave z_proj unused)
                    long[][] orders = Mar.sampleOrders(4, 16, new Random(0));
                    NDArray loss = diffusion.trainingLoss(latents, labels, orders, 0.75, true, null, null);
                    value = loss.getFloat();
                    gc.backward(loss);
                }
                assertTrue(Double.isFinite(value) && value > 0, "loss " + value);
                int zero = 0;
                StringBuilder names = new StringBuilder();
                for (Map.Entry<String, NDArray> e : model.stateDict().entrySet()) {
                    NDArray g = e.getValue().getGradient();
                    float norm = g.abs().sum().getFloat();
                    g.close();
                    assertTrue(Float.isFinite(norm), e.getKey());
                    // fake_latent receives gradient only when a label is dropped (p = 0.1 per sample)
                    if (norm == 0 && !e.getKey().equals("fake_latent")) {
                        zero++;
                        names.append(' ').append(e.getKey());
                    }
                }
                assertEquals(0, zero, "parameters without gradient:" + names);
            }
        }
    }
}
