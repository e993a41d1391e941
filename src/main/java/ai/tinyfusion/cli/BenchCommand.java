package ai.tinyfusion.cli;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDManager;
import ai.tinyfusion.eval.SpeedBench;
import ai.tinyfusion.model.DiT;
import ai.tinyfusion.model.Flops;
import ai.tinyfusion.model.LayerSubset;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.util.List;
import java.util.Locale;

/** {@code tinyfusion bench}: throughput of a model and of its depth-halved version, in one run. */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = "Forward, forward+backward and CFG sampling throughput of a model and of the same model "
                + "with every other block (depth halved), measured interleaved in one run; plus a 1024^3 matmul.")
public final class BenchCommand implements Runnable {
    @Mixin
    ModelOptions model;

    @Option(names = "--batch", split = ",", defaultValue = "1,2", description = "Batch sizes (default: ${DEFAULT-VALUE}).")
    List<Integer> batches;

    @Option(names = "--iters", defaultValue = "5", description = "Timed iterations per measurement (median reported).")
    int iters;

    @Option(names = "--warmup", defaultValue = "1", description = "Untimed iterations first.")
    int warmup;

    @Option(names = "--no-backward", description = "Skip forward+backward.")
    boolean noBackward;

    @Option(names = "--no-half", description = "Skip the depth-halved model.")
    boolean noHalf;

    @Override
    public void run() {
        Device device = model.device();
        Engine.getInstance().setRandomSeed(0);
        try (NDManager manager = NDManager.newBaseManager(device)) {
            DiT full = model.load(manager);
            DiT half = noHalf ? null : LayerSubset.keep(full, LayerSubset.everyOther(full.depth()), manager);
            System.out.printf(Locale.ROOT, "model: %s%n  %s%n  parameters %,d, %.2f GMACs/image; device %s, %s threads%n",
                    model.describe(), full.config(), full.parameterCount(),
                    Flops.macsPerImage(full.config()) / 1e9, device,
                    System.getProperty("ai.djl.pytorch.num_threads"));
            double mm = SpeedBench.matmulGflops(manager, 1024, 5);
            System.out.printf(Locale.ROOT, "matmul 1024^3: %.1f GFLOP/s%n", mm);
            SpeedBench.Plan plan = new SpeedBench.Plan(warmup, iters, !noBackward, true);
            System.out.printf(Locale.ROOT, "%-7s %5s %6s %12s %12s %12s %10s %9s%n", "model", "depth", "batch",
                    "fwd img/s", "train img/s", "cfg steps/s", "fwd GFLOP/s", "% matmul");
            for (int b : batches) {
                SpeedBench.Timing tf = SpeedBench.measure(full, b, plan);
                print("full", full, tf, mm);
                if (half != null) {
                    SpeedBench.Timing th = SpeedBench.measure(half, b, plan);
                    print("half", half, th, mm);
                    System.out.printf(Locale.ROOT, "  speedup %d→%d at batch %d: forward %.2fx, train %.2fx, cfg sampling %.2fx%n",
                            full.depth(), half.depth(), b, tf.forwardSec() / th.forwardSec(),
                            tf.trainSec() / th.trainSec(), tf.cfgStepSec() / th.cfgStepSec());
                }
            }
            System.out.printf(Locale.ROOT, "peak RSS %.2f GiB%n", SpeedBench.peakRssBytes() / (double) (1L << 30));
        }
    }

    private static void print(String name, DiT m, SpeedBench.Timing t, double matmulGflops) {
        double gflops = 2.0 * Flops.macsPerImage(m.config()) * t.forwardImagesPerSec() / 1e9;
        System.out.printf(Locale.ROOT, "%-7s %5d %6d %12.3f %12.3f %12.3f %10.1f %8.0f%%%n", name, m.depth(), t.batch(),
                t.forwardImagesPerSec(), t.trainImagesPerSec(), t.cfgStepsPerSec(), gflops, 100 * gflops / matmulGflops);
    }
}
