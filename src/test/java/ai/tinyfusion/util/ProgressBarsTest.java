package ai.tinyfusion.util;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import me.tongfei.progressbar.ProgressBar;
import org.junit.jupiter.api.Test;

class ProgressBarsTest {

    private static String stderrOf(boolean enabled, boolean terminal) {
        PrintStream old = System.err;
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        System.setErr(new PrintStream(buf, true, StandardCharsets.UTF_8));
        try (ProgressBar bar =
                ProgressBars.builder("work", 10, enabled, terminal).build()) {
            for (int i = 0; i < 10; i++) {
                bar.step();
            }
        } finally {
            System.setErr(old);
        }
        return buf.toString(StandardCharsets.UTF_8);
    }

    @Test
    void logOutputIsWholeLinesWithoutCarriageReturns() {
        String out = stderrOf(true, false);
        assertFalse(out.contains("\r"), out);
        assertTrue(out.contains("work") && out.contains("10/10"), out);
        assertTrue(out.lines().count() <= 3, "a 30 s interval gives at most start, end and a close line: " + out);
    }

    @Test
    void disabledBarIsSilent() {
        assertEquals("", stderrOf(false, false));
    }
}
