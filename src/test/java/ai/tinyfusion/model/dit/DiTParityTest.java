package ai.tinyfusion.model.dit;

import static ai.tinyfusion.Reference.assertClose;
import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.tinyfusion.Fixtures;
import ai.tinyfusion.io.TorchCheckpoint;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The DiT forward passes against the original PyTorch implementation's recorded outputs. */
class DiTParityTest extends ai.tinyfusion.ReferenceTestBase {

    @Test
    void configIsInferredFromTheOfficialCheckpoint() {
        assertEquals(new DiTConfig(8, 2, 4, 64, 4, 4, 4.0, 10, true, 0.1), model.config());
    }

    @Test
    void stateDictKeysAreTheOriginalOnesInOrder() throws Exception {
        var original = TorchCheckpoint.read(Fixtures.reference("dit_small.pt"));
        assertEquals(
                new ArrayList<>(original.keySet()),
                new ArrayList<>(model.stateDict().keySet()));
    }

    @Test
    void forwardMatchesReference() {
        NDArray out = model.forward(io.get("fwd_x"), io.get("fwd_t"), io.get("fwd_y"));
        assertClose("forward", io.get("fwd_out"), out, 1e-4, 1e-4);
    }

    @Test
    void forwardWithCfgMatchesReference() {
        NDArray out = model.forwardWithCfg(
                io.get("cfg_x"),
                io.get("cfg_t"),
                io.get("cfg_y"),
                io.get("cfg_scale").getFloat(),
                3);
        assertClose("forward_with_cfg", io.get("cfg_out"), out, 1e-4, 1e-4);
    }

    @Test
    void cfgOnAllChannelsGuidesEveryEpsChannel() {
        NDArray x = io.get("cfg_x");
        NDArray all = model.forwardWithCfg(x, io.get("cfg_t"), io.get("cfg_y"), 4.0, 4);
        NDArray three = model.forwardWithCfg(x, io.get("cfg_t"), io.get("cfg_y"), 4.0, 3);
        // Channel 3 differs (guided vs not), channels 0-2 and the variance channels agree.
        assertClose("guided channels", three.get(":, 0:3"), all.get(":, 0:3"), 1e-6, 0);
        assertClose("variance channels", three.get(":, 4:"), all.get(":, 4:"), 1e-6, 0);
        double diff = three.get(":, 3").sub(all.get(":, 3")).abs().max().getFloat();
        org.junit.jupiter.api.Assertions.assertTrue(diff > 1e-4, "channel 3 must change when guided, diff " + diff);
    }

    @Test
    void safetensorsRoundTripKeepsOutputsBitExact(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("dit_small.safetensors");
        ModelFiles.save(model, file, Map.of());
        try (NDManager m2 = NDManager.newBaseManager()) {
            DiT again = ModelFiles.load(file, m2, null);
            assertEquals(model.config(), again.config());
            NDArray a = model.forward(io.get("fwd_x"), io.get("fwd_t"), io.get("fwd_y"));
            NDArray b = again.forward(io.get("fwd_x").duplicate(), io.get("fwd_t"), io.get("fwd_y"));
            assertClose("reloaded forward", a, b, 0, 0);
        }
    }

    @Test
    void capturedHiddenStatesAndIdentityGate() {
        DiT.Options o = new DiT.Options().capture(1, 3);
        NDArray out = model.forward(io.get("fwd_x"), io.get("fwd_t"), io.get("fwd_y"), o);
        assertEquals(2, o.hidden.size());
        assertEquals(new ai.djl.ndarray.types.Shape(4, 16, 64), o.hidden.get(0).getShape());
        // A gate of all ones is the plain model; masking every block leaves the embedded input.
        NDArray ones = m.ones(new ai.djl.ndarray.types.Shape(4));
        NDArray gated =
                model.forward(io.get("fwd_x"), io.get("fwd_t"), io.get("fwd_y"), new DiT.Options().gate(i -> ones));
        assertClose("all-ones gate", out, gated, 1e-6, 0);
        NDArray zeros = m.zeros(new ai.djl.ndarray.types.Shape(4));
        DiT.Options z = new DiT.Options().gate(i -> zeros).capture(0, 3);
        model.forward(io.get("fwd_x"), io.get("fwd_t"), io.get("fwd_y"), z);
        assertClose("masked blocks are identities", z.hidden.get(0), z.hidden.get(1), 0, 0);
    }
}
