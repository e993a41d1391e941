package ai.tinyfusion.bench;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import ai.tinyfusion.model.dit.DiT;
import ai.tinyfusion.model.dit.DiTConfig;
import ai.tinyfusion.nn.Grads;
import java.util.Arrays;
import java.util.List;

/**
 * Throughput of a DiT: forward, forward+backward and CFG sampling steps, timed on random inputs.
 * Medians over iterations; the caller interleaves models so that the ratio is measured in one run.
 */
public final class SpeedBench {
    private SpeedBench() {}

    /** Timings of one model at one batch size (seconds per call, medians). */
    public record Timing(int batch, double forwardSec, double trainSec, double cfgStepSec) {
        public double forwardImagesPerSec() {
            return batch / forwardSec;
        }

        public double trainImagesPerSec() {
            return trainSec > 0 ? batch / trainSec : Double.NaN;
        }

        /** Denoising steps per second for {@code batch} images with CFG (one call runs 2·batch rows). */
        public double cfgStepsPerSec() {
            return 1.0 / cfgStepSec;
        }
    }

    /** Which measurements to take. */
    public record Plan(int warmup, int iters, boolean backward, boolean cfg) {}

    /** Runs forward (and optionally fwd+bwd and CFG) timings on random inputs. */
    public static Timing measure(DiT model, int batch, Plan plan) {
        DiTConfig c = model.config();
        NDManager base = model.manager();
        double fwd = median(repeat(plan, () -> {
            try (NDManager step = base.newSubManager()) {
                model.useIn(step);
                Inputs in = Inputs.random(step, c, batch);
                long t0 = System.nanoTime();
                NDArray out = model.forward(in.x, in.t, in.y);
                out.toType(DataType.FLOAT32, false).sum().getFloat(); // forces completion
                return (System.nanoTime() - t0) / 1e9;
            }
        }));
        double train = -1;
        if (plan.backward()) {
            List<NDArray> params = model.trainableArrays();
            model.attachGradients();
            train = median(repeat(plan, () -> {
                try (NDManager step = base.newSubManager()) {
                    model.useIn(step);
                    Inputs in = Inputs.random(step, c, batch);
                    long t0 = System.nanoTime();
                    try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                        NDArray loss = model.forward(in.x, in.t, in.y).square().mean();
                        gc.backward(loss);
                    }
                    double dt = (System.nanoTime() - t0) / 1e9;
                    Grads.zero(params);
                    return dt;
                }
            }));
            for (NDArray p : params) {
                p.setRequiresGradient(false);
            }
        }
        double cfg = plan.cfg() ? median(repeat(plan, () -> cfgStepSeconds(model, batch))) : -1;
        return new Timing(batch, fwd, train, cfg);
    }

    /** Seconds of one classifier-free-guided denoising call for {@code batch} images (2·batch rows). */
    public static double cfgStepSeconds(DiT model, int batch) {
        try (NDManager step = model.manager().newSubManager()) {
            model.useIn(step);
            Inputs in = Inputs.random(step, model.config(), 2 * batch);
            long t0 = System.nanoTime();
            model.forwardWithCfg(
                            in.x, in.t, in.y, 4.0, Math.min(3, model.config().inChannels()))
                    .sum()
                    .getFloat();
            return (System.nanoTime() - t0) / 1e9;
        }
    }

    /**
     * Median seconds per CFG denoising call of each model at {@code batch}, measured round-robin
     * (round r times model 0, 1, ...) so that a noisy machine affects every model alike.
     */
    public static double[] interleavedCfgStepSeconds(List<DiT> models, int batch, int warmup, int rounds) {
        for (int w = 0; w < warmup; w++) {
            for (DiT m : models) {
                cfgStepSeconds(m, batch);
            }
        }
        double[][] t = new double[models.size()][rounds];
        for (int r = 0; r < rounds; r++) {
            for (int i = 0; i < models.size(); i++) {
                t[i][r] = cfgStepSeconds(models.get(i), batch);
            }
        }
        return Arrays.stream(t).mapToDouble(SpeedBench::median).toArray();
    }

    /** GFLOP/s of an n×n×n float32 matmul (2n³ flops), median of {@code iters}. */
    public static double matmulGflops(NDManager manager, int n, int iters) {
        try (NDManager m = manager.newSubManager()) {
            NDArray a = m.randomNormal(new Shape(n, n));
            NDArray b = m.randomNormal(new Shape(n, n));
            a.matMul(b).sum().getFloat();
            double[] times = new double[iters];
            for (int i = 0; i < iters; i++) {
                long t0 = System.nanoTime();
                try (NDArray c = a.matMul(b)) {
                    c.get(0, 0).getFloat();
                }
                times[i] = (System.nanoTime() - t0) / 1e9;
            }
            return 2.0 * n * n * n / median(times) / 1e9;
        }
    }

    interface Trial {
        double run();
    }

    private static double[] repeat(Plan plan, Trial trial) {
        for (int i = 0; i < plan.warmup(); i++) {
            trial.run();
        }
        double[] t = new double[plan.iters()];
        for (int i = 0; i < plan.iters(); i++) {
            t[i] = trial.run();
        }
        return t;
    }

    /** The median of {@code v} (mean of the middle two for an even count). */
    public static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        int n = s.length;
        return n % 2 == 1 ? s[n / 2] : 0.5 * (s[n / 2 - 1] + s[n / 2]);
    }

    /** Random inputs shaped for a config: x ~ N(0,1), t uniform in [0,1000), y uniform classes. */
    record Inputs(NDArray x, NDArray t, NDArray y) {
        static Inputs random(NDManager m, DiTConfig c, int n) {
            NDArray x = m.randomNormal(new Shape(n, c.inChannels(), c.inputSize(), c.inputSize()));
            NDArray t = m.randomInteger(0, 1000, new Shape(n), DataType.INT64);
            NDArray y = m.randomInteger(0, c.numClasses(), new Shape(n), DataType.INT64);
            return new Inputs(x, t, y);
        }
    }
}
