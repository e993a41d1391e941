package ai.tinyfusion.io;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

/**
 * Loads a model's state dict from whatever format it comes in, and saves state dicts as
 * safetensors.
 *
 * <p>The format is decided by content, not only by name:
 * <ul>
 *   <li>a directory or a {@code *.index.json} file: a (sharded) safetensors set;</li>
 *   <li>a zip holding {@code <name>/data.pkl}: a {@code torch.save} checkpoint ({@code .pt},
 *       {@code .pth}, {@code .bin}), state dict chosen as by {@link TorchCheckpoint#AUTO};</li>
 *   <li>any other zip: a NumPy {@code .npz} archive;</li>
 *   <li>a file starting with a pickle protocol byte: a legacy {@code torch.save} file (refused
 *       with advice to re-save it);</li>
 *   <li>otherwise, an 8-byte length followed by {@code '{'}: a safetensors file.</li>
 * </ul>
 */
public final class StateDicts {
    private StateDicts() {}

    /**
     * The tensors of a checkpoint, in file order.
     *
     * @throws IOException naming the file if it is missing, of an unknown format, or unreadable
     */
    public static LinkedHashMap<String, HostTensor> load(Path path) throws IOException {
        if (!Files.exists(path)) {
            throw new NoSuchFileException(path.toString(), null, "checkpoint not found");
        }
        if (Files.isDirectory(path) || path.getFileName().toString().endsWith(".index.json")) {
            return Safetensors.read(path);
        }
        byte[] head;
        try (InputStream in = Files.newInputStream(path)) {
            head = in.readNBytes(9);
        }
        if (head.length >= 2 && head[0] == 'P' && head[1] == 'K') {
            return isTorchZip(path) ? TorchCheckpoint.read(path) : Npz.read(path);
        }
        // Safetensors first: its first byte is the low byte of the header length, which can be 0x80.
        if (head.length == 9 && head[8] == '{') {
            return Safetensors.read(path);
        }
        if (head.length >= 1 && (head[0] & 0xff) == 0x80) {
            return TorchCheckpoint.read(path); // explains that the legacy format is unsupported
        }
        throw new IOException(path + ": unrecognised checkpoint format (expected a torch.save zip, safetensors, "
                + "a safetensors index or directory, or .npz)");
    }

    /** The safetensors metadata of a single file or of a sharded set's first shard; empty for other formats. */
    public static Map<String, String> metadata(Path path) throws IOException {
        Path file = path;
        if (Files.isDirectory(path) || path.getFileName().toString().endsWith(".index.json")) {
            Path index = Files.isDirectory(path) ? SafetensorsIndex.resolveDirectory(path) : path;
            if (!index.getFileName().toString().endsWith(".index.json")) {
                file = index;
            } else {
                try (var shards = Files.list(index.getParent())) {
                    file = shards.filter(f -> f.getFileName().toString().endsWith(".safetensors"))
                            .sorted()
                            .findFirst()
                            .orElse(null);
                }
            }
        }
        if (file == null || !file.getFileName().toString().endsWith(".safetensors")) {
            return Map.of();
        }
        return Safetensors.readMetadata(file);
    }

    /** Writes a state dict as one safetensors file, atomically (see {@link Safetensors#write}). */
    public static void save(Path file, Map<String, HostTensor> tensors, Map<String, String> metadata)
            throws IOException {
        Safetensors.write(file, tensors, metadata);
    }

    /** Whether {@code path} is a zip written by {@code torch.save} (it has a {@code <name>/data.pkl} entry). */
    public static boolean isTorchZip(Path path) throws IOException {
        try (ZipFile zip = ZipEntries.open(path, "zip archive")) {
            for (ZipEntry entry : ZipEntries.list(zip, path, "zip archive")) {
                if (entry.getName().endsWith("/data.pkl")) {
                    return true;
                }
            }
            return false;
        }
    }
}
