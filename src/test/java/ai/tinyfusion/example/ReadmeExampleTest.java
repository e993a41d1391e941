package ai.tinyfusion.example;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.tinyfusion.OneThread;
import ai.tinyfusion.model.dit.DiT;
import ai.tinyfusion.prune.DecisionRecord;
import ai.tinyfusion.prune.PrunedModels;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** The README's "Use it from Java" example is {@link PruneAndSample}, verbatim, and it runs. */
@ExtendWith(OneThread.class)
class ReadmeExampleTest {
    @Test
    void theReadmeShowsTheExampleVerbatim() throws IOException {
        String source = Files.readString(Path.of("src/test/java/ai/tinyfusion/example/PruneAndSample.java"));
        String shown = source.substring(source.indexOf("import "));
        String readme = Files.readString(Path.of("README.md"));
        assertTrue(
                readme.contains("```java\n" + shown + "```\n"),
                "README.md must show src/test/java/ai/tinyfusion/example/PruneAndSample.java from its imports on");
    }

    @Test
    void theExamplePrunesSamplesAndWritesTheGrid(@TempDir Path out) throws IOException {
        Path decision = Path.of("docs/results/learned-1x2-lora.safetensors.decision.json");
        DiT pruned = PruneAndSample.run(Path.of("models/dit-f28.safetensors"), decision, out);
        assertEquals(14, pruned.depth());
        DecisionRecord written = PrunedModels.readRecord(out.resolve("pruned.safetensors"));
        assertArrayEquals(PrunedModels.readRecord(decision).kept(), written.kept());
        BufferedImage grid = ImageIO.read(out.resolve("grid.png").toFile());
        assertTrue(
                grid.getWidth() > 10 * 28 * 3 && grid.getHeight() > 2 * 28 * 3,
                grid.getWidth() + "x" + grid.getHeight());
        int[] rgb = grid.getRGB(0, 0, grid.getWidth(), grid.getHeight(), null, 0, grid.getWidth());
        long distinct = java.util.Arrays.stream(rgb).distinct().count();
        assertTrue(distinct > 50, "the grid should hold real images, found " + distinct + " colours");
    }
}
