package ai.tinyfusion;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;

/** Locations of the shared reference fixtures, which live next to the project directory. */
public final class Fixtures {
    private Fixtures() {}

    /** {@code ../shared/fixtures/reference} relative to the project root (the tests' working directory). */
    public static Path referenceDir() {
        Path dir = Paths.get("").toAbsolutePath().getParent().resolve("shared/fixtures/reference");
        if (!Files.isDirectory(dir)) {
            throw new IllegalStateException("reference fixtures not found at " + dir
                    + " (expected ../shared/fixtures/reference relative to the project root "
                    + Paths.get("").toAbsolutePath() + ")");
        }
        return dir;
    }

    /** A file in {@link #referenceDir()}, which must exist. */
    public static Path reference(String name) {
        Path file = referenceDir().resolve(name);
        if (!Files.isRegularFile(file)) {
            throw new IllegalStateException("reference fixture missing: " + file);
        }
        return file;
    }
}
