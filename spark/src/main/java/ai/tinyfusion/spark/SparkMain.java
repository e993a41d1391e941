package ai.tinyfusion.spark;

import ai.tinyfusion.cli.DataOptions;
import ai.tinyfusion.eval.FeatureNet;
import ai.tinyfusion.eval.MetricsReport;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaSparkContext;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * The job jar's entry point, for {@code spark-submit --class ai.tinyfusion.spark.SparkMain JAR sample|eval ...}:
 * <ul>
 *   <li>{@code sample [--report FILE] [--fail-once SHARD] SAMPLE-OPTIONS...}: {@code tinyfusion sample}'s options
 *       (sharded: {@code --shard-size N} or {@code --protocol paper}), one task per shard ({@link SparkSample});</li>
 *   <li>{@code eval SAMPLES.npz [--ref REF.npz] [--images-per-task N] ...}: FID, sFID, IS, precision/recall and class
 *       accuracy with the shipped feature network, features per task, combined on the driver ({@link SparkEval}).</li>
 * </ul>
 * The master and every other Spark setting come from spark-submit (or {@code -Dspark.master=local[2]} when run with
 * plain {@code java}, as spark/run-local.sh does). A failure prints one {@code error:} line and exits non-zero.
 */
@Command(
        name = "tinyfusion-spark",
        mixinStandardHelpOptions = true,
        subcommands = {SparkMain.Sample.class, SparkMain.Eval.class},
        description = "tinyfusion sample / eval on Apache Spark.")
public final class SparkMain implements Runnable {
    @Override
    public void run() {
        CommandLine.usage(this, System.out);
    }

    public static void main(String[] args) {
        CommandLine cli = new CommandLine(new SparkMain());
        cli.setExecutionExceptionHandler((ex, cmd, parsed) -> {
            Throwable cause = ex;
            while (cause.getCause() != null
                    && (cause instanceof java.io.UncheckedIOException
                            || cause instanceof java.util.concurrent.ExecutionException)) {
                cause = cause.getCause();
            }
            cmd.getErr().println("error: " + String.valueOf(cause.getMessage()).replace('\n', ' '));
            if (Boolean.getBoolean("tinyfusion.debug")) {
                ex.printStackTrace(cmd.getErr());
            }
            return 1;
        });
        System.exit(cli.execute(args));
    }

    /** A Spark context from the process's spark.* settings; reports how long the start took. */
    static JavaSparkContext context(String name, double[] startSeconds) {
        long t0 = System.nanoTime();
        SparkConf conf = new SparkConf().setAppName(name);
        if (!conf.contains("spark.master")) {
            throw new IllegalArgumentException("no Spark master: run through spark-submit (--master ...), or give "
                    + "-Dspark.master=local[N] to a plain java command");
        }
        ExecutorPools.engineDefaults(conf.getInt("spark.task.cpus", 1));
        JavaSparkContext sc = new JavaSparkContext(conf);
        startSeconds[0] = (System.nanoTime() - t0) / 1e9;
        return sc;
    }

    @Command(
            name = "sample",
            description = "tinyfusion sample with --shard-size (or --protocol paper) as a Spark job: one task per "
                    + "shard, merged on the driver; the options after the ones below are the sample command's.")
    static final class Sample implements Callable<Integer> {
        @Option(names = "--report", description = "Write the times (seconds) as JSON here.")
        Path report;

        @Option(names = "--fail-once", hidden = true, defaultValue = "-1")
        int failOnce;

        @CommandLine.Unmatched
        List<String> sampleArgs = new ArrayList<>();

        @Override
        public Integer call() throws Exception {
            double[] start = new double[1];
            long t0 = System.nanoTime();
            try (JavaSparkContext sc = context("tinyfusion sample", start)) {
                SparkSample.Report r = SparkSample.run(sc, sampleArgs.toArray(String[]::new), failOnce);
                double total = (System.nanoTime() - t0) / 1e9;
                System.out.printf(Locale.ROOT, "spark: context start %.2f s, total %.2f s%n", start[0], total);
                if (report != null) {
                    Files.writeString(
                            report,
                            String.format(
                                    Locale.ROOT,
                                    "{\"master\": \"%s\", \"cores\": %d, \"shards\": %d, \"generated\": %d, "
                                            + "\"context_start_s\": %.3f, \"prepare_s\": %.3f, \"job_s\": %.3f, "
                                            + "\"task_s\": %.3f, \"merge_s\": %.3f, \"total_s\": %.3f, "
                                            + "\"model_loads\": %d}%n",
                                    sc.master(),
                                    sc.defaultParallelism(),
                                    r.shards(),
                                    r.generated(),
                                    start[0],
                                    r.prepareSeconds(),
                                    r.jobSeconds(),
                                    r.taskSeconds(),
                                    r.mergeSeconds(),
                                    total,
                                    r.modelLoads()));
                }
            }
            return 0;
        }
    }

    @Command(
            name = "eval",
            mixinStandardHelpOptions = true,
            description = "tinyfusion eval (the shipped feature network) as a Spark job: features per task, "
                    + "statistics combined exactly on the driver.")
    static final class Eval implements Callable<Integer> {
        @Parameters(paramLabel = "SAMPLES", description = "Sample .npz (a path or a Hadoop URI).")
        String samples;

        @Option(names = "--ref", description = "Reference images .npz (default: the Fashion-MNIST test set).")
        String ref;

        @Mixin
        DataOptions data;

        @Option(
                names = "--feature-net",
                description = "The feature network's safetensors (a path or URI every executor reads; default: the "
                        + "shipped models/" + FeatureNet.SHIPPED_MODEL + " as the driver finds it).")
        String featureNet;

        @Option(names = "--batch", defaultValue = "" + FeatureNet.DEFAULT_BATCH, description = "(${DEFAULT-VALUE})")
        int batch;

        @Option(names = "--k", defaultValue = "3", description = "Neighbours for precision/recall (${DEFAULT-VALUE}).")
        int k;

        @Option(names = "--bootstrap", defaultValue = "200", description = "FID bootstrap rounds (${DEFAULT-VALUE}).")
        int bootstrap;

        @Option(
                names = "--images-per-task",
                defaultValue = "1000",
                description = "Images per task; a multiple of --batch gives the single-machine batches "
                        + "(${DEFAULT-VALUE}).")
        int perTask;

        @Option(names = "--json", description = "Write the result as JSON (a list of one object).")
        Path json;

        @Override
        public Integer call() throws Exception {
            if (bootstrap < 0 || bootstrap == 1) {
                throw new IllegalArgumentException(
                        "--bootstrap must be 0 (off) or at least 2 rounds, got " + bootstrap);
            }
            double[] start = new double[1];
            try (JavaSparkContext sc = context("tinyfusion eval", start)) {
                SparkEval.Result r = SparkEval.run(
                        sc,
                        new SparkEval.Settings(
                                samples, ref, data.fashionDir(), featureNet, batch, k, bootstrap, perTask));
                System.out.print(MetricsReport.table(Arrays.asList(r.report())));
                if (json != null) {
                    Files.writeString(json, "[\n" + r.report().toJson() + "\n]\n");
                }
            }
            return 0;
        }
    }
}
