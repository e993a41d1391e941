package ai.tinyfusion.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDManager;
import ai.tinyfusion.OneThread;
import ai.tinyfusion.io.FileHashes;
import ai.tinyfusion.io.Safetensors;
import ai.tinyfusion.model.dit.DiT;
import ai.tinyfusion.model.dit.DiTConfig;
import ai.tinyfusion.model.dit.ModelFiles;
import ai.tinyfusion.prune.DecisionRecord;
import ai.tinyfusion.prune.PrunedModels;
import ai.tinyfusion.prune.Tiny;
import ai.tinyfusion.train.MetricsLog;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** {@code tinyfusion finetune} end to end on a tiny pruned DiT: outputs, per-term metrics, exact resume. */
@ExtendWith(OneThread.class)
class FinetuneCommandTest {
    /** A 4-layer, 1000-class tiny teacher file, its 1:2-pruned student (kept 1, 2) with record, and 16 latents. */
    private static Path[] setUp(Path dir) throws Exception {
        DiTConfig c = new DiTConfig(8, 2, 1, 32, 4, 2, 4.0, 1000, true, 0.1);
        Path teacher = dir.resolve("teacher.safetensors");
        Path student = dir.resolve("student.safetensors");
        try (NDManager m = NDManager.newBaseManager()) {
            Engine.getInstance().setRandomSeed(2);
            DiT t = Tiny.randomizeModulation(new DiT(m, c));
            ModelFiles.save(t, teacher, Map.of());
            DecisionRecord rec = DecisionRecord.of(
                    "test",
                    new DecisionRecord.Source(teacher.toString(), FileHashes.sha256(teacher), "tiny teacher", 4),
                    new int[] {1, 2},
                    "1:2",
                    null,
                    null,
                    null,
                    null,
                    null);
            PrunedModels.save(t, rec, student);
        }
        return new Path[] {teacher, student, Tiny.latentFolder(dir.resolve("data"), 16)};
    }

    private static String[] args(Path student, Path data, Path run, long steps, String... extra) {
        List<String> a = new ArrayList<>(List.of(
                "finetune",
                "-m",
                student.toString(),
                "--data",
                data.toString(),
                "--run",
                run.toString(),
                "--steps",
                Long.toString(steps),
                "--batch",
                "4",
                "--log-every",
                "1",
                "--ckpt-every",
                "3",
                "--keep",
                "0",
                "--ema",
                "0.9",
                "--seed",
                "3",
                "--no-progress"));
        a.addAll(List.of(extra));
        return a.toArray(new String[0]);
    }

    /** metrics.csv rows after {@code afterStep}, without the wall-clock and memory columns. */
    private static List<String> rows(Path run, long afterStep) throws Exception {
        return CliRun.metricRows(run, afterStep);
    }

    @Test
    void maskedKdRunWritesOutputsAndResumesExactly(@TempDir Path dir) throws Exception {
        Path[] f = setUp(dir);
        Path student = f[1];
        Path data = f[2];
        StringWriter err = new StringWriter();
        Path a = dir.resolve("a");
        assertEquals(0, CliRun.run(err, args(student, data, a, 6)), err.toString());

        for (String name : new String[] {
            "ema.safetensors",
            "model.safetensors",
            "loss.png",
            "metrics.csv",
            "command.txt",
            "train.log",
            "checkpoints/step-0000003.safetensors",
            "checkpoints/step-0000006.safetensors"
        }) {
            assertTrue(Files.exists(a.resolve(name)), name);
        }
        LinkedHashMap<String, double[]> metrics = MetricsLog.read(a.resolve("metrics.csv"));
        for (String col : new String[] {"loss", "kd", "kd_mse", "kd_vb", "gt", "rep", "beta", "grad_norm", "lr"}) {
            assertTrue(metrics.containsKey(col), col + " in " + metrics.keySet());
            assertTrue(Arrays.stream(metrics.get(col)).allMatch(Double::isFinite), col);
        }
        // Masked KD by default (the student has a decision record); β from 1e-2 down to 0; cosine LR 2e-4 → 1e-4.
        assertEquals(0.01, metrics.get("beta")[0], 1e-8);
        assertEquals(0.0, metrics.get("beta")[5]);
        assertEquals(2e-4, metrics.get("lr")[0], 1e-10);
        assertEquals(1e-4, metrics.get("lr")[5], 1e-10);
        Map<String, String> meta = Safetensors.readMetadata(a.resolve("ema.safetensors"));
        assertEquals("masked", meta.get("kd"));
        assertEquals("0:1,1:3", meta.get("kd_layer_map"));
        assertEquals("1,2", meta.get("kept_layers"));
        assertEquals("6", meta.get("trained_steps"));
        try (NDManager m = NDManager.newBaseManager()) {
            assertEquals(
                    2, ModelFiles.load(a.resolve("ema.safetensors"), m, null).depth());
        }

        // Resumed from the step-3 checkpoint into another run directory: steps 4–6 and the EMA are identical.
        Path b = dir.resolve("b");
        String[] resumed = args(
                student,
                data,
                b,
                6,
                "--resume",
                a.resolve("checkpoints/step-0000003.safetensors").toString());
        assertEquals(0, CliRun.run(err, resumed), err.toString());
        List<String> expected = rows(a, 3);
        assertEquals(3, expected.size());
        assertEquals(expected, rows(b, 0));
        assertEquals(-1L, Files.mismatch(a.resolve("ema.safetensors"), b.resolve("ema.safetensors")));
        assertTrue(Files.readString(b.resolve("train.log")).contains("resumed from"));

        // A different KD mode refuses that checkpoint.
        Path c = dir.resolve("c");
        String[] otherMode = args(student, data, c, 6, "--kd", "rep", "--resume", a.toString());
        assertEquals(1, CliRun.run(err, otherMode));
        assertTrue(err.toString().contains("written for a different task/config"), err.toString());
    }

    @Test
    void plainAndLogitModesAndErrors(@TempDir Path dir) throws Exception {
        Path[] f = setUp(dir);
        StringWriter err = new StringWriter();
        Path none = dir.resolve("none");
        assertEquals(0, CliRun.run(err, args(f[1], f[2], none, 2, "--kd", "none")), err.toString());
        assertEquals(
                List.of("step", "seconds", "loss", "mse", "vb", "grad_norm", "lr", "rss_gib", "heap_gib"),
                new ArrayList<>(MetricsLog.read(none.resolve("metrics.csv")).keySet()));
        assertEquals(
                "none",
                Safetensors.readMetadata(none.resolve("ema.safetensors")).get("kd"));

        Path logits = dir.resolve("logits");
        assertEquals(
                0,
                CliRun.run(err, args(f[1], f[2], logits, 2, "--kd", "logits", "--teacher", f[0].toString())),
                err.toString());
        Map<String, double[]> m = MetricsLog.read(logits.resolve("metrics.csv"));
        assertTrue(m.containsKey("kd") && m.containsKey("gt"), m.keySet().toString());
        assertFalse(m.containsKey("rep"), m.keySet().toString());

        // Without a record, masked KD of a shallower student needs --layer-map; a preset has no teacher.
        Path bare = dir.resolve("bare.safetensors");
        Files.copy(f[1], bare);
        assertEquals(
                1,
                CliRun.run(err, args(bare, f[2], dir.resolve("x"), 2, "--kd", "masked", "--teacher", f[0].toString())));
        assertTrue(err.toString().contains("give --layer-map"), err.toString());
        assertEquals(
                0,
                CliRun.run(
                        err,
                        args(
                                bare,
                                f[2],
                                dir.resolve("y"),
                                1,
                                "--kd",
                                "masked",
                                "--teacher",
                                f[0].toString(),
                                "--layer-map",
                                "0:1,1:3")),
                err.toString());
        assertEquals(
                1,
                CliRun.run(
                        err,
                        "finetune",
                        "-m",
                        "DiT-F7",
                        "--kd",
                        "masked",
                        "--run",
                        dir.resolve("z").toString()));
        assertTrue(err.toString().contains("--kd masked needs a teacher"), err.toString());
    }

    /** A finished run extended with --resume and more steps equals one long run; --snapshots write EMA weights on the way. */
    @Test
    void extendedRunEqualsOneLongRunAndWritesSnapshots(@TempDir Path dir) throws Exception {
        Path[] f = setUp(dir);
        StringWriter err = new StringWriter();
        Path whole = dir.resolve("whole");
        assertEquals(
                0,
                CliRun.run(
                        err,
                        args(f[1], f[2], whole, 6, "--kd", "none", "--lr-decay-steps", "4", "--snapshots", "2,4,6")),
                err.toString());
        double[] lr = MetricsLog.read(whole.resolve("metrics.csv")).get("lr");
        assertEquals(2e-4, lr[0], 1e-10);
        assertEquals(1e-4, lr[3], 1e-10); // the horizon: step index 3 is the 4th step
        assertEquals(1e-4, lr[5], 1e-10);
        for (long step : new long[] {2, 4, 6}) {
            Path snap = OptimOptions.snapshotPath(whole, step);
            assertEquals(Long.toString(step), Safetensors.readMetadata(snap).get("trained_steps"));
        }
        assertEquals(-1L, Files.mismatch(OptimOptions.snapshotPath(whole, 6), whole.resolve("ema.safetensors")));

        Path part = dir.resolve("part");
        assertEquals(
                0,
                CliRun.run(
                        err, args(f[1], f[2], part, 4, "--kd", "none", "--lr-decay-steps", "4", "--snapshots", "2,4")),
                err.toString());
        assertEquals(
                0,
                CliRun.run(
                        err,
                        args(
                                f[1],
                                f[2],
                                part,
                                6,
                                "--kd",
                                "none",
                                "--lr-decay-steps",
                                "4",
                                "--snapshots",
                                "2,4,6",
                                "--resume",
                                part.toString())),
                err.toString());
        assertEquals(rows(whole, 0), rows(part, 0));
        for (long step : new long[] {2, 4, 6}) {
            assertEquals(
                    -1L,
                    Files.mismatch(OptimOptions.snapshotPath(whole, step), OptimOptions.snapshotPath(part, step)),
                    "snapshot " + step);
        }
        assertEquals(1, CliRun.run(err, args(f[1], f[2], dir.resolve("bad"), 4, "--kd", "none", "--snapshots", "5")));
        assertTrue(err.toString().contains("outside the run's 1..4"), err.toString());
    }
}
