package ai.tinyfusion;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;

/** Locations of the shared, read-only test fixtures. */
public final class Fixtures {
    private Fixtures() {}

    /**
     * {@code ../shared/fixtures/reference} relative to the project root (the working directory of
     * Maven's test JVM). Fails with the looked-up path when it is missing.
     */
    public static Path referenceDir() {
        Path dir = Paths.get("").toAbsolutePath().getParent().resolve("shared/fixtures/reference");
        if (!Files.isDirectory(dir)) {
            throw new IllegalStateException("reference fixtures not found at " + dir
                    + " (expected the project checkout to sit next to shared/)");
        }
        return dir;
    }
}
