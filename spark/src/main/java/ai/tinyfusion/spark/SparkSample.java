package ai.tinyfusion.spark;

import ai.djl.ndarray.NDManager;
import ai.tinyfusion.cli.SampleCommand;
import ai.tinyfusion.diffusion.ShardedGeneration;
import java.io.IOException;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.api.java.function.FlatMapFunction;

/**
 * {@code tinyfusion sample --shard-size N} on a Spark cluster: the same options, the same shards, the same merged
 * file. The driver resolves the run (model, sampler, labels, the manifest in {@code <out>/shards/}), removes what a
 * killed run left, and starts one task per missing shard; each task makes its shard's items from their indices alone
 * (per-index labels and noise) and writes the shard atomically, so a retried or speculative duplicate attempt can
 * only rewrite its own shard with the same bytes. The driver then merges the shards into {@code samples.npz} (or
 * {@code latents.npy}) exactly as the single-machine command does. {@code --out} must be a directory that the driver
 * and every executor see (a local disk in local mode, a shared mount on a cluster); the model may also be on any
 * file system Hadoop reads ({@link HadoopFiles}).
 */
public final class SparkSample {
    private SparkSample() {}

    /** What one task did for one shard. */
    public record ShardReport(int shard, boolean generated, double seconds, String executor, int loads)
            implements Serializable {}

    /** A run's outcome and its times, in seconds. */
    public record Report(
            int shards,
            int generated,
            double prepareSeconds,
            double jobSeconds,
            double taskSeconds,
            double mergeSeconds,
            int modelLoads,
            Path merged) {}

    /**
     * Runs {@code tinyfusion sample} arguments (which must shard: {@code --shard-size} or {@code --protocol paper}).
     *
     * @param failOnce a shard whose first task attempt fails half-way (tests of Spark's retry), or -1
     */
    public static Report run(JavaSparkContext sc, String[] sampleArgs, int failOnce) throws IOException {
        long t0 = System.nanoTime();
        Map<String, String> hadoop = HadoopFiles.entries(sc.hadoopConfiguration());
        SampleCommand command = SampleCommand.parse(sampleArgs);
        command.localize(name -> HadoopFiles.localize(name, hadoop));
        try (NDManager manager = NDManager.newBaseManager(command.device())) {
            SampleCommand.Sharded run = command.sharded(manager);
            ShardedGeneration shards = run.generation();
            if (run.finished()) {
                System.out.println(run.merged() + " exists and the shards were merged: nothing to do");
                return new Report(shards.shards(), 0, seconds(t0), 0, 0, 0, 0, run.merged());
            }
            shards.removeStaleTemporaries();
            shards.done(); // checks every finished shard; a damaged one stops the run here, named
            List<Integer> missing = new ArrayList<>();
            for (int s = 0; s < shards.shards(); s++) {
                if (!shards.exists(s)) {
                    missing.add(s);
                }
            }
            double prepare = seconds(t0);
            long t1 = System.nanoTime();
            List<ShardReport> reports = generate(sc, sampleArgs, missing, hadoop, failOnce);
            double job = seconds(t1);
            long t2 = System.nanoTime();
            run.merge();
            double merge = seconds(t2);
            int generated = 0;
            double taskSeconds = 0;
            java.util.Map<String, Integer> loads = new java.util.TreeMap<>();
            for (ShardReport r : reports) {
                generated += r.generated() ? 1 : 0;
                taskSeconds += r.seconds();
                loads.merge(r.executor(), r.loads(), Math::max);
            }
            int modelLoads = loads.values().stream().mapToInt(Integer::intValue).sum();
            System.out.printf(
                    java.util.Locale.ROOT,
                    "spark sample: %d shards (%d generated now, %s), prepare %.2f s, job %.2f s (tasks %.2f s), "
                            + "merge %.2f s, %d model load(s) on %d executor(s) -> %s%n",
                    shards.shards(),
                    generated,
                    run.describe(),
                    prepare,
                    job,
                    taskSeconds,
                    merge,
                    modelLoads,
                    loads.size(),
                    run.merged().toAbsolutePath());
            return new Report(shards.shards(), generated, prepare, job, taskSeconds, merge, modelLoads, run.merged());
        }
    }

    /**
     * One task per entry of {@code shards} (an entry may repeat: each repeat is an attempt running alongside the
     * others, as a speculative duplicate does).
     */
    static List<ShardReport> generate(
            JavaSparkContext sc, String[] sampleArgs, List<Integer> shards, Map<String, String> hadoop, int failOnce) {
        if (shards.isEmpty()) {
            return List.of();
        }
        return sc.parallelize(shards, shards.size())
                .mapPartitions(new ShardTask(sampleArgs.clone(), hadoop, failOnce))
                .collect();
    }

    private static double seconds(long since) {
        return (System.nanoTime() - since) / 1e9;
    }

    /** A task: generates its shards with the executor's loaded model (loaded by the first task that needs it). */
    static final class ShardTask implements FlatMapFunction<Iterator<Integer>, ShardReport> {
        private static final long serialVersionUID = 1L;
        private final String[] args;
        private final Map<String, String> hadoop;
        private final int failOnce;

        ShardTask(String[] args, Map<String, String> hadoop, int failOnce) {
            this.args = args;
            this.hadoop = new java.util.HashMap<>(hadoop);
            this.failOnce = failOnce;
        }

        @Override
        public Iterator<ShardReport> call(Iterator<Integer> shards) throws IOException {
            TaskContext task = TaskContext.get();
            ExecutorPools.engineDefaults(task == null ? 1 : task.cpus());
            String key = "sample\u0000" + String.join("\u0000", args);
            Loaded loaded = ExecutorPools.acquire(key, this::load);
            SampleCommand.Sharded run = loaded.run();
            List<ShardReport> out = new ArrayList<>();
            boolean ok = false;
            try {
                while (shards.hasNext()) {
                    int s = shards.next();
                    long t0 = System.nanoTime();
                    boolean generate = !run.generation().exists(s);
                    if (generate) {
                        boolean fail = s == failOnce && task != null && task.attemptNumber() == 0;
                        run.generation().generate(s, run::sample, done -> {
                            if (fail) {
                                throw new IllegalStateException(
                                        "injected failure of shard " + s + " after " + done + " items");
                            }
                        });
                    }
                    out.add(new ShardReport(s, generate, seconds(t0), executorId(), ExecutorPools.loads(key)));
                }
                ok = true;
            } finally {
                if (ok) {
                    ExecutorPools.release(key, loaded);
                } else {
                    // after a failure the instance is dropped: a half-finished step must not leak into the next task
                    loaded.manager().close();
                }
            }
            return out.iterator();
        }

        private Loaded load() {
            SampleCommand command = SampleCommand.parse(args);
            command.localize(name -> HadoopFiles.localize(name, hadoop));
            NDManager manager = NDManager.newBaseManager(command.device());
            try {
                return new Loaded(manager, command.sharded(manager));
            } catch (IOException e) {
                manager.close();
                throw new UncheckedIOException(e.getMessage(), e);
            } catch (RuntimeException e) {
                manager.close();
                throw e;
            }
        }
    }

    /** A model loaded on an executor, with the memory it lives in. */
    private record Loaded(NDManager manager, SampleCommand.Sharded run) {}

    static String executorId() {
        org.apache.spark.SparkEnv env = org.apache.spark.SparkEnv.get();
        return env == null ? "local" : env.executorId();
    }
}
