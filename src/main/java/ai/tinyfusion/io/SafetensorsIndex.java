package ai.tinyfusion.io;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sharded safetensors sets: the {@code *.safetensors.index.json} layout of the Hugging Face tools,
 * {@code {"metadata": {"total_size": N}, "weight_map": {tensor: shard file}}}.
 */
final class SafetensorsIndex {
    private static final Logger LOG = LoggerFactory.getLogger(SafetensorsIndex.class);
    static final String DEFAULT_INDEX = "model.safetensors.index.json";
    static final String DEFAULT_FILE = "model.safetensors";
    /**
     * Largest index accepted (16 MiB): the index of a model with a million tensors is under 100 MB
     * only if its names are absurd; real ones are kilobytes.
     */
    static final long MAX_INDEX_BYTES = 16L << 20;

    private SafetensorsIndex() {}

    /**
     * The file to read for a directory: {@code model.safetensors.index.json}, else its only
     * {@code *.safetensors.index.json}, else {@code model.safetensors}, else its only
     * {@code *.safetensors}.
     */
    static Path resolveDirectory(Path dir) throws IOException {
        if (Files.isRegularFile(dir.resolve(DEFAULT_INDEX))) {
            return dir.resolve(DEFAULT_INDEX);
        }
        List<Path> indexes = list(dir, ".safetensors.index.json");
        if (indexes.size() == 1) {
            return indexes.get(0);
        }
        if (Files.isRegularFile(dir.resolve(DEFAULT_FILE))) {
            return dir.resolve(DEFAULT_FILE);
        }
        List<Path> files = list(dir, ".safetensors");
        if (indexes.isEmpty() && files.size() == 1) {
            return files.get(0);
        }
        throw new IOException(dir + ": expected " + DEFAULT_INDEX + ", " + DEFAULT_FILE
                + " or a single safetensors file or index in the directory, found "
                + (indexes.size() + files.size() == 0
                        ? "none"
                        : indexes.size() + " indexes and " + files.size() + " files"));
    }

    private static List<Path> list(Path dir, String suffix) throws IOException {
        List<Path> out = new ArrayList<>();
        try (DirectoryStream<Path> stream =
                Files.newDirectoryStream(dir, p -> p.getFileName().toString().endsWith(suffix))) {
            stream.forEach(out::add);
        }
        return out;
    }

    /**
     * Reads every shard an index names; each weight-map entry must be in its shard and nothing else
     * may be. Shard names must be plain file names in the index's directory (no {@code ../x}, no
     * absolute paths).
     */
    static LinkedHashMap<String, HostTensor> read(Path indexFile) throws IOException {
        Map<String, String> weightMap;
        JsonObject root;
        try {
            long size = Files.size(indexFile);
            if (size > MAX_INDEX_BYTES) {
                throw new IOException("index has " + size + " bytes, more than the " + MAX_INDEX_BYTES
                        + " an index of shard names can need");
            }
            root = Json.parseObject(Files.readAllBytes(indexFile), "index");
            weightMap = new LinkedHashMap<>();
            for (Map.Entry<String, JsonElement> e :
                    Json.requireObject(root.get("weight_map"), "weight_map").entrySet()) {
                weightMap.put(e.getKey(), Json.requireString(e.getValue(), "weight_map entry '" + e.getKey() + "'"));
            }
            if (weightMap.isEmpty()) {
                throw new IOException("weight_map names no tensors");
            }
        } catch (IOException e) {
            throw new IOException(indexFile + ": " + e.getMessage(), e);
        }
        Path dir = indexFile.toAbsolutePath().getParent();
        Map<String, Map<String, HostTensor>> shards = new LinkedHashMap<>();
        for (String shard : weightMap.values()) {
            if (!shards.containsKey(shard)) {
                shards.put(shard, Safetensors.readFile(shardPath(dir, shard, indexFile)));
            }
        }
        LinkedHashMap<String, HostTensor> out = new LinkedHashMap<>();
        long totalBytes = 0;
        for (Map.Entry<String, String> e : weightMap.entrySet()) {
            HostTensor t = shards.get(e.getValue()).get(e.getKey());
            if (t == null) {
                throw new IOException(indexFile + ": tensor '" + e.getKey() + "' is not in shard " + e.getValue());
            }
            out.put(e.getKey(), t);
            totalBytes += t.byteSize();
        }
        for (Map.Entry<String, Map<String, HostTensor>> shard : shards.entrySet()) {
            for (String name : shard.getValue().keySet()) {
                if (!shard.getKey().equals(weightMap.get(name))) {
                    throw new IOException(indexFile + ": shard " + shard.getKey() + " holds tensor '" + name
                            + "' that the weight_map does not assign to it");
                }
            }
        }
        checkTotalSize(root, totalBytes, indexFile);
        LOG.debug("read {} tensors from {} shards of {}", out.size(), shards.size(), indexFile);
        return out;
    }

    private static Path shardPath(Path dir, String shard, Path indexFile) throws IOException {
        boolean plainName = !shard.isEmpty()
                && !shard.equals(".")
                && !shard.equals("..")
                && shard.indexOf('/') < 0
                && shard.indexOf('\\') < 0
                && shard.indexOf('\0') < 0;
        Path p = null;
        if (plainName) {
            try {
                p = dir.resolve(shard).normalize();
            } catch (java.nio.file.InvalidPathException e) {
                plainName = false;
            }
        }
        if (!plainName || p.getParent() == null || !p.getParent().equals(dir.normalize())) {
            throw new IOException(
                    indexFile + ": shard name '" + shard + "' must be a file name in the index's directory");
        }
        if (!Files.isRegularFile(p)) {
            throw new IOException(indexFile + ": shard " + shard + " is missing");
        }
        return p;
    }

    private static void checkTotalSize(JsonObject root, long totalBytes, Path indexFile) {
        JsonElement meta = root.get("metadata");
        if (meta != null && meta.isJsonObject() && meta.getAsJsonObject().has("total_size")) {
            try {
                long declared = Json.requireLong(meta.getAsJsonObject().get("total_size"), "total_size");
                if (declared != totalBytes) {
                    LOG.warn(
                            "{}: metadata.total_size is {} but the tensors hold {} bytes",
                            indexFile,
                            declared,
                            totalBytes);
                }
            } catch (IOException e) {
                LOG.warn("{}: ignoring metadata.total_size: {}", indexFile, e.getMessage());
            }
        }
    }

    static Path writeSharded(
            Path dir,
            String baseName,
            Map<String, HostTensor> tensors,
            Map<String, String> metadata,
            long maxShardBytes)
            throws IOException {
        if (maxShardBytes <= 0) {
            throw new IllegalArgumentException("maxShardBytes must be positive, got " + maxShardBytes);
        }
        if (baseName.isEmpty() || baseName.contains("/") || baseName.contains("\\")) {
            throw new IllegalArgumentException("baseName must be a plain file name, got '" + baseName + "'");
        }
        List<Map<String, HostTensor>> shards = partition(tensors, maxShardBytes);
        Files.createDirectories(dir);
        Map<String, String> weightMap = new LinkedHashMap<>();
        long totalBytes = 0;
        for (int i = 0; i < shards.size(); i++) {
            String name = String.format("%s-%05d-of-%05d.safetensors", baseName, i + 1, shards.size());
            Safetensors.write(dir.resolve(name), shards.get(i), metadata);
            for (Map.Entry<String, HostTensor> e : shards.get(i).entrySet()) {
                weightMap.put(e.getKey(), name);
                totalBytes += e.getValue().byteSize();
            }
        }
        JsonObject index = new JsonObject();
        JsonObject meta = new JsonObject();
        meta.addProperty("total_size", totalBytes);
        index.add("metadata", meta);
        JsonObject map = new JsonObject();
        weightMap.forEach(map::addProperty);
        index.add("weight_map", map);
        byte[] json = (Json.PRETTY.toJson(index) + "\n").getBytes(StandardCharsets.UTF_8);
        Path indexFile = dir.resolve(baseName + ".safetensors.index.json");
        AtomicFiles.write(indexFile, channel -> AtomicFiles.writeFully(channel, ByteBuffer.wrap(json)));
        LOG.info("wrote {} tensors ({} bytes) in {} shards to {}", tensors.size(), totalBytes, shards.size(), dir);
        return indexFile;
    }

    /** Greedy split in iteration order; a new shard starts when the next tensor would overflow the current one. */
    static List<Map<String, HostTensor>> partition(Map<String, HostTensor> tensors, long maxShardBytes) {
        List<Map<String, HostTensor>> shards = new ArrayList<>();
        Map<String, HostTensor> current = new LinkedHashMap<>();
        long currentBytes = 0;
        for (Map.Entry<String, HostTensor> e : tensors.entrySet()) {
            long size = e.getValue().byteSize();
            if (!current.isEmpty() && currentBytes + size > maxShardBytes) {
                shards.add(current);
                current = new LinkedHashMap<>();
                currentBytes = 0;
            }
            current.put(e.getKey(), e.getValue());
            currentBytes += size;
        }
        shards.add(current);
        return shards;
    }
}
