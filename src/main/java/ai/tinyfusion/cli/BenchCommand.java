package ai.tinyfusion.cli;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDManager;
import ai.tinyfusion.bench.SearchStepBench;
import ai.tinyfusion.bench.SpeedBench;
import ai.tinyfusion.model.dit.DiT;
import ai.tinyfusion.model.dit.Flops;
import ai.tinyfusion.model.dit.LayerSubset;
import ai.tinyfusion.prune.DeltaMode;
import ai.tinyfusion.prune.LearnedPruning;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.function.Function;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code tinyfusion bench}: throughput of a model and of its depth-halved version, in one run. */
@Command(
        name = "bench",
        mixinStandardHelpOptions = true,
        description = "Forward, forward+backward and CFG sampling throughput of a model and of the same model "
                + "with every other block (depth halved), measured interleaved in one run; plus a 1024^3 matmul.")
public final class BenchCommand implements Runnable {
    @Mixin
    ModelOptions model;

    @Option(
            names = "--batch",
            split = ",",
            defaultValue = "1,2",
            description = "Batch sizes (default: ${DEFAULT-VALUE}).")
    List<Integer> batches;

    @Option(names = "--iters", defaultValue = "5", description = "Timed iterations per measurement (median reported).")
    int iters;

    @Option(names = "--warmup", defaultValue = "1", description = "Untimed iterations first.")
    int warmup;

    @Option(names = "--no-backward", description = "Skip forward+backward.")
    boolean noBackward;

    @Option(names = "--no-half", description = "Skip the depth-halved model.")
    boolean noHalf;

    @Option(
            names = "--search",
            paramLabel = "PATTERN",
            description = "Instead: time learnable-pruning search steps under this N:M pattern against plain training "
                    + "steps of the full model at the first --batch (synthetic data, real training loop), and report the "
                    + "ratio and peak RSS.")
    String searchPattern;

    @Option(names = "--delta", description = "With --search: lora, full or none (${DEFAULT-VALUE}).")
    String delta = new LearnedPruning.Options().delta.label();

    @Option(
            names = "--search-only",
            description = "With --search: skip the plain training steps (e.g. for DiT-XL/2 memory).")
    boolean searchOnly;

    @Option(
            names = "--steps",
            defaultValue = "6",
            description = "With --search: steps per run, the first dropped (${DEFAULT-VALUE}).")
    int steps;

    @Option(
            names = "--rounds",
            defaultValue = "2",
            description = "With --search: alternating plain/search rounds (${DEFAULT-VALUE}).")
    int rounds;

    @Override
    public void run() {
        if (searchPattern != null) {
            searchBench();
            return;
        }
        Device device = model.device();
        Engine.getInstance().setRandomSeed(0);
        try (NDManager manager = NDManager.newBaseManager(device)) {
            DiT full = model.load(manager);
            DiT half = noHalf ? null : LayerSubset.keep(full, LayerSubset.everyOther(full.depth()), manager);
            System.out.printf(
                    Locale.ROOT,
                    "model: %s%n  %s%n  parameters %,d, %.2f GMACs/image; device %s, %s threads%n",
                    model.describe(),
                    full.config(),
                    full.parameterCount(),
                    Flops.macsPerImage(full.config()) / 1e9,
                    device,
                    System.getProperty("ai.djl.pytorch.num_threads"));
            double mm = SpeedBench.matmulGflops(manager, 1024, 5);
            System.out.printf(Locale.ROOT, "matmul 1024^3: %.1f GFLOP/s%n", mm);
            SpeedBench.Plan plan = new SpeedBench.Plan(warmup, iters, !noBackward, true);
            System.out.printf(
                    Locale.ROOT,
                    "%-7s %5s %6s %12s %12s %12s %10s %9s%n",
                    "model",
                    "depth",
                    "batch",
                    "fwd img/s",
                    "train img/s",
                    "cfg steps/s",
                    "fwd GFLOP/s",
                    "% matmul");
            for (int b : batches) {
                SpeedBench.Timing tf = SpeedBench.measure(full, b, plan);
                print("full", full, tf, mm);
                if (half != null) {
                    SpeedBench.Timing th = SpeedBench.measure(half, b, plan);
                    print("half", half, th, mm);
                    System.out.printf(
                            Locale.ROOT,
                            "  speedup %d→%d at batch %d: forward %.2fx, train %.2fx, cfg sampling %.2fx%n",
                            full.depth(),
                            half.depth(),
                            b,
                            tf.forwardSec() / th.forwardSec(),
                            tf.trainSec() / th.trainSec(),
                            tf.cfgStepSec() / th.cfgStepSec());
                }
            }
            System.out.printf(
                    Locale.ROOT,
                    "peak RSS %.2f GiB%n",
                    ai.tinyfusion.util.ProcessStats.peakRssBytes() / (double) (1L << 30));
        }
    }

    private void searchBench() {
        int batch = batches.get(0);
        LearnedPruning.Options o = new LearnedPruning.Options()
                .pattern(searchPattern)
                .delta(DeltaMode.parse(delta))
                .seed(model.seed);
        Function<NDManager, DiT> factory = m -> model.load(m);
        try {
            Path work = Files.createTempDirectory("tinyfusion-bench");
            try {
                System.out.printf(
                        Locale.ROOT,
                        "model %s, batch %d, pattern %s, delta %s: %d rounds of %d steps%n",
                        model.describe(),
                        batch,
                        searchPattern,
                        delta,
                        rounds,
                        steps);
                SearchStepBench.Result r = SearchStepBench.run(factory, batch, o, steps, rounds, !searchOnly, work);
                if (!searchOnly) {
                    System.out.printf(
                            Locale.ROOT,
                            "plain training step %.3f s, search step %.3f s: ratio %.3f%n",
                            r.trainSec(),
                            r.searchSec(),
                            r.ratio());
                } else {
                    System.out.printf(Locale.ROOT, "search step %.3f s%n", r.searchSec());
                }
                System.out.printf(Locale.ROOT, "peak RSS %.2f GiB%n", r.peakRssBytes() / (double) (1L << 30));
            } finally {
                try (var files = Files.walk(work)) {
                    files.sorted(java.util.Comparator.reverseOrder())
                            .forEach(p -> p.toFile().delete());
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void print(String name, DiT m, SpeedBench.Timing t, double matmulGflops) {
        double gflops = 2.0 * Flops.macsPerImage(m.config()) * t.forwardImagesPerSec() / 1e9;
        System.out.printf(
                Locale.ROOT,
                "%-7s %5d %6d %12.3f %12.3f %12.3f %10.1f %8.0f%%%n",
                name,
                m.depth(),
                t.batch(),
                t.forwardImagesPerSec(),
                t.trainImagesPerSec(),
                t.cfgStepsPerSec(),
                gflops,
                100 * gflops / matmulGflops);
    }
}
