package ai.tinyfusion.model.dit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.tinyfusion.io.HostTensor;
import ai.tinyfusion.io.Safetensors;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Regression tests for issue #21: a damaged stored or inferred config fails as an IOException
 * naming the file, the config and what is wrong, not as a Gson exception, a bare RuntimeException,
 * a NullPointerException or a division by zero.
 */
class ModelFilesHostileTest {
    @TempDir
    Path tmp;

    private Path withStoredConfig(String name, String json) throws IOException {
        Path file = tmp.resolve(name);
        Map<String, HostTensor> tensors = Map.of("w", HostTensor.ofFloats(new float[] {1}, 1));
        Safetensors.write(file, tensors, Map.of(ModelFiles.CONFIG_KEY, json));
        return file;
    }

    private static void assertFails(Path file, String... parts) {
        IOException e = assertThrows(IOException.class, () -> ModelFiles.read(file, null));
        assertTrue(e.getMessage().startsWith(file + ": stored config 'dit_config': "), e.getMessage());
        for (String part : parts) {
            assertTrue(e.getMessage().contains(part), "missing '" + part + "' in: " + e.getMessage());
        }
    }

    private static String presetJsonWith(String field, String value) {
        String json = DiTConfig.preset("DiT-S/2").toJson();
        String replaced = json.replaceFirst("\"" + field + "\": [^,\\n]+", "\"" + field + "\": " + value);
        assertTrue(!replaced.equals(json), "no field " + field + " in " + json);
        return replaced;
    }

    @Test
    void storedConfigWithZeroPatchSize() throws IOException {
        Path file = withStoredConfig("patch0.safetensors", presetJsonWith("patchSize", "0"));
        assertFails(file, "input_size 32 must be a positive multiple of patch_size 0");
    }

    @Test
    void storedConfigThatIsMalformedJson() throws IOException {
        assertFails(withStoredConfig("malformed.safetensors", "{\"inputSize\": 32,"), "invalid DiT config JSON");
        assertFails(
                withStoredConfig("wrongtype.safetensors", presetJsonWith("depth", "\"deep\"")),
                "invalid DiT config JSON");
        assertFails(withStoredConfig("array.safetensors", "[1, 2]"), "invalid DiT config JSON");
    }

    @Test
    void storedConfigThatIsNull() throws IOException {
        assertFails(withStoredConfig("null.safetensors", "null"), "empty or null, not an object");
        assertFails(withStoredConfig("empty.safetensors", ""), "empty or null, not an object");
    }

    @Test
    void validStoredConfigStillLoads() throws IOException {
        DiTConfig config = DiTConfig.preset("DiT-S/2");
        Path file = withStoredConfig("ok.safetensors", config.toJson());
        assertEquals(config, ModelFiles.read(file, null).config());
    }

    /** The five tensors config inference reads, with the patch embedding's shape given. */
    private Path inferable(String name, long[] proj) throws IOException {
        Map<String, HostTensor> tensors = new LinkedHashMap<>();
        tensors.put("x_embedder.proj.weight", zeros(proj));
        tensors.put("pos_embed", zeros(1, 4, 8));
        tensors.put("y_embedder.embedding_table.weight", zeros(11, 8));
        tensors.put("blocks.0.mlp.fc1.weight", zeros(32, 8));
        tensors.put("final_layer.linear.weight", zeros(32, 8));
        Path file = tmp.resolve(name);
        Safetensors.write(file, tensors, Map.of());
        return file;
    }

    private static HostTensor zeros(long... shape) {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        return HostTensor.of(ai.tinyfusion.io.DType.F32, shape, ByteBuffer.allocate((int) n * 4));
    }

    @Test
    void inferredConfigWithZeroPatchSize() throws IOException {
        Path file = inferable("patch0.safetensors", new long[] {8, 4, 0, 0});
        IOException e = assertThrows(IOException.class, () -> ModelFiles.read(file, null));
        assertEquals(file + ": x_embedder.proj.weight patch size is 0, not a positive int", e.getMessage());
    }

    @Test
    void inferredConfigStillWorks() throws IOException {
        DiTConfig config = ModelFiles.read(inferable("ok.safetensors", new long[] {8, 4, 2, 2}), null)
                .config();
        assertEquals(2, config.patchSize());
        assertEquals(4, config.inputSize());
    }
}
