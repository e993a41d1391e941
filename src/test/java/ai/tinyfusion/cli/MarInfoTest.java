package ai.tinyfusion.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.tinyfusion.model.mar.MarFixture;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** {@code tinyfusion info} for MAR presets and checkpoints. */
class MarInfoTest {
    private static String info(String model) {
        PrintStream saved = System.out;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            assertEquals(0, Main.commandLine().execute("info", model));
        } finally {
            System.setOut(saved);
        }
        return out.toString(StandardCharsets.UTF_8);
    }

    @Test
    void presetsReportTheExactCounts() {
        String b = info("MAR-B");
        assertTrue(b.contains("parameters: 207,924,768 (207.92M; diffusion head 35,749,920 = 35.75M)"), b);
        String l = info("MAR-L");
        assertTrue(l.contains("parameters: 478,326,304 (478.33M"), l);
        assertTrue(l.contains("32 transformer blocks (16 encoder + 16 decoder)"), l);
        String h = info("MAR-H");
        assertTrue(h.contains("parameters: 942,403,104 (942.40M; diffusion head 151,206,944 = 151.21M)"), h);
    }

    @Test
    void aMarCheckpointIsRecognised() {
        String s = info(MarFixture.checkpoint().toString());
        assertTrue(s.contains("92 tensors, MAR"), s);
        assertTrue(s.contains("parameters: 89,936"), s);
        assertTrue(s.contains("head 2×48"), s);
    }
}
