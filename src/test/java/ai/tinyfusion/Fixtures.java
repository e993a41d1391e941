package ai.tinyfusion;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;

/** Locates the shared reference fixtures at {@code ../shared/fixtures/reference} from the project root. */
public final class Fixtures {
    private Fixtures() {}

    public static Path referenceDir() {
        Path dir = Paths.get("").toAbsolutePath().getParent().resolve("shared/fixtures/reference");
        if (!Files.isDirectory(dir)) {
            throw new IllegalStateException("reference fixtures not found at " + dir
                    + " (expected ../shared/fixtures/reference relative to the project root)");
        }
        return dir;
    }

    public static Path reference(String name) {
        return referenceDir().resolve(name);
    }
}
