package ai.tinyfusion.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine;

/** Runs the real command line ({@link Main#commandLine}) in a test, its errors into {@code err}. */
public final class CliRun {
    private CliRun() {}

    /**
     * The rows of {@code run/metrics.csv} after step {@code afterStep} as {@code name=value,...} strings without the
     * wall-clock and memory columns: what must be equal between a resumed and an uninterrupted run.
     */
    public static List<String> metricRows(Path run, long afterStep) throws IOException {
        List<String> lines = Files.readAllLines(run.resolve("metrics.csv"));
        List<String> header = List.of(lines.get(0).split(","));
        List<String> out = new ArrayList<>();
        for (String line : lines.subList(1, lines.size())) {
            String[] c = line.split(",", -1);
            if (Long.parseLong(c[0]) <= afterStep) {
                continue;
            }
            StringBuilder sb = new StringBuilder();
            for (int i = 0; i < c.length; i++) {
                if (!List.of("seconds", "rss_gib", "heap_gib").contains(header.get(i))) {
                    sb.append(header.get(i)).append('=').append(c[i]).append(',');
                }
            }
            out.add(sb.toString());
        }
        return out;
    }

    /** The exit code of {@code tinyfusion args...}; standard output is discarded. */
    public static int run(StringWriter err, String... args) {
        CommandLine cli = Main.commandLine();
        cli.setOut(new PrintWriter(new StringWriter()));
        cli.setErr(new PrintWriter(err, true));
        return cli.execute(args);
    }
}
