package ai.tinyfusion.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * Issue #21: the CLI reports a damaged checkpoint, a missing file or a bad option in one
 * {@code error:} line with no stack trace and a non-zero exit code; {@code --debug} adds the trace.
 * Runs the real command line in-process with its standard error captured.
 */
class CliErrorsTest {
    @TempDir
    Path tmp;

    /** What one run printed to standard error and returned. */
    private record Run(int exit, String err) {
        List<String> lines() {
            return err.lines().filter(l -> !l.isBlank()).toList();
        }
    }

    private static Run run(String... args) {
        StringWriter err = new StringWriter();
        int exit = CliRun.run(err, args);
        return new Run(exit, err.toString());
    }

    /** One line, "error: ..." holding every part, no stack frame, the exit code given. */
    private static String assertOneLine(Run r, int exit, String... parts) {
        assertEquals(exit, r.exit(), r.err());
        assertEquals(1, r.lines().size(), "expected one line, got:\n" + r.err());
        String line = r.lines().get(0);
        assertTrue(line.startsWith("error: "), line);
        assertFalse(r.err().contains("\tat "), r.err());
        assertFalse(r.err().contains("Exception"), "the exception type leaked into a user error: " + line);
        for (String part : parts) {
            assertTrue(line.contains(part), "missing '" + part + "' in: " + line);
        }
        return line;
    }

    /** The error line first, then the stack trace with at least one frame. */
    private static void assertTrace(Run r, int exit, String firstLine) {
        assertEquals(exit, r.exit(), r.err());
        assertEquals(firstLine, r.lines().get(0), r.err());
        assertTrue(r.err().contains("\tat "), "no stack trace with --debug:\n" + r.err());
        assertTrue(r.lines().size() > 2, r.err());
    }

    /** A safetensors file whose header declares more data than the file holds. */
    private Path truncatedSafetensors() throws IOException {
        byte[] json = "{\"w\":{\"dtype\":\"F32\",\"shape\":[1000],\"data_offsets\":[0,4000]}}"
                .getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + json.length + 16).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(json.length).put(json);
        Path file = tmp.resolve("truncated.safetensors");
        Files.write(file, b.array());
        return file;
    }

    @Test
    void corruptCheckpointIsOneLineAndDebugAddsTheTrace() throws IOException {
        Path file = truncatedSafetensors();
        String line = assertOneLine(run("info", file.toString()), 1, file.toString(), "'w'");
        assertTrace(run("--debug", "info", file.toString()), 1, line);
        assertTrace(run("info", file.toString(), "--debug"), 1, line); // a global option, also after the subcommand
        assertOneLine(
                run("convert", file.toString(), tmp.resolve("out.safetensors").toString()), 1, file.toString());
    }

    @Test
    void corruptTorchCheckpointIsOneLine() throws IOException {
        Path file = tmp.resolve("bad.pt");
        try (ZipOutputStream zip = new ZipOutputStream(Files.newOutputStream(file))) {
            zip.putNextEntry(new ZipEntry("archive/data.pkl"));
            zip.write(new byte[] {(byte) 0x80, 2, '}', 'q', 0, 'X', (byte) 0xff, (byte) 0xff, (byte) 0xff, 0x7f});
            zip.closeEntry();
        }
        assertOneLine(run("info", file.toString()), 1, file.toString(), "data.pkl");
        // a truncated zip: the end record is gone
        byte[] all = Files.readAllBytes(file);
        Files.write(file, java.util.Arrays.copyOf(all, all.length - 30));
        String line = assertOneLine(run("info", file.toString()), 1, file.toString());
        assertTrace(run("info", "--debug", file.toString()), 1, line);
    }

    @Test
    void hostileNamesCannotBreakTheLine() throws IOException {
        byte[] json = "{\"a\\nerror: forged\\r\\u0007\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,8]}}"
                .getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + json.length + 8).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(json.length).put(json);
        Path file = tmp.resolve("names.safetensors");
        Files.write(file, b.array());
        String line = assertOneLine(run("info", file.toString()), 1, file.toString());
        // line breaks become "; " (the forged "error:" cannot start a line), other control characters escapes
        assertTrue(line.contains("'a; error: forged; \\u0007'"), line);
    }

    @Test
    void missingFileAndBadOptionsAreOneLine() {
        Path missing = tmp.resolve("nowhere.pt");
        assertOneLine(
                run("convert", missing.toString(), tmp.resolve("o.safetensors").toString()), 1, missing.toString());
        String unknown = assertOneLine(run("info", "--bogus", "DiT-S/2"), 2, "--bogus", "tinyfusion info --help");
        assertTrace(run("info", "--bogus", "DiT-S/2", "--debug"), 2, unknown);
        assertOneLine(run("info"), 2, "MODEL");
        assertOneLine(run("infp", "DiT-S/2"), 2, "infp", "did you mean info");
        assertOneLine(run("sample", "--steps", "many"), 2, "--steps", "many");
    }

    @Test
    void wrappersAndErrorsAreReportedByTheirCause() {
        StringWriter out = new StringWriter();
        Main.report(
                new PrintWriter(out),
                new CommandLine.ExecutionException(
                        new CommandLine(new Main()),
                        "wrapped",
                        new UncheckedIOException(new IOException("x.pt: storage '3' is truncated\n  at byte 12"))),
                false);
        assertEquals("error: x.pt: storage '3' is truncated; at byte 12" + System.lineSeparator(), out.toString());

        StringWriter oom = new StringWriter();
        Main.report(new PrintWriter(oom), new OutOfMemoryError("Java heap space"), false);
        assertTrue(
                oom.toString().startsWith("error: OutOfMemoryError: Java heap space (raise the heap limit"),
                oom.toString());
        assertEquals(1, oom.toString().lines().count(), oom.toString());

        StringWriter bug = new StringWriter();
        Main.report(new PrintWriter(bug), new NullPointerException(), false);
        assertEquals(
                "error: java.lang.NullPointerException (an internal error: --debug prints the stack trace)",
                bug.toString().strip());

        StringWriter longMessage = new StringWriter();
        Main.report(new PrintWriter(longMessage), new IOException("f: " + "k".repeat(5000)), false);
        assertTrue(longMessage.toString().strip().endsWith("more characters; --debug prints all)"));
        assertTrue(longMessage.toString().length() < Main.MAX_MESSAGE_CHARS + 100);
    }
}
