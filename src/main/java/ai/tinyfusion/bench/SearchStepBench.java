package ai.tinyfusion.bench;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDManager;
import ai.tinyfusion.data.Batcher;
import ai.tinyfusion.data.Dataset;
import ai.tinyfusion.data.Sample;
import ai.tinyfusion.diffusion.DiffusionFactory;
import ai.tinyfusion.model.dit.DiT;
import ai.tinyfusion.model.dit.DiTConfig;
import ai.tinyfusion.prune.LearnedPruning;
import ai.tinyfusion.train.DiffusionTask;
import ai.tinyfusion.train.LrSchedule;
import ai.tinyfusion.train.TrainLoop;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.Function;

/**
 * Benchmark: one learnable-search step (gated forward, LoRA/full/none update, gates, EMA) against one
 * plain training step of the full model at the same batch, both through the real {@link TrainLoop}
 * on synthetic data. Rounds alternate plain and search runs so a noisy machine affects both alike;
 * each run's first step (warm-up) is dropped and the medians of the per-step wall times compared.
 */
public final class SearchStepBench {
    private SearchStepBench() {}

    /**
     * Median seconds per step; {@code trainSec} is NaN when the plain run was skipped.
     *
     * @param peakRssBytes the process's peak RSS after the runs
     */
    public record Result(double trainSec, double searchSec, long peakRssBytes) {
        public double ratio() {
            return searchSec / trainSec;
        }
    }

    /**
     * @param newModel builds a fresh copy of the model to benchmark in the given manager (the same
     *     weights each call)
     * @param options the search settings; its logging, checkpoint and progress settings are overwritten
     * @param compareTrain also time plain training steps (needs memory for a second model, its AdamW
     *     state and EMA)
     */
    public static Result run(
            Function<NDManager, DiT> newModel,
            int batch,
            LearnedPruning.Options options,
            int steps,
            int rounds,
            boolean compareTrain,
            Path workDir)
            throws IOException {
        if (steps < 2 || rounds < 1) {
            throw new IllegalArgumentException(
                    "need at least 2 steps per run and 1 round, got " + steps + " and " + rounds);
        }
        List<Double> train = new ArrayList<>();
        List<Double> search = new ArrayList<>();
        for (int r = 0; r < rounds; r++) {
            if (compareTrain) {
                try (NDManager m = NDManager.newBaseManager()) {
                    DiT model = newModel.apply(m);
                    Path dir = Files.createDirectories(workDir.resolve("train-" + r));
                    TrainLoop.Settings s = new TrainLoop.Settings(
                            steps,
                            LrSchedule.constant(options.lr),
                            options.clipNorm,
                            options.emaDecay,
                            0,
                            1,
                            1,
                            options.seed,
                            false);
                    new TrainLoop(
                                    new DiffusionTask(model, DiffusionFactory.create(""), 0),
                                    batcher(model.config(), batch),
                                    s,
                                    dir)
                            .run(null);
                    train.addAll(stepSeconds(dir.resolve("metrics.csv")));
                }
            }
            try (NDManager m = NDManager.newBaseManager()) {
                DiT model = newModel.apply(m);
                Path dir = Files.createDirectories(workDir.resolve("search-" + r));
                options.logEvery(1).checkpoints(0, 1).progress(false);
                LearnedPruning.search(model, batcher(model.config(), batch), steps, options, dir, null, null);
                search.addAll(stepSeconds(dir.resolve("metrics.csv")));
            }
        }
        double t = compareTrain ? median(train) : Double.NaN;
        return new Result(t, median(search), ai.tinyfusion.util.ProcessStats.peakRssBytes());
    }

    /** Per-step wall times from a metrics CSV logged every step, without the first (warm-up) step. */
    static List<Double> stepSeconds(Path csv) throws IOException {
        List<String> lines = Files.readAllLines(csv);
        List<Double> out = new ArrayList<>();
        double prev = Double.NaN;
        for (int i = 1; i < lines.size(); i++) {
            double s = Double.parseDouble(lines.get(i).split(",")[1]);
            if (i > 1) {
                out.add(s - prev);
            }
            prev = s;
        }
        return out;
    }

    private static double median(List<Double> v) {
        return SpeedBench.median(v.stream().mapToDouble(Double::doubleValue).toArray());
    }

    /** Seeded synthetic batches of the model's input shape (N(0,1) values, uniform labels). */
    static Batcher batcher(DiTConfig c, int batch) {
        return Batcher.builder(new Synthetic(c, Math.max(batch * 4, 64)), batch)
                .seed(0)
                .build();
    }

    /** N(0,1) images of a config's shape with uniform labels; item i is the same on every call. */
    record Synthetic(DiTConfig c, int size) implements Dataset {
        @Override
        public int channels() {
            return c.inChannels();
        }

        @Override
        public int height() {
            return c.inputSize();
        }

        @Override
        public int width() {
            return c.inputSize();
        }

        @Override
        public int numClasses() {
            return c.numClasses();
        }

        @Override
        public Sample get(int index, boolean hflip) {
            SplittableRandom rng = new SplittableRandom(index);
            float[] x = new float[c.inChannels() * c.inputSize() * c.inputSize()];
            for (int i = 0; i < x.length; i++) {
                x[i] = (float) rng.nextGaussian();
            }
            return new Sample(x, rng.nextInt(c.numClasses()));
        }
    }

    /** A factory of identical random-init models of {@code config} (the same seed every call). */
    public static Function<NDManager, DiT> randomInit(DiTConfig config, long seed) {
        return m -> {
            Engine.getInstance().setRandomSeed((int) seed);
            return new DiT(m, config);
        };
    }
}
