package ai.tinyfusion.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.tinyfusion.prune.DeltaMode;
import ai.tinyfusion.prune.LearnedPruning;
import ai.tinyfusion.train.DistillTask;
import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** Every subcommand builds (no clashing options) and prints its help. */
class CliTest {
    @Test
    void everySubcommandHasHelp() {
        CommandLine cli = new CommandLine(new Main());
        assertTrue(
                cli.getSubcommands()
                        .keySet()
                        .containsAll(java.util.List.of(
                                "info", "convert", "bench", "train", "sample", "prune", "study", "classifier", "eval")),
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

    @Test
    void defaultsComeFromTheLibrary() {
        LearnedPruning.Options search = new LearnedPruning.Options();
        PruneCommand prune = new PruneCommand();
        new CommandLine(prune).parseArgs("--out", "x.safetensors");
        assertEquals(search.lr, prune.lr);
        assertEquals(search.delta, DeltaMode.parse(prune.delta));
        assertEquals(search.loraAlpha, LearnedPruning.Options.defaultLoraAlpha(prune.loraRank));
        assertArrayEquals(new double[] {search.tauStart, search.tauEnd}, PruneCommand.range("--tau", prune.tau));
        assertArrayEquals(
                new double[] {search.scalingStart, search.scalingEnd}, PruneCommand.range("--scaling", prune.scaling));
        assertEquals(search.emaDecay, prune.emaDecay);

        FinetuneCommand finetune = new FinetuneCommand();
        new CommandLine(finetune).parseArgs("--run", "r");
        assertEquals(DistillTask.Settings.ALPHA_KD, finetune.alphaKd);
        assertEquals(DistillTask.Settings.BETA, finetune.beta);
        assertEquals(1e-4, finetune.optim.lrMin); // the command's own default, given once in its mixin
    }

    @Test
    void classifierTrainTakesTheSharedOptionsWithItsOwnDefaults() {
        ClassifierCommand.Train train = new ClassifierCommand.Train();
        new CommandLine(train).parseArgs("--run", "r");
        assertEquals(5, train.loop.epochs);
        assertEquals(5.0, train.loop.clip);
        assertEquals(1e-3, train.optim.lr);
        assertEquals(100, train.optim.warmup);
        assertEquals(0.0, train.optim.emaDecay);
        TrainCommand dit = new TrainCommand();
        new CommandLine(dit).parseArgs("--run", "r", "--steps", "7");
        assertEquals(1.0, dit.loop.clip);
        assertEquals(1, dit.loop.epochs);
    }

    @Test
    void epochsAndStepsTogetherAreAnError() {
        TrainCommand steps = new TrainCommand();
        new CommandLine(steps).parseArgs("--run", "r", "--steps", "3");
        assertEquals(3, steps.loop.totalSteps(null)); // the batcher is only needed for epochs
        TrainCommand both = new TrainCommand();
        new CommandLine(both).parseArgs("--run", "r", "--epochs", "2", "--steps", "3");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> both.loop.totalSteps(null));
        assertTrue(e.getMessage().contains("either --epochs or --steps"), e.getMessage());
    }
}
