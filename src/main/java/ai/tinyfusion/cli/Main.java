package ai.tinyfusion.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code tinyfusion} command line. */
@Command(name = "tinyfusion", mixinStandardHelpOptions = true, version = "tinyfusion 0.1.0",
        description = "Learnable depth pruning (TinyFusion) for diffusion transformers.",
        subcommands = {InfoCommand.class, ConvertCommand.class, BenchCommand.class, TrainCommand.class, SampleCommand.class,
                PruneCommand.class, ClassifierCommand.class, EvalCommand.class, CommandLine.HelpCommand.class})
public final class Main implements Runnable {
    @Override
    public void run() {
        CommandLine.usage(this, System.out);
    }

    public static void main(String[] args) {
        Runtime.configure();
        int code = new CommandLine(new Main())
                .setExecutionExceptionHandler((ex, cmd, parsed) -> {
                    cmd.getErr().println("error: " + (ex.getMessage() == null ? ex.toString() : ex.getMessage()));
                    if (Boolean.getBoolean("tinyfusion.trace")) {
                        ex.printStackTrace(cmd.getErr());
                    }
                    return 1;
                })
                .execute(args);
        System.exit(code);
    }
}
