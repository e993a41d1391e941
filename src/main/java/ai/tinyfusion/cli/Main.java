package ai.tinyfusion.cli;

import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.util.Arrays;
import java.util.List;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParseResult;
import picocli.CommandLine.ScopeType;

/**
 * The {@code tinyfusion} command line.
 *
 * <p>Every error (a damaged or hostile checkpoint, a missing file, a bad option, even a bug or an
 * exhausted heap) ends the command with one {@code error: ...} line on standard error and a
 * non-zero exit code: 2 for a bad command line, 1 for anything else. The stack trace follows with
 * {@code --debug} (which also turns on debug logging), {@code -Dtinyfusion.trace=true}, or debug
 * logging of {@code ai.tinyfusion} ({@code -Dorg.slf4j.simpleLogger.log.ai.tinyfusion=debug}).
 */
@Command(
        name = "tinyfusion",
        mixinStandardHelpOptions = true,
        version = "tinyfusion 0.1.0",
        description = "Learnable depth pruning (TinyFusion) for diffusion transformers.",
        subcommands = {
            InfoCommand.class,
            ConvertCommand.class,
            BenchCommand.class,
            TrainCommand.class,
            SampleCommand.class,
            PruneCommand.class,
            StudyCommand.class,
            FinetuneCommand.class,
            ClassifierCommand.class,
            EvalCommand.class,
            ReportCommand.class,
            PlotCommand.class,
            VaeCommand.class,
            CommandLine.HelpCommand.class
        })
public final class Main implements Runnable {
    /** The global option that adds stack traces to error messages. */
    public static final String DEBUG_OPTION = "--debug";
    /** System property that adds stack traces to error messages, as {@value #DEBUG_OPTION} does. */
    public static final String TRACE_PROPERTY = "tinyfusion.trace";

    /** Longest error line printed; the rest is left to {@code --debug}. */
    static final int MAX_MESSAGE_CHARS = 2000;

    @Option(
            names = DEBUG_OPTION,
            scope = ScopeType.INHERIT,
            description = "On an error, print the stack trace after the one-line message; also turns on debug logging.")
    boolean debug;

    @Override
    public void run() {
        CommandLine.usage(this, System.out);
    }

    public static void main(String[] args) {
        if (debugRequested(args)) {
            // before the first logger exists: slf4j-simple reads its levels once
            System.setProperty("org.slf4j.simpleLogger.log.ai.tinyfusion", "debug");
        }
        EngineDefaults.configure();
        System.exit(commandLine().execute(args));
    }

    /**
     * The configured command line: errors print one {@code error: ...} line (see the class comment),
     * the stack trace only when asked for.
     */
    public static CommandLine commandLine() {
        Main main = new Main();
        CommandLine cli = new CommandLine(main);
        cli.setExecutionStrategy(Main::executeCatchingErrors);
        cli.setExecutionExceptionHandler((ex, cmd, parsed) -> {
            report(cmd.getErr(), ex, main.debug || traceRequested());
            return cmd.getCommandSpec().exitCodeOnExecutionException();
        });
        cli.setParameterExceptionHandler((ex, args) -> {
            CommandLine cmd = ex.getCommandLine();
            PrintWriter err = cmd.getErr();
            String suggestions = "";
            if (ex instanceof CommandLine.UnmatchedArgumentException unmatched
                    && !unmatched.getSuggestions().isEmpty()) {
                suggestions = "; did you mean " + String.join(" or ", unmatched.getSuggestions()) + "?";
            }
            err.println("error: " + oneLine(ex.getMessage() + suggestions) + " (see '"
                    + cmd.getCommandSpec().qualifiedName() + " --help')");
            if (debugRequested(args) || traceRequested()) {
                ex.printStackTrace(err);
            }
            err.flush();
            return cmd.getCommandSpec().exitCodeOnInvalidInput();
        });
        return cli;
    }

    /**
     * Runs the chosen subcommand; an {@link Error} (an exhausted heap, a stack overflow) becomes an
     * execution exception, so that it too is reported in one line instead of escaping with its trace.
     */
    private static int executeCatchingErrors(ParseResult parsed) {
        try {
            return new CommandLine.RunLast().execute(parsed);
        } catch (Error e) {
            ParseResult leaf = parsed;
            while (leaf.subcommand() != null) {
                leaf = leaf.subcommand();
            }
            throw new CommandLine.ExecutionException(leaf.commandSpec().commandLine(), e.toString(), e);
        }
    }

    /** Prints the one-line message of {@code ex} to {@code err} and, if {@code trace}, its stack trace. */
    static void report(PrintWriter err, Throwable ex, boolean trace) {
        Throwable cause = reported(ex);
        String line = oneLine(message(cause));
        if (!trace && line.length() > MAX_MESSAGE_CHARS) {
            line = line.substring(0, MAX_MESSAGE_CHARS) + "... (" + (line.length() - MAX_MESSAGE_CHARS)
                    + " more characters; " + DEBUG_OPTION + " prints all)";
        }
        if (cause instanceof OutOfMemoryError) {
            line += " (raise the heap limit, e.g. TINYFUSION_JAVA_OPTS=-Xmx16g for bin/tinyfusion)";
        } else if (!trace && !isUserError(cause)) {
            line += " (an internal error: " + DEBUG_OPTION + " prints the stack trace)";
        }
        err.println("error: " + line);
        if (trace) {
            ex.printStackTrace(err);
        }
        err.flush();
    }

    /** The exception to describe: wrappers that only carry another exception are looked through. */
    static Throwable reported(Throwable ex) {
        Throwable t = ex;
        while (t.getCause() != null
                && t.getCause() != t
                && (t instanceof CommandLine.ExecutionException
                        || t instanceof UncheckedIOException
                        || t instanceof java.util.concurrent.ExecutionException
                        || t instanceof java.util.concurrent.CompletionException
                        || t.getMessage() == null
                        || t.getMessage().equals(t.getCause().toString()))) {
            t = t.getCause();
        }
        return t;
    }

    /** Errors a user causes and can fix (files, formats, arguments), printed without the exception's type. */
    private static boolean isUserError(Throwable t) {
        return t instanceof java.io.IOException
                || t instanceof IllegalArgumentException
                || t instanceof IllegalStateException
                || t instanceof UnsupportedOperationException;
    }

    private static String message(Throwable t) {
        String m = t.getMessage();
        if (m == null || m.isBlank()) {
            return t.getClass().getName();
        }
        return isUserError(t) ? m : t.getClass().getSimpleName() + ": " + m;
    }

    /**
     * {@code text} on one line: its lines joined by {@code "; "} (by a space after a line ending in a
     * colon), indentation dropped, other control characters (which a hostile file can put into a
     * tensor name) escaped as {@code \\uXXXX}.
     */
    static String oneLine(String text) {
        List<String> lines = Arrays.stream(text.split("\\R"))
                .map(String::strip)
                .filter(s -> !s.isEmpty())
                .toList();
        StringBuilder out = new StringBuilder();
        for (String line : lines) {
            if (out.length() > 0) {
                out.append(out.charAt(out.length() - 1) == ':' ? " " : "; ");
            }
            line.codePoints().forEach(c -> {
                if (Character.isISOControl(c) || c == '\u2028' || c == '\u2029') {
                    out.append(String.format("\\u%04x", c));
                } else {
                    out.appendCodePoint(c);
                }
            });
        }
        return out.toString();
    }

    /** Whether the command line asks for {@value #DEBUG_OPTION} (before any {@code --} end of options). */
    static boolean debugRequested(String[] args) {
        for (String a : args) {
            if (a.equals("--")) {
                return false;
            }
            if (a.equals(DEBUG_OPTION)) {
                return true;
            }
        }
        return false;
    }

    /** Whether {@value #TRACE_PROPERTY} or debug logging of {@code ai.tinyfusion} asks for stack traces. */
    static boolean traceRequested() {
        return Boolean.getBoolean(TRACE_PROPERTY)
                || LoggerFactory.getLogger(Main.class).isDebugEnabled();
    }
}
