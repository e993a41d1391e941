package ai.tinyfusion.cli;

import org.junit.jupiter.api.Test;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Every subcommand builds (no clashing options) and prints its help. */
class CliTest {
    @Test
    void everySubcommandHasHelp() {
        CommandLine cli = new CommandLine(new Main());
        assertTrue(cli.getSubcommands().keySet().containsAll(
                java.util.List.of("info", "convert", "bench", "train", "sample", "prune", "classifier", "eval")),
                cli.getSubcommands().keySet().toString());
        for (String name : cli.getSubcommands().keySet()) {
            if (name.equals("help")) {
                continue;
            }
            StringWriter out = new StringWriter();
            CommandLine sub = cli.getSubcommands().get(name);
            StringWriter err = new StringWriter();
            sub.setOut(new PrintWriter(out));
            sub.setErr(new PrintWriter(err));
            assertEquals(0, sub.execute("--help"), name + ": " + err);
            assertTrue(out.toString().contains("Usage:"), name + ": " + out);
        }
    }

    @Test
    void unknownPresetIsAClearError() {
        StringWriter err = new StringWriter();
        CommandLine cli = new CommandLine(new Main());
        cli.setErr(new PrintWriter(err));
        cli.setExecutionExceptionHandler((ex, cmd, parsed) -> {
            cmd.getErr().println("error: " + ex.getMessage());
            return 1;
        });
        assertEquals(1, cli.execute("info", "DiT-Q/9"));
        assertTrue(err.toString().contains("unknown model preset 'DiT-Q/9'"), err.toString());
    }
}
