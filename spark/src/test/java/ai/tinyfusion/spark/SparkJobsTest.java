package ai.tinyfusion.spark;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDManager;
import ai.tinyfusion.cli.Main;
import ai.tinyfusion.eval.FeatureNet;
import ai.tinyfusion.eval.MetricsReport;
import ai.tinyfusion.eval.SampleEvaluation;
import ai.tinyfusion.model.dit.DiT;
import ai.tinyfusion.model.dit.DiTConfig;
import ai.tinyfusion.model.dit.ModelFiles;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.apache.spark.SparkConf;
import org.apache.spark.SparkException;
import org.apache.spark.api.java.JavaSparkContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Spark jobs on a real Spark in local mode with two executor threads ({@code local[2,2]}: a failed task is
 * retried once), against the single-machine commands run in the same process: the merged sample file byte for byte
 * (also after an injected task failure, with duplicate attempts of a shard, and resumed), and every metric of the
 * evaluation to 1e-9 relative.
 */
class SparkJobsTest {
    @TempDir
    static Path tmp;

    private static JavaSparkContext sc;
    private static Path model;

    @BeforeAll
    static void start() throws Exception {
        sc = new JavaSparkContext(new SparkConf()
                .setMaster("local[2,2]")
                .setAppName("SparkJobsTest")
                .set("spark.ui.enabled", "false")
                .set("spark.driver.host", "127.0.0.1")
                .set("spark.driver.bindAddress", "127.0.0.1")
                .set("spark.hadoop.fs." + RemoteFileSystem.SCHEME + ".impl", RemoteFileSystem.class.getName())
                .set("spark.hadoop.fs." + RemoteFileSystem.SCHEME + ".impl.disable.cache", "true"));
        // a small pixel-space DiT with random weights, saved as a file every executor reads
        model = tmp.resolve("tiny.safetensors");
        try (NDManager m = NDManager.newBaseManager()) {
            DiTConfig f = DiTConfig.preset("DiT-F7");
            DiTConfig c = new DiTConfig(
                    f.inputSize(),
                    f.patchSize(),
                    f.inChannels(),
                    32,
                    2,
                    2,
                    f.mlpRatio(),
                    f.numClasses(),
                    f.learnSigma(),
                    f.classDropoutProb());
            Engine.getInstance().setRandomSeed(3);
            ModelFiles.save(new DiT(m, c), model, Map.of());
        }
    }

    @AfterAll
    static void stop() {
        if (sc != null) {
            sc.close();
        }
    }

    /**
     * {@code tinyfusion sample} options of the runs compared here (by default 4 shards: 4, 4, 4, 2 images); {@code
     * more} replaces options by name ({@code --keep-shards} is the one flag without a value).
     */
    private static String[] sampleArgs(Path out, String... more) {
        java.util.LinkedHashMap<String, String> options = new java.util.LinkedHashMap<>();
        options.put("-m", model.toString());
        options.put("-n", "14");
        options.put("--cfg", "2");
        options.put("--steps", "3");
        options.put("--batch", "3");
        options.put("--shard-size", "4");
        options.put("--out", out.toString());
        for (int i = 0; i < more.length; i++) {
            options.put(more[i], more[i].equals("--keep-shards") ? null : more[++i]);
        }
        List<String> args = new ArrayList<>();
        options.forEach((k, v) -> {
            args.add(k);
            if (v != null) {
                args.add(v);
            }
        });
        return args.toArray(String[]::new);
    }

    private static Path singleMachine(String name, String... more) throws Exception {
        Path out = tmp.resolve(name);
        List<String> args = new ArrayList<>(List.of("sample"));
        args.addAll(List.of(sampleArgs(out, more)));
        StringWriter err = new StringWriter();
        var cli = Main.commandLine();
        cli.setOut(new PrintWriter(new StringWriter()));
        cli.setErr(new PrintWriter(err, true));
        assertEquals(0, cli.execute(args.toArray(String[]::new)), err.toString());
        return out.resolve("samples.npz");
    }

    private static String sha256(Path file) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(file)));
    }

    private static List<String> leftovers(Path shards) throws Exception {
        try (Stream<Path> files = Files.list(shards)) {
            return files.map(p -> p.getFileName().toString())
                    .filter(n -> !n.equals("manifest.json"))
                    .toList();
        }
    }

    @Test
    void mergedFileIsByteIdenticalToSingleMachineSample() throws Exception {
        Path single = singleMachine("single-a");
        Path out = tmp.resolve("spark-a");
        SparkSample.Report r = SparkSample.run(sc, sampleArgs(out), -1);
        assertEquals(4, r.shards());
        assertEquals(4, r.generated());
        assertTrue(r.modelLoads() >= 1 && r.modelLoads() <= 2, "one model per task slot, got " + r.modelLoads());
        assertEquals(sha256(single), sha256(r.merged()));
        assertArrayEquals(
                Files.readAllBytes(single.resolveSibling("grid.png")), Files.readAllBytes(out.resolve("grid.png")));
        assertEquals(
                Files.readString(single.resolveSibling("shards/manifest.json")),
                Files.readString(out.resolve("shards/manifest.json")));
        assertEquals(List.of(), leftovers(out.resolve("shards")), "shards are deleted after the merge");

        // run again: nothing to do, the file stays
        SparkSample.Report again = SparkSample.run(sc, sampleArgs(out), -1);
        assertEquals(0, again.generated());
        assertEquals(sha256(single), sha256(again.merged()));
        // other settings in the same directory are refused, naming the difference
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class, () -> SparkSample.run(sc, sampleArgs(out, "--sample-seed", "5"), -1));
        assertTrue(e.getMessage().contains("seed: 0"), e.getMessage());
    }

    @Test
    void aTaskThatFailsOnceIsRetriedAndGivesTheSameFile() throws Exception {
        Path single = singleMachine("single-b", "--sample-seed", "7");
        Path out = tmp.resolve("spark-b");
        SparkSample.Report r = SparkSample.run(sc, sampleArgs(out, "--sample-seed", "7"), 2);
        assertEquals(4, r.generated());
        assertEquals(sha256(single), sha256(r.merged()));
    }

    @Test
    void anInterruptedRunResumesAndADamagedShardIsNamed() throws Exception {
        Path single = singleMachine("single-c", "--cfg", "3");
        Path out = tmp.resolve("spark-c");
        // tasks that finished two shards only, as a job killed after them leaves the directory
        SparkSample.generate(
                sc, sampleArgs(out, "--cfg", "3"), List.of(0, 3), HadoopFiles.entries(sc.hadoopConfiguration()), -1);
        Path kept = out.resolve("shards/shard-000003.npz");
        long before = Files.getLastModifiedTime(kept).toMillis();
        Files.write(out.resolve("shards/.shard-000001.npz.deadbeef.tmp"), new byte[] {1, 2, 3});
        Thread.sleep(20);
        SparkSample.Report r = SparkSample.run(sc, sampleArgs(out, "--cfg", "3", "--keep-shards"), -1);
        assertEquals(2, r.generated(), "only the missing shards are generated");
        assertEquals(before, Files.getLastModifiedTime(kept).toMillis(), "a finished shard is not rewritten");
        assertEquals(sha256(single), sha256(r.merged()));
        assertFalse(Files.exists(out.resolve("shards/.shard-000001.npz.deadbeef.tmp")), "a killed run's leftover");

        // a damaged shard stops the run, named, and is kept
        Files.write(out.resolve("shards/shard-000002.npz"), new byte[] {0});
        Files.delete(out.resolve("samples.npz"));
        java.io.IOException damaged =
                assertThrows(java.io.IOException.class, () -> SparkSample.run(sc, sampleArgs(out, "--cfg", "3"), -1));
        assertTrue(damaged.getMessage().contains("shard-000002.npz"), damaged.getMessage());
    }

    @Test
    void duplicateAttemptsOfAShardAreHarmless() throws Exception {
        Path single = singleMachine("single-d", "--steps", "4");
        Path out = tmp.resolve("spark-d");
        // shard 1 three times and shard 2 twice, two at a time: what speculative copies of a slow task do
        List<SparkSample.ShardReport> reports = SparkSample.generate(
                sc,
                sampleArgs(out, "--steps", "4"),
                List.of(1, 1, 2, 1, 2, 0, 3),
                HadoopFiles.entries(sc.hadoopConfiguration()),
                -1);
        assertEquals(7, reports.size());
        assertEquals(
                List.of(),
                leftovers(out.resolve("shards")).stream()
                        .filter(n -> n.endsWith(".tmp"))
                        .toList());
        SparkSample.Report r = SparkSample.run(sc, sampleArgs(out, "--steps", "4"), -1);
        assertEquals(0, r.generated());
        assertEquals(sha256(single), sha256(r.merged()));
    }

    /**
     * A model on a file system that is not local (here the local disk under another scheme, as HDFS or S3 would be):
     * every process copies it once to its local cache; the manifest names the URI; the file is the same.
     */
    @Test
    void aModelOnAHadoopFileSystemIsCopiedOncePerMachine() throws Exception {
        Path single = singleMachine("single-h", "--cfg", "1.5");
        Path cache = tmp.resolve("cache");
        String previous = System.setProperty(HadoopFiles.CACHE_PROPERTY, cache.toString());
        try {
            Path out = tmp.resolve("spark-h");
            String uri = RemoteFileSystem.SCHEME + "://" + model.toAbsolutePath();
            SparkSample.Report r = SparkSample.run(sc, sampleArgs(out, "--cfg", "1.5", "-m", uri), -1);
            assertEquals(sha256(single), sha256(r.merged()));
            String manifest = Files.readString(out.resolve("shards/manifest.json"));
            assertTrue(manifest.contains("\"model\": \"" + uri + "\""), manifest);
            try (Stream<Path> copies = Files.walk(cache)) {
                List<Path> files = copies.filter(Files::isRegularFile).toList();
                assertEquals(1, files.size(), "one copy on this machine: " + files);
                assertArrayEquals(Files.readAllBytes(model), Files.readAllBytes(files.get(0)));
            }
        } finally {
            if (previous == null) {
                System.clearProperty(HadoopFiles.CACHE_PROPERTY);
            } else {
                System.setProperty(HadoopFiles.CACHE_PROPERTY, previous);
            }
        }
    }

    @Test
    void aFailingJobStopsWithTheTaskError() {
        Path out = tmp.resolve("spark-e");
        // a label outside the model's classes fails on the driver before any task starts
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class, () -> SparkSample.run(sc, sampleArgs(out, "--labels", "1,99"), -1));
        assertTrue(e.getMessage().contains("label 99"), e.getMessage());
        // a model the executors cannot read fails the job with the executor's message
        SparkException job = assertThrows(
                SparkException.class,
                () -> SparkSample.generate(
                        sc,
                        new String[] {
                            "-m",
                            tmp.resolve("missing.safetensors").toString(),
                            "--shard-size",
                            "2",
                            "--out",
                            out.toString()
                        },
                        List.of(0),
                        Map.of(),
                        -1));
        assertNotNull(job.getMessage());
    }

    @Test
    void evalEqualsSingleMachineEval() throws Exception {
        // more images than feature dimensions (128 pooled, 392 spatial): with fewer, the covariances are singular
        // and the Fréchet distance's matrix square root turns rounding in the last bit into 1e-8 differences
        Path samples = singleMachine("single-f", "-n", "800", "--batch", "100", "--shard-size", "200");
        Path ref =
                singleMachine("single-g", "-n", "600", "--batch", "100", "--shard-size", "300", "--sample-seed", "11");
        MetricsReport single;
        try (NDManager m = NDManager.newBaseManager()) {
            FeatureNet net = FeatureNet.loadShipped(m);
            single = SampleEvaluation.evaluate(
                    net, SampleEvaluation.Reference.npz(net, ref, 50), samples, "s", 50, 3, 20);
        }
        SparkEval.Result r = SparkEval.run(
                sc, new SparkEval.Settings(samples.toString(), ref.toString(), null, null, 50, 3, 20, 200));
        MetricsReport spark = r.report();
        assertEquals(single.numSamples(), spark.numSamples());
        close(single.fid(), spark.fid(), "FID");
        close(single.sfid(), spark.sfid(), "sFID");
        close(single.inceptionScore(), spark.inceptionScore(), "IS");
        close(single.precision(), spark.precision(), "precision");
        close(single.recall(), spark.recall(), "recall");
        close(single.classAccuracy(), spark.classAccuracy(), "accuracy");
        close(single.fidStd(), spark.fidStd(), "FID bootstrap std");
    }

    private static void close(Double expected, Double actual, String what) {
        assertNotNull(expected, what);
        assertNotNull(actual, what);
        double tol = 1e-9 * Math.max(Math.abs(expected), 1e-300);
        System.out.printf(
                java.util.Locale.ROOT,
                "%s: single machine %.17g, spark %.17g, relative difference %.3g%n",
                what,
                expected,
                actual,
                Math.abs(expected - actual) / Math.max(Math.abs(expected), 1e-300));
        assertEquals(expected, actual, tol, what + ": " + expected + " vs " + actual);
    }
}
