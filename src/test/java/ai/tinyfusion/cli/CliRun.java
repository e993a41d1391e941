package ai.tinyfusion.cli;

import java.io.PrintWriter;
import java.io.StringWriter;
import picocli.CommandLine;

/** Runs the real command line ({@link Main#commandLine}) in a test, its errors into {@code err}. */
public final class CliRun {
    private CliRun() {}

    /** The exit code of {@code tinyfusion args...}; standard output is discarded. */
    public static int run(StringWriter err, String... args) {
        CommandLine cli = Main.commandLine();
        cli.setOut(new PrintWriter(new StringWriter()));
        cli.setErr(new PrintWriter(err, true));
        return cli.execute(args);
    }
}
