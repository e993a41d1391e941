package ai.tinyfusion.io;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.ThreadLocalRandom;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes files atomically: the content goes to a temporary file in the target's directory, is
 * flushed to disk, and is then renamed over the target, so readers see either the old file or
 * the complete new one, never a partial write.
 */
public final class AtomicFiles {
    private static final Logger LOG = LoggerFactory.getLogger(AtomicFiles.class);

    private AtomicFiles() {}

    /** Writes a file's content to an open channel. */
    @FunctionalInterface
    public interface ContentWriter {
        /** Writes the whole content to {@code channel}. */
        void write(FileChannel channel) throws IOException;
    }

    /**
     * Creates or replaces {@code target} with the content {@code writer} produces. On any failure
     * the temporary file is removed and {@code target} is left as it was.
     */
    public static void write(Path target, ContentWriter writer) throws IOException {
        try (Pending pending = begin(target)) {
            writer.write(pending.channel());
            pending.commit();
        }
    }

    /**
     * Starts writing {@code target} through a temporary file in its directory: write to {@link Pending#channel()},
     * then {@link Pending#commit()} to force it to disk and rename it over {@code target}; closing without a commit
     * deletes the temporary file and leaves {@code target} as it was. For content produced over a long time (a
     * streamed archive), where {@link #write(Path, ContentWriter)}'s single callback does not fit.
     */
    public static Pending begin(Path target) throws IOException {
        Path absolute = target.toAbsolutePath();
        Path dir = absolute.getParent();
        Files.createDirectories(dir);
        Path tmp = createTemp(dir, absolute.getFileName().toString());
        try {
            return new Pending(absolute, tmp, FileChannel.open(tmp, StandardOpenOption.WRITE, StandardOpenOption.READ));
        } catch (IOException | RuntimeException e) {
            Files.deleteIfExists(tmp);
            throw e;
        }
    }

    /** A file being written atomically (see {@link #begin}). */
    public static final class Pending implements AutoCloseable {
        private final Path target;
        private final Path tmp;
        private final FileChannel channel;
        private boolean done;

        private Pending(Path target, Path tmp, FileChannel channel) {
            this.target = target;
            this.tmp = tmp;
            this.channel = channel;
        }

        /** The temporary file's channel (readable and writable, positioned at its end of what was written). */
        public FileChannel channel() {
            return channel;
        }

        /** Forces the content to disk and renames it over the target. */
        public void commit() throws IOException {
            if (done) {
                throw new IllegalStateException(target + " was already committed");
            }
            channel.force(true);
            channel.close();
            try {
                Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                throw new IOException(target + ": the file system cannot rename atomically", e);
            }
            done = true;
            syncDirectory(target.getParent());
        }

        /** Without a commit: discards the temporary file. */
        @Override
        public void close() throws IOException {
            if (!done) {
                done = true;
                try {
                    channel.close();
                } finally {
                    Files.deleteIfExists(tmp);
                }
            }
        }
    }

    /** Writes all remaining bytes of {@code buffer}. */
    public static void writeFully(WritableByteChannel channel, ByteBuffer buffer) throws IOException {
        while (buffer.hasRemaining()) {
            channel.write(buffer);
        }
    }

    private static Path createTemp(Path dir, String name) throws IOException {
        for (int attempt = 0; ; attempt++) {
            Path tmp = dir.resolve("." + name + "."
                    + Long.toHexString(ThreadLocalRandom.current().nextLong()) + ".tmp");
            try {
                // CREATE_NEW with default attributes: the final file gets the usual umask permissions.
                Files.newByteChannel(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)
                        .close();
                return tmp;
            } catch (FileAlreadyExistsException e) {
                if (attempt > 100) {
                    throw e;
                }
            }
        }
    }

    /** Makes the rename durable where the platform allows syncing a directory (Linux does). */
    private static void syncDirectory(Path dir) {
        try (FileChannel channel = FileChannel.open(dir, StandardOpenOption.READ)) {
            channel.force(true);
        } catch (IOException e) {
            LOG.debug("cannot sync directory {}: {}", dir, e.toString());
        }
    }
}
