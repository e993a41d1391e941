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
                java.util.List.of("info", "convert", "bench", "train", "sample", "prune", "study", "classifier", "eval")),
                cli.getSubcommands().keySet().toString());
        for (String name : cli.getSubcommands().keySet()) {
            if (name.equals("help")) {
                continue;
            }
            String usage = cli.getSubcommands().get(name).getUsageMessage();
            assertTrue(usage.contains("Usage: tinyfusion " + name) && usage.contains("--help"), name + ": " + usage);
        }
    }

    @Test
    void unknownPresetIsAClearError() {
        StringWriter err = new StringWriter();
        CommandLine cli = Main.commandLine();
        cli.setErr(new PrintWriter(err));
        assertEquals(1, cli.execute("info", "DiT-Q/9"));
        assertTrue(err.toString().contains("unknown model preset 'DiT-Q/9'"), err.toString());
    }
}
