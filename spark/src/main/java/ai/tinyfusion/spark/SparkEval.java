package ai.tinyfusion.spark;

import ai.djl.ndarray.NDManager;
import ai.tinyfusion.eval.FeatureNet;
import ai.tinyfusion.eval.MetricsReport;
import ai.tinyfusion.eval.SampleEvaluation;
import ai.tinyfusion.io.DType;
import ai.tinyfusion.io.NpyStream;
import ai.tinyfusion.io.Npz;
import java.io.IOException;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.api.java.function.Function;

/**
 * {@code tinyfusion eval} (the shipped feature network) on a Spark cluster: every task runs the network over one
 * contiguous range of the samples' {@code arr_0} and returns that range's summary: the statistics of the pooled and
 * spatial features as (count, mean, centred sum of outer products) in float64, which is the sums of x and x·xᵀ in the
 * form that merges without cancellation, plus the range's pooled features, class probabilities and predictions. The
 * driver merges the statistics exactly ({@link FeatureNet.Summary#concat}), gathers the features for precision/recall
 * and the bootstrap, and computes every metric with the single-machine code ({@link SampleEvaluation#evaluate(
 * FeatureNet.Summary, long[], SampleEvaluation.Reference, String, int, int)}). The reference is summarised on the
 * driver (and cached, as on one machine).
 */
public final class SparkEval {
    private SparkEval() {}

    /** The evaluation's inputs. */
    public record Settings(
            String samples,
            String ref,
            Path fashionDir,
            String featureNet,
            int batch,
            int k,
            int bootstrapRounds,
            int imagesPerTask) {}

    /** A range's summary. */
    record Part(int index, FeatureNet.Summary summary, String executor, double seconds) implements Serializable {}

    /** The metrics of {@code s.samples()} and the job's times in seconds. */
    public record Result(MetricsReport report, double prepareSeconds, double jobSeconds, double combineSeconds) {}

    public static Result run(JavaSparkContext sc, Settings s) throws IOException {
        if (s.imagesPerTask() < 1 || s.batch() < 1) {
            throw new IllegalArgumentException("--images-per-task and --batch must be positive");
        }
        long t0 = System.nanoTime();
        Map<String, String> hadoop = HadoopFiles.entries(sc.hadoopConfiguration());
        String netFile = s.featureNet() != null
                ? s.featureNet()
                : FeatureNet.locateShipped(FeatureNet.SHIPPED_MODEL).toString();
        Path samples = Path.of(HadoopFiles.localize(s.samples(), hadoop));
        long[] labels;
        int n;
        try (Npz.Archive a = Npz.open(samples)) {
            try (NpyStream images = a.stream("arr_0")) {
                n = Math.toIntExact(checkImages(images)[0]);
            }
            labels = a.contains("arr_1") ? a.get("arr_1").toLongArray() : null;
        }
        if (n < 2) {
            throw new IllegalArgumentException(s.samples() + ": need at least 2 images, got " + n);
        }
        try (NDManager manager = NDManager.newBaseManager()) {
            FeatureNet net = FeatureNet.load(Path.of(HadoopFiles.localize(netFile, hadoop)), manager);
            SampleEvaluation.Reference reference = s.ref() == null
                    ? SampleEvaluation.Reference.fashionMnistTest(net, s.fashionDir(), s.batch())
                    : SampleEvaluation.Reference.npz(net, Path.of(HadoopFiles.localize(s.ref(), hadoop)), s.batch());
            double prepare = (System.nanoTime() - t0) / 1e9;
            long t1 = System.nanoTime();
            int tasks = (n + s.imagesPerTask() - 1) / s.imagesPerTask();
            List<Integer> ranges = new ArrayList<>();
            for (int i = 0; i < tasks; i++) {
                ranges.add(i);
            }
            List<Part> parts = new ArrayList<>(sc.parallelize(ranges, tasks)
                    .map(new RangeTask(s.samples(), netFile, hadoop, n, s.imagesPerTask(), s.batch()))
                    .collect());
            double job = (System.nanoTime() - t1) / 1e9;
            long t2 = System.nanoTime();
            parts.sort(Comparator.comparingInt(Part::index));
            FeatureNet.Summary all =
                    FeatureNet.Summary.concat(parts.stream().map(Part::summary).toList());
            MetricsReport report =
                    SampleEvaluation.evaluate(all, labels, reference, s.samples(), s.k(), s.bootstrapRounds());
            double combine = (System.nanoTime() - t2) / 1e9;
            System.out.println("reference: " + reference.name());
            System.out.printf(
                    java.util.Locale.ROOT,
                    "spark eval: %d images in %d tasks, prepare %.2f s, job %.2f s, combine %.2f s%n",
                    n,
                    tasks,
                    prepare,
                    job,
                    combine);
            return new Result(report, prepare, job, combine);
        }
    }

    /** The shape of a uint8 (N, 28, 28, 1) or (N, 28, 28) {@code arr_0}; anything else is an error naming it. */
    private static long[] checkImages(NpyStream images) throws IOException {
        long[] shape = images.shape();
        boolean ok = images.dtype() == DType.U8
                && !images.fortranOrder()
                && (shape.length == 4 && shape[3] == 1 || shape.length == 3)
                && shape[1] == FeatureNet.IMAGE_SIZE
                && shape[2] == FeatureNet.IMAGE_SIZE;
        if (!ok) {
            throw new IOException(images.source() + ": the feature network evaluates uint8 28x28x1 images (N, 28, 28, "
                    + "1), got " + images.dtype() + " " + java.util.Arrays.toString(shape));
        }
        return shape;
    }

    /** A task: summarises images [index·per, ...) of the samples with the executor's feature network. */
    static final class RangeTask implements Function<Integer, Part> {
        private static final long serialVersionUID = 1L;
        private final String samples;
        private final String featureNet;
        private final Map<String, String> hadoop;
        private final int count;
        private final int per;
        private final int batch;

        RangeTask(String samples, String featureNet, Map<String, String> hadoop, int count, int per, int batch) {
            this.samples = samples;
            this.featureNet = featureNet;
            this.hadoop = new java.util.HashMap<>(hadoop);
            this.count = count;
            this.per = per;
            this.batch = batch;
        }

        @Override
        public Part call(Integer index) throws IOException {
            long t0 = System.nanoTime();
            TaskContext task = TaskContext.get();
            ExecutorPools.engineDefaults(task == null ? 1 : task.cpus());
            int first = index * per;
            int k = Math.min(per, count - first);
            int bytesPer = FeatureNet.IMAGE_SIZE * FeatureNet.IMAGE_SIZE;
            byte[] images = new byte[Math.multiplyExact(k, bytesPer)];
            Path local = Path.of(HadoopFiles.localize(samples, hadoop));
            try (Npz.Archive a = Npz.open(local);
                    NpyStream in = a.stream("arr_0")) {
                checkImages(in);
                // front to back: skip the images before this range
                byte[] skip = new byte[1 << 16];
                long left = (long) first * bytesPer;
                while (left > 0) {
                    int m = (int) Math.min(skip.length, left);
                    in.readFully(skip, 0, m);
                    left -= m;
                }
                in.readFully(images, 0, images.length);
            }
            String key = "featurenet\u0000" + featureNet;
            Loaded net = ExecutorPools.acquire(key, () -> {
                NDManager manager = NDManager.newBaseManager();
                try {
                    return new Loaded(
                            manager, FeatureNet.load(Path.of(HadoopFiles.localize(featureNet, hadoop)), manager));
                } catch (IOException e) {
                    manager.close();
                    throw new UncheckedIOException(e.getMessage(), e);
                }
            });
            FeatureNet.Summary summary;
            try {
                summary = net.net()
                        .summarize(images, 0, k, FeatureNet.IMAGE_SIZE, FeatureNet.IMAGE_SIZE, 1, batch, true, 1);
            } catch (RuntimeException e) {
                net.manager().close();
                throw e;
            }
            ExecutorPools.release(key, net);
            return new Part(index, summary, SparkSample.executorId(), (System.nanoTime() - t0) / 1e9);
        }
    }

    /** A feature network loaded on an executor, with the memory it lives in. */
    private record Loaded(NDManager manager, FeatureNet net) {}
}
