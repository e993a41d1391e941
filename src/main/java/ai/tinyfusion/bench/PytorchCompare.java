package ai.tinyfusion.bench;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.tinyfusion.model.dit.DiT;
import ai.tinyfusion.model.dit.DiTConfig;
import ai.tinyfusion.nn.Parameter;
import com.google.gson.Gson;
import com.google.gson.JsonObject;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Same-run comparison with the original PyTorch DiT: tools/bench/dit_forward_bench.py runs
 * facebookresearch/DiT's {@code models.py} in a child process that stays up, and each measurement
 * alternates one call here with one call there, so both sides see the same machine load. Both sides
 * draw the same N(0, 0.02) weights from one seed; a probe forward checks that they compute the same
 * function before anything is timed.
 */
public final class PytorchCompare implements AutoCloseable {
    /** One measured case: a forward of {@code batch} rows or a CFG call for {@code batch} images. */
    public record Case(boolean cfg, int batch) {
        String command() {
            return (cfg ? "cfg " : "fwd ") + batch;
        }

        String label() {
            return cfg ? "CFG call, " + batch + " images (" + 2 * batch + " rows)" : "forward, batch " + batch;
        }
    }

    /** Medians of both sides for one case. */
    public record Result(Case c, double oursSec, double theirsSec) {
        /** How many times faster ours is (theirs / ours). */
        public double speedup() {
            return theirsSec / oursSec;
        }
    }

    private final DiT model;
    private final int seed;
    private final Process python;
    private final BufferedReader fromPython;
    private final Writer toPython;
    private final JsonObject ready;

    /**
     * Starts the Python side for {@code model}'s architecture and gives both models the same random weights.
     *
     * @param modelsPy facebookresearch/DiT's models.py
     */
    public PytorchCompare(DiT model, Path python, Path script, Path modelsPy, int seed, int threads)
            throws IOException {
        this.model = model;
        this.seed = seed;
        redrawWeights(model, seed);
        ProcessBuilder pb = new ProcessBuilder(
                        python.toString(),
                        script.toString(),
                        "--models-py",
                        modelsPy.toString(),
                        "--config",
                        configJson(model.config()),
                        "--seed",
                        Integer.toString(seed),
                        "--threads",
                        Integer.toString(threads))
                .redirectError(ProcessBuilder.Redirect.INHERIT);
        // Debian's torch picks generic OpenBLAS kernels and adds BLAS threads of its own unless told (djl-notes).
        pb.environment().put("OPENBLAS_CORETYPE", "SkylakeX");
        pb.environment().put("OPENBLAS_NUM_THREADS", "1");
        this.python = pb.start();
        this.fromPython =
                new BufferedReader(new InputStreamReader(this.python.getInputStream(), StandardCharsets.UTF_8));
        this.toPython = new OutputStreamWriter(this.python.getOutputStream(), StandardCharsets.UTF_8);
        this.ready = readJson("start-up");
    }

    /** What the Python side reported when ready (torch version, threads, parameter count). */
    public JsonObject ready() {
        return ready;
    }

    /** Every parameter but the fixed pos_embed as N(0, 0.02), in state-dict order, from {@code seed}. */
    static void redrawWeights(DiT model, int seed) {
        Engine.getInstance().setRandomSeed(seed);
        for (Map.Entry<String, Parameter> e : model.namedParameters().entrySet()) {
            if (!e.getKey().equals("pos_embed")) {
                Parameter p = e.getValue();
                p.overwrite(model.manager().randomNormal(0f, 0.02f, p.value().getShape(), DataType.FLOAT32));
            }
        }
    }

    static String configJson(DiTConfig c) {
        JsonObject o = new JsonObject();
        o.addProperty("input_size", c.inputSize());
        o.addProperty("patch_size", c.patchSize());
        o.addProperty("in_channels", c.inChannels());
        o.addProperty("hidden_size", c.hiddenSize());
        o.addProperty("depth", c.depth());
        o.addProperty("num_heads", c.numHeads());
        o.addProperty("mlp_ratio", c.mlpRatio());
        o.addProperty("class_dropout_prob", c.classDropoutProb());
        o.addProperty("num_classes", c.numClasses());
        o.addProperty("learn_sigma", c.learnSigma());
        return new Gson().toJson(o);
    }

    /** The shared inputs: x ~ randn from seed + 1, t_i = 137·i mod 1000, y_i = i mod classes. */
    private NDArray[] inputs(NDManager m, int rows) {
        DiTConfig c = model.config();
        Engine.getInstance().setRandomSeed(seed + 1);
        NDArray x = m.randomNormal(new Shape(rows, c.inChannels(), c.inputSize(), c.inputSize()));
        long[] t = new long[rows];
        long[] y = new long[rows];
        for (int i = 0; i < rows; i++) {
            t[i] = (137L * i) % 1000;
            y[i] = i % c.numClasses();
        }
        return new NDArray[] {x, m.create(t), m.create(y)};
    }

    /**
     * The largest difference between the two sides' outputs on the probe input (first 8 values and the mean
     * absolute value), relative to that mean.
     */
    public double probe(int rows) throws IOException {
        JsonObject theirs = ask("probe " + rows);
        try (NDManager m = model.manager().newSubManager()) {
            model.useIn(m);
            NDArray[] in = inputs(m, rows);
            NDArray out = model.forward(in[0], in[1], in[2]);
            float[] head = out.flatten().get("0:8").toFloatArray();
            double absMean = out.abs().mean().getFloat();
            double worst = Math.abs(absMean - theirs.get("abs_mean").getAsDouble());
            for (int i = 0; i < head.length; i++) {
                worst = Math.max(
                        worst,
                        Math.abs(head[i] - theirs.getAsJsonArray("head").get(i).getAsDouble()));
            }
            return worst / absMean;
        }
    }

    private double ours(Case c) {
        try (NDManager m = model.manager().newSubManager()) {
            model.useIn(m);
            NDArray[] in = inputs(m, c.cfg() ? 2 * c.batch() : c.batch());
            long t0 = System.nanoTime();
            NDArray out =
                    c.cfg() ? model.forwardWithCfg(in[0], in[1], in[2], 4.0, 3) : model.forward(in[0], in[1], in[2]);
            out.sum().getFloat();
            return (System.nanoTime() - t0) / 1e9;
        }
    }

    private double theirs(Case c) throws IOException {
        return ask(c.command()).get("sec").getAsDouble();
    }

    /** {@code warmup} untimed calls on each side, then {@code rounds} alternating pairs; medians. */
    public Result measure(Case c, int warmup, int rounds) throws IOException {
        for (int i = 0; i < warmup; i++) {
            ours(c);
            theirs(c);
        }
        double[] a = new double[rounds];
        double[] b = new double[rounds];
        for (int r = 0; r < rounds; r++) {
            // Alternate which side goes first so that a slow spell does not always hit the same one.
            if (r % 2 == 0) {
                a[r] = ours(c);
                b[r] = theirs(c);
            } else {
                b[r] = theirs(c);
                a[r] = ours(c);
            }
        }
        return new Result(c, SpeedBench.median(a), SpeedBench.median(b));
    }

    /** Prints one table line per result. */
    public static String table(List<Result> results) {
        List<String> lines = new ArrayList<>();
        lines.add(String.format(Locale.ROOT, "%-36s %12s %12s %10s", "case", "ours s", "PyTorch s", "speedup"));
        for (Result r : results) {
            lines.add(String.format(
                    Locale.ROOT, "%-36s %12.4f %12.4f %9.2fx", r.c().label(), r.oursSec(), r.theirsSec(), r.speedup()));
        }
        return String.join("\n", lines) + "\n";
    }

    private JsonObject ask(String command) throws IOException {
        toPython.write(command + "\n");
        toPython.flush();
        return readJson(command);
    }

    private JsonObject readJson(String what) throws IOException {
        String line = fromPython.readLine();
        if (line == null || !line.startsWith("{")) {
            throw new IOException("PyTorch side gave no result for '" + what + "' (exit "
                    + (python.isAlive() ? "none yet" : python.exitValue()) + "): " + line);
        }
        return new Gson().fromJson(line, JsonObject.class);
    }

    @Override
    public void close() {
        try {
            toPython.write("quit\n");
            toPython.flush();
        } catch (IOException ignored) {
            // already gone
        }
        try {
            if (!python.waitFor(30, java.util.concurrent.TimeUnit.SECONDS)) {
                python.destroyForcibly();
            }
        } catch (InterruptedException e) {
            python.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }
}
