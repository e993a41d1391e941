package ai.tinyfusion.io;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.LinkedHashMap;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads and writes safetensors files, single or sharded.
 *
 * <p>Reading memory-maps each tensor separately, so files of any size work as long as each
 * tensor is under 2 GiB; every offset is a {@code long}. The header is validated before any
 * data is touched (see {@link SafetensorsHeader#decode}). Writing is atomic per file and
 * produces the reference layout: header padded with spaces to 8 bytes, tensors back to back in
 * the order given.
 */
public final class Safetensors {
    private static final Logger LOG = LoggerFactory.getLogger(Safetensors.class);

    private Safetensors() {}

    /**
     * Reads a safetensors file, a sharded set through its {@code *.safetensors.index.json}, or a
     * directory holding either (see {@link SafetensorsIndex#resolveDirectory}).
     *
     * @return the tensors, in header order (for a sharded set, in weight-map order)
     * @throws IOException naming the file and the problem if anything is missing, truncated or inconsistent
     */
    public static LinkedHashMap<String, HostTensor> read(Path path) throws IOException {
        if (Files.isDirectory(path)) {
            return read(SafetensorsIndex.resolveDirectory(path));
        }
        if (path.getFileName().toString().endsWith(".index.json")) {
            return SafetensorsIndex.read(path);
        }
        return readFile(path);
    }

    /** The {@code __metadata__} of a single safetensors file (empty if it has none). */
    public static Map<String, String> readMetadata(Path file) throws IOException {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            return header(channel, file).header().metadata();
        }
    }

    /** Reads one safetensors file (not an index). */
    static LinkedHashMap<String, HostTensor> readFile(Path file) throws IOException {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            Parsed parsed = header(channel, file);
            LinkedHashMap<String, HostTensor> out = new LinkedHashMap<>();
            for (SafetensorsHeader.Entry e : parsed.header().entries()) {
                long length = e.end() - e.begin();
                if (length > Integer.MAX_VALUE - 8) {
                    throw new IOException(file + ": tensor '" + e.name() + "' has " + length
                            + " bytes, more than one buffer can hold (2 GiB)");
                }
                ByteBuffer data = length == 0
                        ? ByteBuffer.allocate(0)
                        : channel.map(FileChannel.MapMode.READ_ONLY, parsed.dataStart() + e.begin(), length);
                out.put(e.name(), HostTensor.of(e.dtype(), e.shape(), data));
            }
            LOG.debug("read {} tensors from {}", out.size(), file);
            return out;
        }
    }

    /** A validated header and the file offset where the data section starts. */
    private record Parsed(SafetensorsHeader header, long dataStart) {}

    private static Parsed header(FileChannel channel, Path file) throws IOException {
        long size = channel.size();
        if (size < 8) {
            throw new IOException(file + ": too short for a safetensors file (" + size + " bytes)");
        }
        ByteBuffer lengthBytes = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
        readFully(channel, lengthBytes, 0, file);
        long headerLength = lengthBytes.getLong(0);
        if (headerLength < 2 || headerLength > SafetensorsHeader.MAX_HEADER_BYTES || headerLength > size - 8) {
            throw new IOException(file + ": invalid safetensors header length " + headerLength + " (file has " + size
                    + " bytes; truncated or not a safetensors file?)");
        }
        ByteBuffer json = ByteBuffer.allocate((int) headerLength);
        readFully(channel, json, 8, file);
        try {
            return new Parsed(SafetensorsHeader.decode(json.array(), size - 8 - headerLength), 8 + headerLength);
        } catch (IOException e) {
            throw new IOException(file + ": " + e.getMessage(), e);
        }
    }

    private static void readFully(FileChannel channel, ByteBuffer buffer, long position, Path file) throws IOException {
        long pos = position;
        while (buffer.hasRemaining()) {
            int n = channel.read(buffer, pos);
            if (n < 0) {
                throw new IOException(file + ": unexpected end of file at byte " + pos);
            }
            pos += n;
        }
    }

    /**
     * Writes {@code tensors} (in iteration order) and {@code metadata} to one safetensors file,
     * atomically.
     *
     * @param metadata string pairs stored as {@code __metadata__}; may be null or empty
     */
    public static void write(Path file, Map<String, HostTensor> tensors, Map<String, String> metadata)
            throws IOException {
        byte[] header = SafetensorsHeader.encode(tensors, metadata);
        AtomicFiles.write(file, channel -> {
            ByteBuffer length =
                    ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(0, header.length);
            AtomicFiles.writeFully(channel, length);
            AtomicFiles.writeFully(channel, ByteBuffer.wrap(header));
            for (HostTensor t : tensors.values()) {
                AtomicFiles.writeFully(channel, t.data());
            }
        });
        LOG.debug("wrote {} tensors to {}", tensors.size(), file);
    }

    /**
     * Writes {@code tensors} as a sharded set in {@code dir}: {@code <baseName>-00001-of-0000N.safetensors}
     * files of at most {@code maxShardBytes} tensor bytes each (a larger single tensor gets a shard
     * of its own), then {@code <baseName>.safetensors.index.json} with
     * {@code {"metadata": {"total_size": bytes}, "weight_map": {name: shard file}}}. The index is
     * written last, so it never names a missing shard; it is written even for a single shard.
     *
     * @return the index file
     */
    public static Path writeSharded(
            Path dir,
            String baseName,
            Map<String, HostTensor> tensors,
            Map<String, String> metadata,
            long maxShardBytes)
            throws IOException {
        return SafetensorsIndex.writeSharded(dir, baseName, tensors, metadata, maxShardBytes);
    }
}
