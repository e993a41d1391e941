package ai.tinyfusion.diffusion;

import static ai.tinyfusion.diffusion.TestSupport.assertClose;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.training.GradientCollector;
import ai.tinyfusion.nn.Scalars;
import org.junit.jupiter.api.Test;

/**
 * Differentiability of the training loss (including the detached mean inside the VB term) and the use of the
 * engine's random generator.
 */
class GradientAndRandomnessTest {
    private static final long[] T = {0, 1, 500, 999};

    /** Mean channels a x + 0.001 t + 0.05 y, variance channels b tanh(x). */
    private static DenoiserFn model(NDArray a, NDArray b) {
        return (x, t, y) -> {
            long n = x.getShape().get(0);
            NDArray tt = t.toType(x.getDataType(), false).reshape(n, 1, 1, 1);
            NDArray yy = y.toType(x.getDataType(), false).reshape(n, 1, 1, 1);
            NDArray mean = x.mul(a).add(Scalars.mul(tt, 0.001)).add(Scalars.mul(yy, 0.05));
            return mean.concat(x.tanh().mul(b), 1);
        };
    }

    private static double[] lossSums(NDManager m, double a, double b) {
        try (NDManager scope = m.newSubManager()) {
            NDArray pa = Scalars.of(scope, a, DataType.FLOAT32);
            NDArray pb = Scalars.of(scope, b, DataType.FLOAT32);
            TrainingLosses l = DiffusionFactory.create("")
                    .trainingLosses(
                            model(pa, pb),
                            TestSupport.x0(scope, DataType.FLOAT32),
                            TestSupport.longs(scope, T),
                            TestSupport.labels(scope),
                            TestSupport.noise(scope, DataType.FLOAT32));
            return new double[] {l.mse().sum().getFloat(), l.vb().sum().getFloat()};
        }
    }

    @Test
    void trainingLossGradientsMatchFiniteDifferences() {
        double a0 = 0.3;
        double b0 = 0.8;
        try (NDManager m = NDManager.newBaseManager()) {
            double[] first = null;
            for (int rep = 0; rep < 3; rep++) {
                try (NDManager scope = m.newSubManager()) {
                    NDArray a = Scalars.of(scope, a0, DataType.FLOAT32);
                    NDArray b = Scalars.of(scope, b0, DataType.FLOAT32);
                    a.setRequiresGradient(true);
                    b.setRequiresGradient(true);
                    try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                        TrainingLosses l = DiffusionFactory.create("")
                                .trainingLosses(
                                        model(a, b),
                                        TestSupport.x0(scope, DataType.FLOAT32),
                                        TestSupport.longs(scope, T),
                                        TestSupport.labels(scope),
                                        TestSupport.noise(scope, DataType.FLOAT32));
                        NDArray total = l.loss().sum();
                        // Collect garbage between forward and backward: anything autograd kept that lived in
                        // Java-owned memory would now be corrupt.
                        churnAndCollect();
                        gc.backward(total);
                    }
                    double[] grads = {
                        a.getGradient().getFloat(), b.getGradient().getFloat()
                    };
                    if (first == null) {
                        first = grads;
                    } else {
                        assertArrayEquals(first, grads, 0.0, "gradients differ between identical runs");
                    }
                }
            }

            double h = 1e-2;
            double[] aPlus = lossSums(m, a0 + h, b0);
            double[] aMinus = lossSums(m, a0 - h, b0);
            double[] bPlus = lossSums(m, a0, b0 + h);
            double[] bMinus = lossSums(m, a0, b0 - h);
            double dMseDa = (aPlus[0] - aMinus[0]) / (2 * h);
            double dVbDa = (aPlus[1] - aMinus[1]) / (2 * h);
            double dVbDb = (bPlus[1] - bMinus[1]) / (2 * h);
            double dMseDb = (bPlus[0] - bMinus[0]) / (2 * h);
            assertEquals(0.0, dMseDb, 1e-4, "mse does not depend on the variance channels");
            // The VB term does depend on the mean channels, but the loss must not pass that on (detached mean).
            assertTrue(Math.abs(dVbDa) > 1e-2, "test needs vb to depend on the mean channels: " + dVbDa);
            assertClose(dMseDa, first[0], 2e-3, 1e-4, "d loss / d a = d mse / d a");
            assertClose(dVbDb, first[1], 2e-3, 1e-4, "d loss / d b = d vb / d b");
        }
    }

    private static void churnAndCollect() {
        for (int i = 0; i < 3; i++) {
            byte[][] junk = new byte[64][];
            for (int k = 0; k < junk.length; k++) {
                junk[k] = new byte[1 << 16];
            }
            System.gc();
        }
    }

    @Test
    void noiseComesFromTheSeededGenerator() {
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray y = TestSupport.labels(m);
            SpacedDiffusion d = DiffusionFactory.create("ddim10");

            Engine.getInstance().setRandomSeed(1234);
            NDArray drawn = d.ddimSampleLoop(
                    TestSupport.toy(true),
                    m,
                    TestSupport.SHAPE,
                    y,
                    SamplingOptions.defaults().clipDenoised(false));
            Engine.getInstance().setRandomSeed(1234);
            NDArray z = m.randomNormal(TestSupport.SHAPE);
            NDArray given = d.ddimSampleLoop(
                    TestSupport.toy(true),
                    m,
                    TestSupport.SHAPE,
                    y,
                    SamplingOptions.defaults().initialNoise(z).clipDenoised(false));
            assertArrayEquals(given.toFloatArray(), drawn.toFloatArray(), 0f);

            // Ancestral sampling: same seed, same samples; another seed, other samples.
            SpacedDiffusion ten = DiffusionFactory.create("10");
            Engine.getInstance().setRandomSeed(7);
            float[] s1 = ten.pSampleLoop(TestSupport.toy(true), m, TestSupport.SHAPE, y, SamplingOptions.defaults())
                    .toFloatArray();
            Engine.getInstance().setRandomSeed(7);
            float[] s2 = ten.pSampleLoop(TestSupport.toy(true), m, TestSupport.SHAPE, y, SamplingOptions.defaults())
                    .toFloatArray();
            Engine.getInstance().setRandomSeed(8);
            float[] s3 = ten.pSampleLoop(TestSupport.toy(true), m, TestSupport.SHAPE, y, SamplingOptions.defaults())
                    .toFloatArray();
            assertArrayEquals(s1, s2, 0f);
            assertTrue(!java.util.Arrays.equals(s1, s3));

            // Training noise: omitted noise is a standard normal draw from x_0's manager.
            SpacedDiffusion train = DiffusionFactory.create("");
            NDArray x0 = TestSupport.x0(m, DataType.FLOAT32);
            NDArray t = TestSupport.longs(m, T);
            Engine.getInstance().setRandomSeed(99);
            float[] implicit = train.trainingLosses(TestSupport.toy(true), x0, t, y, null)
                    .loss()
                    .toFloatArray();
            Engine.getInstance().setRandomSeed(99);
            NDArray noise = m.randomNormal(x0.getShape());
            float[] explicit = train.trainingLosses(TestSupport.toy(true), x0, t, y, noise)
                    .loss()
                    .toFloatArray();
            assertArrayEquals(explicit, implicit, 0f);
        }
    }
}
