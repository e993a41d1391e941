package ai.tinyfusion;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;

import static org.junit.jupiter.api.Assertions.fail;

/** Locates the shared reference fixtures, which live beside the project: {@code ../shared/fixtures/reference}. */
public final class Fixtures {
    private Fixtures() {}

    /** The reference fixture directory; fails the test with a clear message if it is absent. */
    public static Path referenceDir() {
        Path projectRoot = Paths.get("").toAbsolutePath();
        Path parent = projectRoot.getParent();
        Path dir = parent == null ? null : parent.resolve("shared/fixtures/reference");
        if (dir == null || !Files.isDirectory(dir)) {
            fail("reference fixtures not found: expected the directory " + dir
                    + " (../shared/fixtures/reference relative to the project root " + projectRoot + ")");
        }
        return dir;
    }

    /** A file in the reference fixture directory, which must exist. */
    public static Path reference(String name) {
        Path file = referenceDir().resolve(name);
        if (!Files.isRegularFile(file)) {
            fail("reference fixture " + file + " is missing");
        }
        return file;
    }
}
