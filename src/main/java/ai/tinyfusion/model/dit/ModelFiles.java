package ai.tinyfusion.model.dit;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.tinyfusion.io.HostTensor;
import ai.tinyfusion.io.Safetensors;
import ai.tinyfusion.io.StateDicts;
import ai.tinyfusion.nn.LoadReport;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Loading and saving whole DiT models. Our safetensors files carry the config as JSON in the
 * header metadata ({@code "dit_config"}); official {@code .pt} checkpoints carry none, so the config
 * is inferred from the tensor shapes (heads from the original presets unless given).
 */
public final class ModelFiles {
    private ModelFiles() {}

    public static final String CONFIG_KEY = "dit_config";

    /** A loaded state dict with the config it implies. */
    public record Loaded(DiTConfig config, LinkedHashMap<String, HostTensor> tensors, Map<String, String> metadata) {}

    /**
     * Reads a checkpoint and works out its config.
     *
     * @param heads attention heads for checkpoints without a stored config (null: by width)
     */
    public static Loaded read(Path path, Integer heads) throws IOException {
        if (!Files.exists(path)) {
            throw new IOException("model file not found: " + path);
        }
        LinkedHashMap<String, HostTensor> tensors = StateDicts.load(path);
        Map<String, String> meta = StateDicts.metadata(path);
        DiTConfig config;
        if (meta.containsKey(CONFIG_KEY)) {
            try {
                config = DiTConfig.fromJson(meta.get(CONFIG_KEY));
            } catch (IllegalArgumentException e) {
                throw new IOException(path + ": stored config '" + CONFIG_KEY + "': " + e.getMessage(), e);
            }
        } else {
            Map<String, long[]> shapes = new LinkedHashMap<>();
            tensors.forEach((k, v) -> shapes.put(k, v.shape()));
            try {
                config = ConfigInference.infer(shapes, heads);
            } catch (IllegalArgumentException e) {
                throw new IOException(path + ": " + e.getMessage(), e);
            }
        }
        return new Loaded(config, tensors, meta);
    }

    /** Loads a model strictly: any missing, unexpected or mis-shaped key fails with the list of them. */
    public static DiT load(Path path, NDManager manager, Integer heads) throws IOException {
        return load(read(path, heads), manager, path.toString());
    }

    /** Builds a model from already-read tensors (strict). */
    public static DiT load(Loaded loaded, NDManager manager, String origin) throws IOException {
        DiT model = new DiT(manager, loaded.config(), false);
        try (NDManager tmp = manager.newSubManager()) {
            LinkedHashMap<String, NDArray> arrays = new LinkedHashMap<>();
            loaded.tensors().forEach((k, v) -> arrays.put(k, v.toNDArray(tmp)));
            LoadReport report = model.loadStateDict(arrays, false);
            if (!report.isClean()) {
                throw new IOException(origin + " does not match " + loaded.config() + ":\n" + report.describe());
            }
        }
        return model;
    }

    /** Writes a model as safetensors with its config in the metadata (atomically). */
    public static void save(DiT model, Path path, Map<String, String> extraMetadata) throws IOException {
        save(model.stateDict(), model.config(), path, extraMetadata);
    }

    /** Writes any state dict of a DiT config (e.g. EMA weights) as safetensors. */
    public static void save(
            Map<String, NDArray> stateDict, DiTConfig config, Path path, Map<String, String> extraMetadata)
            throws IOException {
        LinkedHashMap<String, HostTensor> tensors = new LinkedHashMap<>();
        stateDict.forEach((k, v) -> tensors.put(k, HostTensor.fromNDArray(v)));
        Map<String, String> meta = new LinkedHashMap<>(extraMetadata);
        meta.put(CONFIG_KEY, config.toJson());
        meta.put("format", "pt");
        if (path.getParent() != null) {
            Files.createDirectories(path.getParent());
        }
        Safetensors.write(path, tensors, meta);
    }
}
