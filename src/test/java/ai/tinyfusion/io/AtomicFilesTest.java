package ai.tinyfusion.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AtomicFilesTest {
    @TempDir
    Path tmp;

    @Test
    void failedWriteLeavesTheOldFileAndNoTemporary() throws IOException {
        Path target = Files.writeString(tmp.resolve("out.bin"), "old");
        IOException e = assertThrows(
                IOException.class,
                () -> AtomicFiles.write(target, channel -> {
                    AtomicFiles.writeFully(channel, ByteBuffer.wrap(new byte[] {1, 2, 3}));
                    throw new IOException("disk full");
                }));
        assertEquals("disk full", e.getMessage());
        assertEquals("old", Files.readString(target));
        try (Stream<Path> files = Files.list(tmp)) {
            assertEquals(List.of(target), files.collect(Collectors.toList()));
        }
    }

    @Test
    void createsParentDirectoriesAndReplaces() throws IOException {
        Path target = tmp.resolve("a/b/out.txt");
        AtomicFiles.write(target, channel -> AtomicFiles.writeFully(channel, ByteBuffer.wrap("one".getBytes())));
        AtomicFiles.write(target, channel -> AtomicFiles.writeFully(channel, ByteBuffer.wrap("two".getBytes())));
        assertEquals("two", Files.readString(target));
    }
}
