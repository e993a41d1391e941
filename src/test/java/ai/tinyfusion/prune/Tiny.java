package ai.tinyfusion.prune;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.tinyfusion.data.Batcher;
import ai.tinyfusion.data.Dataset;
import ai.tinyfusion.data.Sample;
import ai.tinyfusion.data.SplitMix64;
import ai.tinyfusion.diffusion.DiffusionFactory;
import ai.tinyfusion.io.HostTensor;
import ai.tinyfusion.io.Npy;
import ai.tinyfusion.model.dit.DiT;
import ai.tinyfusion.model.dit.DiTConfig;
import ai.tinyfusion.train.DiffusionTask;
import ai.tinyfusion.train.LrSchedule;
import ai.tinyfusion.train.TrainLoop;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.regex.Matcher;

/** Tiny models and data for the pruning tests (fast on two cores). */
public final class Tiny {
    private Tiny() {}

    /** 8×8 grey images, patch 2 (16 tokens), width 32, 2 heads, 4 classes, learned sigma, label dropout 0.1. */
    public static DiTConfig config(int depth) {
        return new DiTConfig(8, 2, 1, 32, depth, 2, 4.0, 4, true, 0.1);
    }

    /** A DiT of the tiny config, original init, then every block's adaLN set to random non-zero values. */
    public static DiT randomModel(NDManager m, int depth, int seed) {
        Engine.getInstance().setRandomSeed(seed);
        DiT d = new DiT(m, config(depth));
        return randomizeModulation(d);
    }

    /** Sets every block's adaLN and the output layer to random non-zero values (engine RNG), so blocks act. */
    public static DiT randomizeModulation(DiT d) {
        NDManager m = d.manager();
        int depth = d.depth();
        try (NDManager tmp = m.newSubManager()) {
            for (int i = 0; i < depth; i++) {
                var l = d.block(i).modulation();
                l.weight()
                        .set(tmp.randomNormal(
                                0f,
                                0.05f,
                                l.weight().value().getShape(),
                                l.weight().value().getDataType()));
                l.bias()
                        .set(tmp.randomNormal(
                                0f,
                                0.05f,
                                l.bias().value().getShape(),
                                l.bias().value().getDataType()));
            }
            var fin = d.stateDict();
            for (String k : new String[] {"final_layer.linear.weight", "final_layer.adaLN_modulation.1.weight"}) {
                NDArray v = fin.get(k);
                d.namedParameters().get(k).set(tmp.randomNormal(0f, 0.05f, v.getShape(), v.getDataType()));
            }
        }
        return d;
    }

    /**
     * Four classes of 8×8 images: each class a fixed smooth template (a bright bar whose position
     * and orientation depend on the class) plus a little per-sample noise, in [-1, 1].
     */
    public static Dataset data(int size) {
        float[][] images = new float[size][];
        int[] labels = new int[size];
        SplitMix64 rng = new SplitMix64(1234);
        for (int i = 0; i < size; i++) {
            int c = i % 4;
            float[] img = new float[64];
            for (int y = 0; y < 8; y++) {
                for (int x = 0; x < 8; x++) {
                    double pos = c < 2 ? y : x;
                    double centre = c % 2 == 0 ? 2 : 5;
                    double v = Math.exp(-(pos - centre) * (pos - centre) / 2.0) * 1.8 - 0.9;
                    img[y * 8 + x] = (float) Math.max(-1, Math.min(1, v + 0.1 * (rng.nextDouble() * 2 - 1)));
                }
            }
            images[i] = img;
            labels[i] = c;
        }
        return new Dataset() {
            @Override
            public int size() {
                return size;
            }

            @Override
            public int channels() {
                return 1;
            }

            @Override
            public int height() {
                return 8;
            }

            @Override
            public int width() {
                return 8;
            }

            @Override
            public int numClasses() {
                return 4;
            }

            @Override
            public Sample get(int index, boolean hflip) {
                float[] img = images[index];
                return new Sample(hflip ? Dataset.flipHorizontal(img, 1, 8, 8) : img.clone(), labels[index]);
            }
        };
    }

    /** A calibration set of {@code n} items of {@link #data}(64) in batches of {@code batch}. */
    static CalibrationSet calibration(int n, int batch, long seed) {
        return CalibrationSet.draw(data(64), n, batch, seed, "tiny");
    }

    /** {@link #calibration(int, int, long)} under another objective. */
    static CalibrationSet calibration(int n, int batch, long seed, ai.tinyfusion.diffusion.Objective objective) {
        return CalibrationSet.draw(data(64), n, batch, seed, "tiny", objective);
    }

    /**
     * {@code data(n)} written as a latent folder ({@code dir/imagenet256_features/i.npy}, {@code _labels/i.npy}),
     * the data layout the CLI reads without Fashion-MNIST; returns {@code dir}.
     */
    public static Path latentFolder(Path dir, int n) throws IOException {
        Dataset tiny = data(n);
        Path feats = java.nio.file.Files.createDirectories(dir.resolve("imagenet256_features"));
        Path labels = java.nio.file.Files.createDirectories(dir.resolve("imagenet256_labels"));
        for (int i = 0; i < tiny.size(); i++) {
            Npy.write(feats.resolve(i + ".npy"), HostTensor.ofFloats(tiny.get(i).image(), 1, 1, 8, 8));
            Npy.write(
                    labels.resolve(i + ".npy"),
                    HostTensor.ofLongs(new long[] {tiny.get(i).label()}, 1));
        }
        return dir;
    }

    public static Batcher batcher(Dataset d, int batch, long seed) {
        return Batcher.builder(d, batch).seed(seed).shuffle(true).dropLast(true).build();
    }

    /** A {@code depth}-block tiny DiT trained for {@code steps} steps on {@link #data} (lr 3e-3, batch 32). */
    public static DiT pretrained(NDManager m, int depth, long steps, Path runDir) throws IOException {
        DiT trained = randomModel(m, depth, 7);
        DiffusionTask task = new DiffusionTask(trained, DiffusionFactory.create(""), 0);
        TrainLoop.Settings s = new TrainLoop.Settings(steps, LrSchedule.constant(3e-3), 1.0, 0.9, 0, 0, 1, 5, false);
        new TrainLoop(task, batcher(data(256), 32, 5), s, runDir).run(null);
        for (var p : trained.namedParameters().values()) {
            p.value().setRequiresGradient(false);
        }
        return trained;
    }

    /**
     * The planted model: the blocks of {@code trained} at indices 2i + {@code phase}, and an exact
     * identity block (random attention/MLP weights, zero adaLN modulation, so both residual gates are
     * 0) in every other slot; all non-block weights from {@code trained}.
     */
    public static DiT interleave(NDManager m, DiT trained, int phase) {
        Engine.getInstance().setRandomSeed(11);
        DiT planted = new DiT(m, config(2 * trained.depth())); // original init: zero adaLN everywhere
        LinkedHashMap<String, NDArray> sd = new LinkedHashMap<>(planted.stateDict());
        java.util.regex.Pattern key = java.util.regex.Pattern.compile("^blocks\\.(\\d+)\\.(.*)$");
        trained.stateDict().forEach((k, v) -> {
            Matcher mt = key.matcher(k);
            sd.put(mt.matches() ? "blocks." + (2 * Integer.parseInt(mt.group(1)) + phase) + "." + mt.group(2) : k, v);
        });
        planted.loadStateDict(sd, true);
        return planted;
    }
}
