package ai.tinyfusion.bench;

import com.google.gson.Gson;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Runs a reference script (Debian's PyTorch running the original code) beside a Java measurement and reads the one
 * JSON object it prints on its last line of output.
 */
public final class PythonScripts {
    private PythonScripts() {}

    /** Debian's interpreter (the one with {@code python3-torch}), where the benches expect it. */
    public static final Path DEBIAN_PYTHON = Path.of("/usr/bin/python3");

    /**
     * Runs {@code command} and parses the last line of its output as a JSON object.
     *
     * @throws IOException if it fails, times out or prints no JSON (the end of its output is in the message)
     */
    public static JsonObject lastJson(List<String> command, long timeoutSeconds)
            throws IOException, InterruptedException {
        Path log = Files.createTempFile("python-bench", ".log");
        try {
            Process p = new ProcessBuilder(command)
                    .redirectErrorStream(true)
                    .redirectOutput(log.toFile())
                    .start();
            if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IOException(String.join(" ", command) + ": no result after " + timeoutSeconds + " s");
            }
            List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8);
            String last = lines.isEmpty() ? "" : lines.get(lines.size() - 1);
            if (p.exitValue() != 0 || !last.startsWith("{")) {
                List<String> tail = lines.subList(Math.max(0, lines.size() - 15), lines.size());
                throw new IOException(String.join(" ", command) + " failed (exit " + p.exitValue() + "):\n"
                        + String.join("\n", tail));
            }
            try {
                return new Gson().fromJson(last, JsonObject.class);
            } catch (JsonParseException e) {
                throw new IOException(String.join(" ", command) + ": last line is not JSON: " + last, e);
            }
        } finally {
            Files.deleteIfExists(log);
        }
    }
}
