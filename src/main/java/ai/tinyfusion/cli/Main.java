package ai.tinyfusion.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code tinyfusion} command line. */
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
    @Override
    public void run() {
        CommandLine.usage(this, System.out);
    }

    public static void main(String[] args) {
        EngineDefaults.configure();
        System.exit(commandLine().execute(args));
    }

    /** The configured command line: errors print one "error: ..." line (-Dtinyfusion.trace=true adds the stack). */
    public static CommandLine commandLine() {
        return new CommandLine(new Main()).setExecutionExceptionHandler((ex, cmd, parsed) -> {
            cmd.getErr().println("error: " + (ex.getMessage() == null ? ex.toString() : ex.getMessage()));
            if (Boolean.getBoolean("tinyfusion.trace")) {
                ex.printStackTrace(cmd.getErr());
            }
            return 1;
        });
    }
}
