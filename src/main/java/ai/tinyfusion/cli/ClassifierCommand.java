package ai.tinyfusion.cli;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.tinyfusion.data.Batcher;
import ai.tinyfusion.data.FashionMnist;
import ai.tinyfusion.eval.ClassifierTask;
import ai.tinyfusion.eval.FeatureNet;
import ai.tinyfusion.eval.ReferenceStats;
import ai.tinyfusion.train.TrainLoop;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code tinyfusion classifier}: the Fashion-MNIST feature network used for evaluation (our
 * stand-in for Inception): train it, measure its test accuracy, compute feature statistics.
 */
@Command(
        name = "classifier",
        mixinStandardHelpOptions = true,
        description = "The evaluation feature network (a small Fashion-MNIST CNN standing in for Inception).",
        subcommands = {ClassifierCommand.Train.class, ClassifierCommand.Test.class, ClassifierCommand.Stats.class})
public final class ClassifierCommand implements Runnable {
    @Override
    public void run() {
        CommandLine.usage(this, System.out);
    }

    /** Fashion-MNIST location and device, shared by the subcommands. */
    static final class Common {
        @Option(
                names = "--data-dir",
                description = "Directory holding the Fashion-MNIST IDX .gz files "
                        + "(default: $FASHION_MNIST_DIR or /usr/share/datasets/fashion-mnist).")
        Path dataDir;

        @Option(
                names = "--device",
                defaultValue = "cpu",
                description = "cpu, or gpu / gpu:N with a CUDA libtorch (${DEFAULT-VALUE}).")
        String device;

        @Option(
                names = "--eval-batch",
                defaultValue = "" + FeatureNet.DEFAULT_BATCH,
                description = "Images per forward pass when evaluating (${DEFAULT-VALUE}).")
        int evalBatch;

        FashionMnist load(FashionMnist.Split split) throws IOException {
            return FashionMnist.load(DataOptions.fashionDir(dataDir), split);
        }

        Device device() {
            return Device.fromName(device);
        }
    }

    /** The whole Fashion-MNIST test split through {@code net}. */
    static FeatureNet.Summary summarizeTest(FeatureNet net, FashionMnist test, int batch, int limit) {
        int n = limit > 0 ? Math.min(limit, test.size()) : test.size();
        return net.summarize(test.images().pixels(), 0, n, test.height(), test.width(), 1, batch, false);
    }

    static int[] labels(FashionMnist data, int n) {
        return java.util.Arrays.copyOf(data.labels(), n);
    }

    /** {@code tinyfusion classifier train}. */
    @Command(
            name = "train",
            mixinStandardHelpOptions = true,
            description =
                    "Train the feature network on the Fashion-MNIST training split (cross-entropy, AdamW, cosine LR, "
                            + "optional random shifts), then measure it on the test split. Writes <run>/classifier.safetensors (architecture "
                            + "and test accuracy in the metadata) and <run>/fmnist-test-stats.npz (reference statistics of the "
                            + "test split), plus checkpoints and metrics.csv; resumable.")
    static final class Train implements Callable<Integer> {
        private static final Logger LOG = LoggerFactory.getLogger(Train.class);

        @CommandLine.Mixin
        Common common;

        @CommandLine.Mixin
        LoopOptions loop = new LoopOptions(5, 64, 5.0, 20, 500, 1);

        @CommandLine.Mixin
        OptimOptions optim = new OptimOptions(1e-3, "cosine", 0, 100, 1e-4, 0.0);

        @Option(
                names = "--seed",
                defaultValue = "0",
                description = "Seed of initialisation, data order and shifts (${DEFAULT-VALUE}).")
        long seed;

        @Option(
                names = "--shift",
                defaultValue = "0",
                description = "Random shift augmentation, up to N pixels per axis (${DEFAULT-VALUE} = none).")
        int shift;

        @Override
        public Integer call() throws Exception {
            if (loop.hflip != 0 || optim.emaDecay != 0 || optim.emaWarmup || !optim.snapshots.isEmpty()) {
                throw new IllegalArgumentException(
                        "classifier train: --hflip, --ema, --ema-warmup and --snapshots do not "
                                + "apply (the network is saved without EMA; --shift augments)");
            }
            Path runDir = optim.runDir;
            FashionMnist train = common.load(FashionMnist.Split.TRAIN);
            FashionMnist test = common.load(FashionMnist.Split.TEST);
            Files.createDirectories(runDir);
            long t0 = System.nanoTime();
            Engine.getInstance().setRandomSeed((int) seed);
            try (NDManager manager = NDManager.newBaseManager(common.device())) {
                FeatureNet net = new FeatureNet(manager).initialize();
                Batcher batcher = Batcher.builder(train, loop.batch)
                        .seed(seed)
                        .shuffle(true)
                        .dropLast(true)
                        .build();
                long total = loop.totalSteps(batcher);
                // As given (the metadata value of earlier runs); with --steps, the equivalent epochs.
                double epochs = loop.steps == null ? loop.epochs : (double) total / batcher.batchesPerEpoch();
                TrainLoop.Settings settings = optim.settings(loop, total, seed);
                ClassifierTask task = new ClassifierTask(net, optim.weightDecay, shift);
                LOG.info(
                        "training {} ({} parameters) on {} images: {} steps of {} ({} epochs)",
                        FeatureNet.ARCHITECTURE,
                        net.parameterCount(),
                        train.size(),
                        total,
                        loop.batch,
                        String.format(Locale.ROOT, "%.2f", epochs));
                TrainLoop trainer = new TrainLoop(task, batcher, settings, runDir);
                TrainLoop.Result r = trainer.run(optim.resume);
                trainer.ema().close();
                for (NDArray p : net.trainableArrays()) {
                    p.setRequiresGradient(false);
                }
                FeatureNet.Summary s = summarizeTest(net, test, common.evalBatch, 0);
                double acc = s.accuracy(test.labels());
                double seconds = (System.nanoTime() - t0) / 1e9;
                Map<String, String> meta = new LinkedHashMap<>();
                meta.put(FeatureNet.TEST_ACCURACY_KEY, String.format(Locale.ROOT, "%.4f", acc));
                meta.put("test_images", Integer.toString(test.size()));
                meta.put("train_steps", Long.toString(r.steps()));
                meta.put("epochs", Double.toString(epochs));
                meta.put("batch_size", Integer.toString(loop.batch));
                meta.put("seed", Long.toString(seed));
                meta.put(
                        "lr",
                        Double.toString(optim.lr) + " " + optim.lrSchedule + " to "
                                + optim.schedule().lrMin() + ", warmup " + optim.warmup);
                meta.put("weight_decay", Double.toString(optim.weightDecay));
                meta.put("max_shift", Integer.toString(shift));
                meta.put("wall_seconds", String.format(Locale.ROOT, "%.0f", seconds));
                Path model = runDir.resolve("classifier.safetensors");
                net.save(model, meta);
                Path stats = runDir.resolve(FeatureNet.SHIPPED_STATS);
                s.referenceStats().save(stats);
                TrainCommand.plotLoss(runDir);
                System.out.printf(
                        Locale.ROOT,
                        "test accuracy %.4f (%d images); %d steps, last loss %.4f, %.0f s; wrote %s and %s%n",
                        acc,
                        test.size(),
                        r.steps(),
                        r.lastLoss(),
                        seconds,
                        model,
                        stats);
            }
            return 0;
        }
    }

    /** {@code tinyfusion classifier test}. */
    @Command(
            name = "test",
            mixinStandardHelpOptions = true,
            description = "Test accuracy of a feature network on the Fashion-MNIST test split (overall and per class).")
    static final class Test implements Callable<Integer> {
        @CommandLine.Mixin
        Common common;

        @Option(
                names = "--model",
                description =
                        "The network (.safetensors); default: the shipped models/" + FeatureNet.SHIPPED_MODEL + ".")
        Path model;

        @Option(
                names = "--limit",
                defaultValue = "0",
                description = "Only the first N test images (${DEFAULT-VALUE} = all).")
        int limit;

        @Override
        public Integer call() throws Exception {
            FashionMnist test = common.load(FashionMnist.Split.TEST);
            try (NDManager manager = NDManager.newBaseManager(common.device())) {
                Path file = model != null ? model : FeatureNet.locateShipped(FeatureNet.SHIPPED_MODEL);
                FeatureNet net = FeatureNet.load(file, manager);
                long t0 = System.nanoTime();
                FeatureNet.Summary s = summarizeTest(net, test, common.evalBatch, limit);
                int n = s.count();
                int[] labels = labels(test, n);
                int[] right = new int[FeatureNet.NUM_CLASSES];
                int[] seen = new int[FeatureNet.NUM_CLASSES];
                for (int i = 0; i < n; i++) {
                    seen[labels[i]]++;
                    if (s.predicted()[i] == labels[i]) {
                        right[labels[i]]++;
                    }
                }
                System.out.printf(
                        Locale.ROOT,
                        "%s: test accuracy %.4f (%d images, %.1f s)%n",
                        file,
                        s.accuracy(labels),
                        n,
                        (System.nanoTime() - t0) / 1e9);
                for (int k = 0; k < FeatureNet.NUM_CLASSES; k++) {
                    System.out.printf(
                            Locale.ROOT,
                            "  %-12s %.4f (%d)%n",
                            FashionMnist.CLASS_NAMES.get(k),
                            seen[k] == 0 ? Double.NaN : (double) right[k] / seen[k],
                            seen[k]);
                }
            }
            return 0;
        }
    }

    /** {@code tinyfusion classifier stats}. */
    @Command(
            name = "stats",
            mixinStandardHelpOptions = true,
            description =
                    "Feature statistics (pooled → mu/sigma, spatial → mu_s/sigma_s, count) of an image set under a "
                            + "feature network, as an npz; optionally FID/sFID against reference statistics.")
    static final class Stats implements Callable<Integer> {
        @CommandLine.Mixin
        Common common;

        @Option(
                names = "--model",
                description =
                        "The network (.safetensors); default: the shipped models/" + FeatureNet.SHIPPED_MODEL + ".")
        Path model;

        @Option(
                names = "--images",
                defaultValue = "fashion-mnist-test",
                description =
                        "fashion-mnist-test, fashion-mnist (train split) or an ADM-style sample .npz (arr_0: uint8 NHWC) "
                                + "(${DEFAULT-VALUE}).")
        String images;

        @Option(
                names = "--limit",
                defaultValue = "0",
                description = "Only the first N images (${DEFAULT-VALUE} = all).")
        int limit;

        @Option(names = "--out", description = "Where to write the statistics npz.")
        Path out;

        @Option(
                names = "--ref",
                description = "Reference statistics npz to report FID and sFID against " + "(\"shipped\" for models/"
                        + FeatureNet.SHIPPED_STATS + ").")
        String ref;

        @Override
        public Integer call() throws Exception {
            try (NDManager manager = NDManager.newBaseManager(common.device())) {
                Path file = model != null ? model : FeatureNet.locateShipped(FeatureNet.SHIPPED_MODEL);
                FeatureNet net = FeatureNet.load(file, manager);
                FeatureNet.Summary s;
                int[] labels = null;
                if (images.equals("fashion-mnist-test") || images.equals("fashion-mnist")) {
                    FashionMnist data =
                            common.load(images.endsWith("test") ? FashionMnist.Split.TEST : FashionMnist.Split.TRAIN);
                    s = summarizeTest(net, data, common.evalBatch, limit);
                    labels = labels(data, s.count());
                } else {
                    if (limit > 0) {
                        throw new IllegalArgumentException("--limit applies to the Fashion-MNIST splits only");
                    }
                    s = net.summarizeNpz(Path.of(images), common.evalBatch, false);
                }
                System.out.printf(
                        Locale.ROOT,
                        "%s: %d images%s%n",
                        images,
                        s.count(),
                        labels == null ? "" : String.format(Locale.ROOT, ", accuracy %.4f", s.accuracy(labels)));
                if (out != null) {
                    s.referenceStats().save(out);
                    System.out.println("wrote " + out);
                }
                if (ref != null) {
                    ReferenceStats r =
                            ref.equals("shipped") ? FeatureNet.loadShippedStats() : ReferenceStats.load(Path.of(ref));
                    System.out.printf(
                            Locale.ROOT,
                            "FID %.4f  sFID %.4f  (against %s, %d images)%n",
                            r.fid(s.pooledStats()),
                            r.sfid(s.spatialStats()),
                            ref,
                            r.count());
                }
            }
            return 0;
        }
    }
}
