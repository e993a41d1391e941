package ai.tinyfusion.data;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPOutputStream;

/** Writes small IDX files for tests. */
final class IdxTestFiles {
    private IdxTestFiles() {}

    static byte[] images(int n, int rows, int cols, byte[] pixels) {
        ByteBuffer bb = ByteBuffer.allocate(16 + pixels.length);
        bb.putInt(IdxReader.IMAGES_MAGIC).putInt(n).putInt(rows).putInt(cols).put(pixels);
        return bb.array();
    }

    static byte[] labels(int[] labels) {
        ByteBuffer bb = ByteBuffer.allocate(8 + labels.length);
        bb.putInt(IdxReader.LABELS_MAGIC).putInt(labels.length);
        for (int l : labels) {
            bb.put((byte) l);
        }
        return bb.array();
    }

    static byte[] gzip(byte[] raw) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (GZIPOutputStream gz = new GZIPOutputStream(out)) {
            gz.write(raw);
        }
        return out.toByteArray();
    }

    static Path write(Path file, byte[] bytes) throws IOException {
        Files.write(file, bytes);
        return file;
    }
}
