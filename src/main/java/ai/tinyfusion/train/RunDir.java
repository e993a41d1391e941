package ai.tinyfusion.train;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

/** The layout of a run directory: checkpoints/step-NNNNNNN.safetensors, metrics.csv. */
public final class RunDir {
    private final Path dir;
    private final MetricsLog metrics;

    public RunDir(Path dir) throws IOException {
        this.dir = dir;
        Files.createDirectories(dir.resolve("checkpoints"));
        this.metrics = new MetricsLog(dir.resolve("metrics.csv"));
    }

    public Path dir() {
        return dir;
    }

    public MetricsLog metrics() {
        return metrics;
    }

    public Path checkpointPath(long step) {
        return dir.resolve("checkpoints").resolve(String.format("step-%07d.safetensors", step));
    }

    /** Appends a timestamped line to {@code train.log} in the run directory (the run's own record). */
    public void log(String message) {
        String line = java.time.LocalDateTime.now().withNano(0) + " " + message + "\n";
        try {
            Files.writeString(
                    dir.resolve("train.log"),
                    line,
                    java.nio.charset.StandardCharsets.UTF_8,
                    java.nio.file.StandardOpenOption.CREATE,
                    java.nio.file.StandardOpenOption.APPEND);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException("cannot write " + dir.resolve("train.log"), e);
        }
    }

    /** Checkpoints in step order. */
    public static List<Path> checkpoints(Path runDir) throws IOException {
        Path c = runDir.resolve("checkpoints");
        if (!Files.isDirectory(c)) {
            return List.of();
        }
        try (Stream<Path> s = Files.list(c)) {
            return s.filter(p -> p.getFileName().toString().matches("step-\\d+\\.safetensors"))
                    .sorted()
                    .toList();
        }
    }

    /** A checkpoint file as given, or the newest one of a run directory. */
    public static Path resolveCheckpoint(Path resume) throws IOException {
        if (Files.isRegularFile(resume)) {
            return resume;
        }
        List<Path> all = checkpoints(resume);
        if (all.isEmpty()) {
            throw new IOException("nothing to resume: no checkpoints/step-*.safetensors under " + resume);
        }
        return all.get(all.size() - 1);
    }

    /** Deletes all but the newest {@code keep} checkpoints (keep ≤ 0 keeps all). */
    void pruneCheckpoints(int keep) throws IOException {
        if (keep <= 0) {
            return;
        }
        List<Path> all = checkpoints(dir);
        for (int i = 0; i < all.size() - keep; i++) {
            Files.deleteIfExists(all.get(i));
        }
    }
}
