package ai.tinyfusion.model.dit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.jni.JniUtils;
import ai.tinyfusion.OneThread;
import ai.tinyfusion.nn.Functional;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The inference forward pass frees each block's activations before the next block runs, so the arrays
 * alive between blocks do not grow with depth; the in-place inference arithmetic gives the autograd
 * path's values.
 */
@ExtendWith(OneThread.class)
class ForwardMemoryTest {
    // Small DiT with a real token count: 16x16 latent, patch 2 (T = 64), width 64, 8 blocks.
    private static final DiTConfig CONFIG = new DiTConfig(16, 2, 4, 64, 8, 4, 4.0, 10, true, 0.1);
    private static final int N = 4;

    /** Bytes of every array alive in {@code m} and its sub-managers. */
    private static long liveBytes(NDManager m) {
        return ((ai.djl.ndarray.BaseNDManager) m)
                .getManagedArrays().stream()
                        .filter(a -> !a.isReleased())
                        .mapToLong(a -> a.getShape().size() * a.getDataType().getNumOfBytes())
                        .sum();
    }

    @Test
    void liveArraysBetweenBlocksDoNotGrowWithDepth() {
        Engine.getInstance().setRandomSeed(3);
        try (NDManager model = NDManager.newBaseManager();
                NDManager work = NDManager.newBaseManager()) {
            DiT dit = workingModel(model);
            NDArray x = work.randomNormal(new Shape(N, 4, 16, 16));
            NDArray t = work.create(new float[] {1, 200, 500, 999});
            NDArray y = work.create(new long[] {0, 3, 7, 10});
            List<Long> live = new ArrayList<>();
            DiT.Options o = new DiT.Options().gate(layer -> {
                live.add(liveBytes(work));
                return null;
            });
            assertTrue(Functional.gradOff(), "tests run with autograd off by default");
            NDArray out = dit.forward(x, t, y, o);
            assertEquals(new Shape(N, 8, 16, 16), out.getShape());
            long hidden = (long) N * CONFIG.numPatches() * CONFIG.hiddenSize() * 4;
            long growth = live.get(live.size() - 1) - live.get(1);
            // Unscoped, every block leaves its attention, MLP and modulation intermediates behind
            // (about 20 hidden-state sizes per block here); scoped, only the current hidden state lives.
            assertTrue(growth <= hidden / 2, "live bytes grew by " + growth + " over the blocks: " + live);
            assertTrue(
                    live.stream().mapToLong(Long::longValue).max().orElseThrow() <= 6 * hidden,
                    "live bytes between blocks " + live + " exceed 6 hidden states (" + hidden + ")");
        }
    }

    @Test
    void inPlaceInferenceMatchesTheAutogradPath() {
        Engine.getInstance().setRandomSeed(5);
        try (NDManager model = NDManager.newBaseManager();
                NDManager work = NDManager.newBaseManager()) {
            DiT dit = workingModel(model);
            NDArray x = work.randomNormal(new Shape(N, 4, 16, 16));
            NDArray t = work.create(new float[] {3, 100, 640, 998});
            NDArray y = work.create(new long[] {1, 2, 10, 9});
            NDArray inference = dit.forward(x, t, y);
            NDArray recorded;
            JniUtils.setGradMode(true);
            try {
                assertTrue(!Functional.gradOff());
                recorded = dit.forward(x, t, y);
            } finally {
                JniUtils.setGradMode(false);
            }
            double diff = inference.sub(recorded).abs().max().getFloat();
            double scale = recorded.abs().max().getFloat();
            assertTrue(scale > 0.1, "outputs must be non-trivial, max " + scale);
            assertTrue(diff <= 1e-5 * Math.max(1, scale), "in-place path differs by " + diff);
        }
    }

    @Test
    void inPlaceGeluAndModulationEqualTheFunctionalOnes() {
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray v = m.linspace(-8f, 8f, 4001).reshape(1, 1, 4001);
            NDArray expected = Functional.geluTanh(v);
            NDArray got = Functional.geluTanhInPlace(v.duplicate());
            assertTrue(expected.sub(got).abs().max().getFloat() < 2e-6, "gelu");
            NDArray h = m.randomNormal(new Shape(2, 3, 5));
            NDArray shift = m.randomNormal(new Shape(2, 5));
            NDArray scale = m.randomNormal(new Shape(2, 5));
            NDArray mod = Functional.modulate(h, shift, scale);
            NDArray modIn = Functional.modulateInPlace(h.duplicate(), shift, scale);
            assertEquals(0f, mod.sub(modIn).abs().max().getFloat(), 1e-6f);
            assertEquals(DataType.FLOAT32, modIn.getDataType());
        }
    }

    /**
     * The test DiT with its zero-initialised weights randomised: adaLN-Zero starts every block at the identity,
     * which would hide the blocks' work.
     */
    private static DiT workingModel(NDManager m) {
        DiT dit = new DiT(m, CONFIG);
        dit.namedParameters().forEach((k, p) -> {
            if (k.contains("adaLN") || k.startsWith("final_layer.linear")) {
                p.overwrite(m.randomNormal(0f, 0.05f, p.value().getShape(), DataType.FLOAT32));
            }
        });
        return dit;
    }
}
