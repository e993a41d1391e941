package ai.tinyfusion.model.inception;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.tinyfusion.io.HostTensor;
import ai.tinyfusion.io.Safetensors;
import ai.tinyfusion.io.TorchCheckpoint;
import ai.tinyfusion.nn.Parameter;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Loading pytorch-fid's weights layout through the safe loaders: a {@code torch.save} file of the
 * full state dict as pytorch-fid's model has it (real keys and shapes, {@code num_batches_tracked}
 * included; every tensor a stride-0 view of a small storage holding its 1-based key index), a
 * broken variant, and safetensors copies.
 */
class FidInceptionV3LoadTest {
    private static NDManager m;

    @BeforeAll
    static void setUp() {
        m = NDManager.newBaseManager();
    }

    @AfterAll
    static void tearDown() {
        m.close();
    }

    @Test
    void torchSavedLayoutLoadsWithEveryKeyInOrder() throws Exception {
        Path file = FidInceptionRecipe.dir().resolve("fid_inception-layout.pt");
        LinkedHashMap<String, HostTensor> raw = TorchCheckpoint.read(file);
        assertEquals(566, raw.size(), "state-dict entries of pytorch-fid's model");
        List<String> fileKeys = new ArrayList<>(raw.keySet());
        List<String> expectedOrder = new ArrayList<>(fileKeys);
        expectedOrder.removeIf(k -> k.endsWith(".num_batches_tracked"));
        assertEquals(472, expectedOrder.size());

        try (NDManager scope = m.newSubManager()) {
            FidInceptionV3 net = FidInceptionV3.load(file, scope);
            Map<String, Parameter> params = net.namedParameters();
            assertEquals(expectedOrder, new ArrayList<>(params.keySet()), "keys and their order");
            assertEquals(23_885_392L, net.parameterCount());
            for (Map.Entry<String, Parameter> e : params.entrySet()) {
                float index = fileKeys.indexOf(e.getKey()) + 1;
                NDArray v = e.getValue().value();
                assertEquals(index, v.min().getFloat(), e.getKey());
                assertEquals(index, v.max().getFloat(), e.getKey());
                assertArrayEquals(raw.get(e.getKey()).shape(), v.getShape().getShape(), e.getKey());
            }
            assertEquals(new Shape(1008, 2048), params.get("fc.weight").value().getShape());
            assertEquals(
                    new Shape(192, 768, 1, 1),
                    params.get("Mixed_6d.branch1x1.conv.weight").value().getShape());
            assertEquals(
                    new Shape(160, 160, 1, 7),
                    params.get("Mixed_6d.branch7x7_2.conv.weight").value().getShape());
            assertEquals(
                    new Shape(192, 160, 7, 1),
                    params.get("Mixed_6d.branch7x7_3.conv.weight").value().getShape());
        }
    }

    @Test
    void brokenTorchFileIsRejectedNamingTheKeys() {
        Path file = FidInceptionRecipe.dir().resolve("fid_inception-layout-bad.pt");
        IOException e = assertThrows(IOException.class, () -> FidInceptionV3.load(file, m));
        String msg = e.getMessage();
        assertTrue(msg.contains(file.toString()), msg);
        assertTrue(msg.contains("missing keys (1)") && msg.contains("Mixed_6d.branch1x1.bn.running_var"), msg);
        assertTrue(msg.contains("shape mismatches (1)") && msg.contains("fc.weight: checkpoint (1000, 2048)"), msg);
    }

    @Test
    void safetensorsCopyLoadsAndDefectsAreRejected(@TempDir Path dir) throws Exception {
        LinkedHashMap<String, HostTensor> tensors;
        try (NDManager scope = m.newSubManager()) {
            tensors = FidInceptionRecipe.stateDict(new FidInceptionV3(scope));
        }
        Path good = dir.resolve("fid.safetensors");
        Safetensors.write(good, tensors, Map.of());
        try (NDManager scope = m.newSubManager()) {
            FidInceptionV3 net = FidInceptionV3.load(good, scope);
            String key = "Mixed_7c.branch3x3dbl_3b.conv.weight";
            assertArrayEquals(
                    tensors.get(key).toFloatArray(),
                    net.namedParameters().get(key).value().toFloatArray());
        }

        // One file with three defects: an extra key (torchvision's aux head), a missing one, a transposed kernel.
        LinkedHashMap<String, HostTensor> broken = new LinkedHashMap<>(tensors);
        broken.put("AuxLogits.fc.weight", HostTensor.ofFloats(new float[1000 * 768], 1000, 768));
        broken.remove("Conv2d_1a_3x3.conv.weight");
        broken.put("Mixed_6b.branch7x7_2.conv.weight", HostTensor.ofFloats(new float[128 * 128 * 7], 128, 128, 7, 1));
        Path bad = dir.resolve("broken.safetensors");
        Safetensors.write(bad, broken, Map.of());
        IOException e = assertThrows(IOException.class, () -> FidInceptionV3.load(bad, m));
        for (String f : new String[] {
            "unexpected keys (1)",
            "AuxLogits.fc.weight",
            "missing keys (1)",
            "Conv2d_1a_3x3.conv.weight",
            "shape mismatches (1)",
            "Mixed_6b.branch7x7_2.conv.weight: checkpoint (128, 128, 7, 1) vs model (128, 128, 1, 7)"
        }) {
            assertTrue(e.getMessage().contains(f), "message lacks '" + f + "':\n" + e.getMessage());
        }
    }

    @Test
    void inputsOfTheWrongLayoutAreRejected() {
        try (NDManager scope = m.newSubManager()) {
            NDArray nchwBytes = scope.zeros(new Shape(1, 3, 8, 8), DataType.UINT8);
            IllegalArgumentException e =
                    assertThrows(IllegalArgumentException.class, () -> FidInceptionV3.preprocess(nchwBytes));
            assertTrue(e.getMessage().contains("uint8 (N, H, W, 3)"), e.getMessage());
            NDArray gray = scope.zeros(new Shape(1, 1, 8, 8), DataType.FLOAT32);
            assertThrows(IllegalArgumentException.class, () -> FidInceptionV3.preprocess(gray));
        }
    }

    @Test
    void preprocessingScalesToMinusOneOneAndResizesTo299() {
        try (NDManager scope = m.newSubManager()) {
            NDArray white = scope.full(new Shape(2, 5, 7, 3), 255, DataType.UINT8);
            NDArray x = FidInceptionV3.preprocess(white);
            assertEquals(new Shape(2, 3, 299, 299), x.getShape());
            assertEquals(1f, x.min().getFloat());
            assertEquals(1f, x.max().getFloat());
            NDArray black = scope.zeros(new Shape(1, 3, 299, 299), DataType.FLOAT64);
            assertEquals(-1f, FidInceptionV3.preprocess(black).max().getFloat());
        }
    }

    @Test
    void averagePoolDoesNotCountThePadding() {
        try (NDManager scope = m.newSubManager()) {
            NDArray ones = scope.ones(new Shape(2, 3, 5, 4), DataType.FLOAT32);
            NDArray pooled = InceptionBlocks.avgPool3ExcludePad(ones);
            assertEquals(new Shape(2, 3, 5, 4), pooled.getShape());
            assertEquals(1f, pooled.min().getFloat(), 1e-7f);
            assertEquals(1f, pooled.max().getFloat(), 1e-7f);
            // Corner of [[1, 2], [3, 4]]: the window holds 1, 2, 3, 4 → 10 / 4, not 10 / 9.
            NDArray x = scope.create(new float[] {1, 2, 3, 4}, new Shape(1, 1, 2, 2));
            assertArrayEquals(
                    new float[] {2.5f, 2.5f, 2.5f, 2.5f},
                    InceptionBlocks.avgPool3ExcludePad(x).toFloatArray());
        }
    }
}
