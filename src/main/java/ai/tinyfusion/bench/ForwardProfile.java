package ai.tinyfusion.bench;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.tinyfusion.model.dit.DiT;
import ai.tinyfusion.model.dit.DiTConfig;
import ai.tinyfusion.nn.OpProfile;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Where a DiT forward pass spends its time ({@code bench --profile}), and an honest roofline: the
 * model's own matmul shapes timed alone after warm-up on the same threads, so that "share of the
 * roofline" compares the model with what the BLAS reaches on exactly its work.
 */
public final class ForwardProfile {
    private ForwardProfile() {}

    /** Seconds per call by op kind, the total, and the estimated JNI cost. */
    public record Profile(
            int rows, boolean cfg, double totalSec, Map<OpProfile.Kind, Double> kindSec, long ops, double jniSecPerOp) {
        public double restSec() {
            return totalSec
                    - kindSec.values().stream().mapToDouble(Double::doubleValue).sum();
        }

        public String table() {
            StringBuilder sb = new StringBuilder();
            sb.append(String.format(
                    Locale.ROOT,
                    "profile of one %s call on %d rows: %.3f s%n",
                    cfg ? "CFG denoising" : "forward",
                    rows,
                    totalSec));
            kindSec.forEach((k, v) -> sb.append(
                    String.format(Locale.ROOT, "  %-52s %9.4f s %6.1f%%%n", k.label(), v, 100 * v / totalSec)));
            sb.append(String.format(
                    Locale.ROOT,
                    "  %-52s %9.4f s %6.1f%%%n",
                    "everything else (embedders, final layer, scopes, Java)",
                    restSec(),
                    100 * restSec() / totalSec));
            double jni = ops * jniSecPerOp;
            sb.append(String.format(
                    Locale.ROOT,
                    "  JNI/dispatch estimate: %d profiled calls x %.2f us = %.4f s (%.2f%%), included above%n",
                    ops,
                    jniSecPerOp * 1e6,
                    jni,
                    100 * jni / totalSec));
            return sb.toString();
        }
    }

    /** Profiles {@code iters} calls (after {@code warmup}) of forward (or the CFG call) on {@code batch} images. */
    public static Profile profile(DiT model, int batch, boolean cfg, int warmup, int iters) {
        for (int i = 0; i < warmup; i++) {
            call(model, batch, cfg);
        }
        double total = 0;
        OpProfile.start();
        try {
            for (int i = 0; i < iters; i++) {
                total += call(model, batch, cfg);
            }
        } finally {
            OpProfile.stop();
        }
        Map<OpProfile.Kind, Double> kinds = new LinkedHashMap<>();
        OpProfile.seconds().forEach((k, v) -> kinds.put(k, v / iters));
        long ops = OpProfile.ops().values().stream().mapToLong(Long::longValue).sum() / iters;
        return new Profile(cfg ? 2 * batch : batch, cfg, total / iters, kinds, ops, jniSecondsPerOp(model.manager()));
    }

    private static double call(DiT model, int batch, boolean cfg) {
        if (cfg) {
            return SpeedBench.cfgStepSeconds(model, batch);
        }
        try (NDManager step = model.manager().newSubManager()) {
            model.useIn(step);
            SpeedBench.Inputs in = SpeedBench.Inputs.random(step, model.config(), batch);
            long t0 = System.nanoTime();
            model.forward(in.x(), in.t(), in.y()).sum().getFloat();
            return (System.nanoTime() - t0) / 1e9;
        }
    }

    /** Median seconds of a libtorch call whose work is nil (a 1-element add): the per-call overhead. */
    static double jniSecondsPerOp(NDManager manager) {
        try (NDManager m = manager.newSubManager()) {
            NDArray a = m.ones(new Shape(1));
            double[] t = new double[15];
            for (int r = 0; r < t.length; r++) {
                long t0 = System.nanoTime();
                for (int i = 0; i < 2000; i++) {
                    a.add(a).close();
                }
                t[r] = (System.nanoTime() - t0) / 1e9 / 2000;
            }
            return SpeedBench.median(t);
        }
    }

    /** One matmul shape of the forward pass: (m × k) · (k × n), {@code count} times per call, batched {@code b}. */
    public record Shape3(String name, long b, long m, long k, long n, int count) {
        double flops() {
            return 2.0 * b * m * k * n * count;
        }
    }

    /** The matmuls of one forward pass of {@code rows} images (per block × depth, plus the final layer). */
    public static List<Shape3> matmulShapes(DiTConfig c, int depth, int rows) {
        long d = c.hiddenSize();
        long t = c.numPatches();
        long tok = rows * t;
        long hd = d / c.numHeads();
        long bh = (long) rows * c.numHeads();
        long pp = (long) c.patchSize() * c.patchSize();
        List<Shape3> s = new ArrayList<>();
        s.add(new Shape3("qkv", 1, tok, d, 3 * d, depth));
        s.add(new Shape3("proj", 1, tok, d, d, depth));
        s.add(new Shape3("fc1", 1, tok, d, c.mlpHidden(), depth));
        s.add(new Shape3("fc2", 1, tok, c.mlpHidden(), d, depth));
        s.add(new Shape3("adaLN", 1, rows, d, 6 * d, depth));
        s.add(new Shape3("q k^T", bh, t, hd, t, depth));
        s.add(new Shape3("attn v", bh, t, t, hd, depth));
        s.add(new Shape3("patch embed", 1, tok, c.inChannels() * pp, d, 1));
        s.add(new Shape3("final", 1, tok, d, pp * c.outChannels(), 1));
        return s;
    }

    /** The roofline: each shape timed alone (median of {@code iters} after warm-up). */
    public record Roofline(List<Shape3> shapes, double[] secPerCall, double flops) {
        /** Seconds per forward if every matmul ran at its probed speed and nothing else cost time. */
        public double idealSec() {
            double s = 0;
            for (int i = 0; i < shapes.size(); i++) {
                s += secPerCall[i] * shapes.get(i).count();
            }
            return s;
        }

        public double gflops() {
            return flops / idealSec() / 1e9;
        }

        public String table(double forwardSec) {
            StringBuilder sb =
                    new StringBuilder("roofline: the model's matmul shapes, each timed alone after warm-up\n");
            for (int i = 0; i < shapes.size(); i++) {
                Shape3 s = shapes.get(i);
                sb.append(String.format(
                        Locale.ROOT,
                        "  %-12s %4d x (%6d x %5d) x (%5d x %5d)  x%-3d %8.1f GFLOP/s%n",
                        s.name(),
                        s.b(),
                        s.m(),
                        s.k(),
                        s.k(),
                        s.n(),
                        s.count(),
                        s.flops() / s.count() / secPerCall[i] / 1e9));
            }
            sb.append(String.format(
                    Locale.ROOT,
                    "  matmul-only time %.3f s (%.1f GFLOP/s over the model's %.1f GFLOP); the forward took %.3f s: "
                            + "%.0f%% of the roofline%n",
                    idealSec(),
                    gflops(),
                    flops / 1e9,
                    forwardSec,
                    100 * idealSec() / forwardSec));
            return sb.toString();
        }
    }

    public static Roofline roofline(NDManager manager, DiTConfig c, int depth, int rows, int warmup, int iters) {
        List<Shape3> shapes = matmulShapes(c, depth, rows);
        double[] sec = new double[shapes.size()];
        double flops = 0;
        for (int i = 0; i < shapes.size(); i++) {
            Shape3 s = shapes.get(i);
            flops += s.flops();
            try (NDManager m = manager.newSubManager()) {
                NDArray a = s.b() == 1
                        ? m.randomNormal(new Shape(s.m(), s.k()))
                        : m.randomNormal(new Shape(s.b(), s.m(), s.k()));
                // Linear layers multiply by Wᵀ with W (out, in), as the model does; attention is a batched matmul.
                NDArray w = s.b() == 1
                        ? m.randomNormal(new Shape(s.n(), s.k()))
                        : m.randomNormal(new Shape(s.b(), s.k(), s.n()));
                NDArray bias = m.zeros(new Shape(s.n()));
                double[] t = new double[iters];
                for (int r = -warmup; r < iters; r++) {
                    long t0 = System.nanoTime();
                    NDArray out = s.b() == 1 ? ai.tinyfusion.nn.Linear.linear(a, w, bias) : a.matMul(w);
                    out.close();
                    if (r >= 0) {
                        t[r] = (System.nanoTime() - t0) / 1e9;
                    }
                }
                sec[i] = SpeedBench.median(t);
            }
        }
        return new Roofline(shapes, sec, flops);
    }
}
