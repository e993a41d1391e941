package ai.tinyfusion.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.tinyfusion.OneThread;
import ai.tinyfusion.diffusion.Objective;
import ai.tinyfusion.diffusion.Objectives;
import ai.tinyfusion.diffusion.Sampler;
import ai.tinyfusion.diffusion.transport.OdeIntegrator;
import ai.tinyfusion.diffusion.transport.OdeSampler;
import ai.tinyfusion.diffusion.transport.SiTNetwork;
import ai.tinyfusion.diffusion.transport.TransportObjective;
import ai.tinyfusion.io.Npz;
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
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * The SiT objective through the command line on a tiny DiT (the 4-layer config of the finetune tests, 1×8×8 data):
 * train (from DiT weights) with exact resume and refusal of another objective, the learned 1:2 search, Masked KD,
 * and ODE / SDE sampling, each picking the objective up from the model file.
 */
@ExtendWith(OneThread.class)
class SiTCommandsTest {
    /** A random tiny DiT file (no objective recorded) and 16 images of data. */
    private static Path[] setUp(Path dir) throws Exception {
        DiTConfig c = new DiTConfig(8, 2, 1, 32, 4, 2, 4.0, 1000, true, 0.1);
        Path dit = dir.resolve("dit.safetensors");
        try (NDManager m = NDManager.newBaseManager()) {
            Engine.getInstance().setRandomSeed(2);
            ModelFiles.save(Tiny.randomizeModulation(new DiT(m, c)), dit, Map.of());
        }
        return new Path[] {dit, Tiny.latentFolder(dir.resolve("data"), 16)};
    }

    private static String[] loop(String command, Path model, Path data, long steps, String... extra) {
        List<String> a = new ArrayList<>(List.of(
                command,
                "-m",
                model.toString(),
                "--data",
                data.toString(),
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
                "--seed",
                "3",
                "--no-progress"));
        a.addAll(List.of(extra));
        return a.toArray(new String[0]);
    }

    private static List<String> rows(Path run, long afterStep) throws Exception {
        return CliRun.metricRows(run, afterStep);
    }

    private static Objective recorded(Path model) throws Exception {
        return Objectives.ofModel(Safetensors.readMetadata(model));
    }

    @Test
    void trainsFromDiTWeightsResumesExactlyAndRefusesAnotherObjective(@TempDir Path dir) throws Exception {
        Path[] f = setUp(dir);
        StringWriter err = new StringWriter();
        Path a = dir.resolve("a");
        String[] sit = {"--run", a.toString(), "--objective", "sit", "--ema", "0.9"};
        assertEquals(0, CliRun.run(err, loop("train", f[0], f[1], 6, sit)), err.toString());
        Map<String, double[]> metrics = MetricsLog.read(a.resolve("metrics.csv"));
        assertEquals(
                List.of("step", "seconds", "loss", "grad_norm", "lr", "rss_gib", "heap_gib"),
                List.copyOf(metrics.keySet()));
        assertTrue(Arrays.stream(metrics.get("loss")).allMatch(v -> Double.isFinite(v) && v > 0));
        Objective o = recorded(a.resolve("ema.safetensors"));
        assertInstanceOf(TransportObjective.class, o);
        assertTrue(o.sameAs(TransportObjective.standard()), o.summary());
        assertTrue(Safetensors.readMetadata(a.resolve("checkpoints/step-0000003.safetensors"))
                .get("task")
                .contains("\"objective\":{\"name\":\"sit\""));

        // Resumed from step 3 into another run directory: steps 4-6 and the EMA are bit-identical.
        Path b = dir.resolve("b");
        String ckpt = a.resolve("checkpoints/step-0000003.safetensors").toString();
        String[] resumed = {"--run", b.toString(), "--objective", "sit", "--ema", "0.9", "--resume", ckpt};
        assertEquals(0, CliRun.run(err, loop("train", f[0], f[1], 6, resumed)), err.toString());
        assertEquals(3, rows(a, 3).size());
        assertEquals(rows(a, 3), rows(b, 0));
        assertEquals(-1L, Files.mismatch(a.resolve("ema.safetensors"), b.resolve("ema.safetensors")));
        assertEquals(-1L, Files.mismatch(a.resolve("model.safetensors"), b.resolve("model.safetensors")));

        // The same checkpoint under DDPM, or under SiT with another path, is refused naming both objectives.
        for (String[] other : List.of(
                new String[] {"--run", dir.resolve("c").toString(), "--ema", "0.9", "--resume", ckpt}, new String[] {
                    "--run",
                    dir.resolve("d").toString(),
                    "--objective",
                    "sit",
                    "--path-type",
                    "GVP",
                    "--ema",
                    "0.9",
                    "--resume",
                    ckpt
                })) {
            StringWriter e = new StringWriter();
            assertEquals(1, CliRun.run(e, loop("train", f[0], f[1], 6, other)));
            assertTrue(e.toString().contains("it was trained with the objective sit (path Linear"), e.toString());
            assertTrue(
                    e.toString().contains("this run uses " + (other.length == 6 ? "ddpm" : "sit (path GVP")),
                    e.toString());
        }

        // And a DDPM checkpoint is refused by a SiT run.
        Path ddpm = dir.resolve("ddpm");
        assertEquals(0, CliRun.run(err, loop("train", f[0], f[1], 3, "--run", ddpm.toString())), err.toString());
        assertEquals("ddpm", recorded(ddpm.resolve("ema.safetensors")).name());
        StringWriter e = new StringWriter();
        String[] toSit = {"--run", dir.resolve("e").toString(), "--objective", "sit", "--resume", ddpm.toString()};
        assertEquals(1, CliRun.run(e, loop("train", f[0], f[1], 6, toSit)));
        assertTrue(
                e.toString().contains("trained with the objective ddpm (1000 steps), this run uses sit"), e.toString());
    }

    @Test
    void prunesDistilsAndSamplesUnderTheRecordedObjective(@TempDir Path dir) throws Exception {
        Path[] f = setUp(dir);
        StringWriter err = new StringWriter();
        Path teacherRun = dir.resolve("teacher");
        String[] vp = {
            "--run", teacherRun.toString(), "--objective", "sit", "--path-type", "VP", "--prediction", "noise"
        };
        assertEquals(0, CliRun.run(err, loop("train", f[0], f[1], 3, vp)), err.toString());
        Path teacher = teacherRun.resolve("ema.safetensors");
        Objective objective = recorded(teacher);
        assertTrue(objective.summary().startsWith("sit (path VP, prediction noise"), objective.summary());

        // The learned 1:2 search runs under the recorded objective; the pruned file records it.
        Path pruned = dir.resolve("p.safetensors");
        String[] search = {"--method", "learned", "--pattern", "1:2", "--out", pruned.toString()};
        assertEquals(0, CliRun.run(err, loop("prune", teacher, f[1], 3, search)), err.toString());
        assertTrue(objective.sameAs(recorded(pruned)));
        String task = Safetensors.readMetadata(
                        pruned.resolveSibling("p.safetensors.run/checkpoints/step-0000003.safetensors"))
                .get("task");
        assertTrue(task.contains("\"task\":\"learned-prune\"") && task.contains("\"path_type\":\"VP\""), task);
        assertFalse(MetricsLog.read(pruned.resolveSibling("p.safetensors.run/metrics.csv"))
                .containsKey("mse"));

        // The calibration-scored baselines score layers with the recorded objective's loss; every decision record
        // names the objective.
        assertEquals(
                "sit", PrunedModels.readRecord(pruned).objective().get("name").getAsString());
        for (String method : List.of("bi", "sensitivity")) {
            Path out = dir.resolve(method + ".safetensors");
            String[] args = {
                "--method",
                method,
                "--depth",
                "2",
                "--calib-samples",
                "12",
                "--calib-batch",
                "8",
                "--out",
                out.toString()
            };
            StringWriter e1 = new StringWriter();
            assertEquals(0, CliRun.run(e1, loop("prune", teacher, f[1], 3, args)), e1.toString());
            DecisionRecord rec = PrunedModels.readRecord(out);
            assertTrue(objective.sameAs(Objectives.parse(rec.objective().toString())), String.valueOf(rec.objective()));
            assertEquals(
                    "sit",
                    rec.details()
                            .getAsJsonObject("calibration")
                            .getAsJsonObject("objective")
                            .get("name")
                            .getAsString());
            assertTrue(objective.sameAs(recorded(out)));
        }
        DecisionRecord sens = PrunedModels.readRecord(dir.resolve("sensitivity.safetensors"));
        assertTrue(sens.layerScoreMeaning().contains("sit (path VP, prediction noise"), sens.layerScoreMeaning());
        // A model without a recorded objective is scored with DDPM losses, and its record says so.
        Path ddpmTwin = dir.resolve("dit-ddpm.safetensors");
        Files.copy(f[0], ddpmTwin);
        String[] twin = {
            "--method",
            "sensitivity",
            "--depth",
            "2",
            "--calib-samples",
            "12",
            "--calib-batch",
            "8",
            "--out",
            dir.resolve("sens-ddpm.safetensors").toString()
        };
        assertEquals(0, CliRun.run(err, loop("prune", ddpmTwin, f[1], 3, twin)), err.toString());
        assertEquals(
                "ddpm",
                PrunedModels.readRecord(dir.resolve("sens-ddpm.safetensors"))
                        .objective()
                        .get("name")
                        .getAsString());
        StringWriter e2 = new StringWriter();
        assertEquals(
                1,
                CliRun.run(
                        e2,
                        loop(
                                "prune",
                                teacher,
                                f[1],
                                3,
                                "--objective",
                                "ddpm",
                                "--method",
                                "learned",
                                "--pattern",
                                "1:2",
                                "--out",
                                dir.resolve("x.safetensors").toString())));
        assertTrue(e2.toString().contains("was trained with the objective sit (path VP"), e2.toString());

        // Masked KD from the record's teacher: SiT's beta 2e-4, no variance-head term.
        Path kd = dir.resolve("kd");
        assertEquals(0, CliRun.run(err, loop("finetune", pruned, f[1], 2, "--run", kd.toString())), err.toString());
        Map<String, double[]> m = MetricsLog.read(kd.resolve("metrics.csv"));
        assertEquals(
                List.of("step", "seconds", "loss", "kd", "gt", "rep", "beta", "grad_norm", "lr", "rss_gib", "heap_gib"),
                List.copyOf(m.keySet()));
        assertEquals(2e-4, m.get("beta")[0], 1e-12);
        assertTrue(objective.sameAs(recorded(kd.resolve("ema.safetensors"))));

        // A teacher trained with another objective is refused.
        Path ddpmRun = dir.resolve("ddpm");
        assertEquals(0, CliRun.run(err, loop("train", f[0], f[1], 1, "--run", ddpmRun.toString())), err.toString());
        StringWriter e4 = new StringWriter();
        assertEquals(
                1,
                CliRun.run(
                        e4,
                        loop(
                                "finetune",
                                pruned,
                                f[1],
                                2,
                                "--run",
                                dir.resolve("z").toString(),
                                "--teacher",
                                ddpmRun.resolve("ema.safetensors").toString(),
                                "--kd",
                                "logits")));
        assertTrue(
                e4.toString()
                        .contains("was trained with the objective ddpm (1000 steps), the student is trained "
                                + "with sit (path VP"),
                e4.toString());
    }

    /** The bytes SiT's sample.py path gives: seeded z, then {@link SiTNetwork#sample} (the parity-tested one). */
    private static byte[] direct(Path model, ai.tinyfusion.diffusion.transport.TransportSampler sampler, double cfg)
            throws Exception {
        try (NDManager m = NDManager.newBaseManager()) {
            DiT dit = ModelFiles.load(model, m, null);
            long[] labels = Sampler.uniformLabels(4, 1000);
            Engine.getInstance().setRandomSeed(0);
            NDArray z = m.randomNormal(new Shape(4, 1, 8, 8));
            return Sampler.toUint8Nhwc(SiTNetwork.sample(sampler, m, dit, z, labels, cfg));
        }
    }

    private static byte[] sampled(Path out) throws Exception {
        java.nio.ByteBuffer b =
                Npz.read(out.resolve("samples.npz")).get("arr_0").data();
        byte[] bytes = new byte[b.remaining()];
        b.get(bytes);
        return bytes;
    }

    @Test
    void samplesWithOdeAndSdeAsSiTsSamplePy(@TempDir Path dir) throws Exception {
        Path[] f = setUp(dir);
        TransportObjective sit = TransportObjective.standard();
        Path model = dir.resolve("sit.safetensors");
        try (NDManager m = NDManager.newBaseManager()) {
            DiT dit = ModelFiles.load(f[0], m, null);
            ModelFiles.save(dit, model, Objectives.modelMetadata(sit));
        }
        String[] common = {"sample", "-m", model.toString(), "-n", "4", "--batch", "4", "--steps", "5"};
        StringWriter err = new StringWriter();

        Path ode = dir.resolve("ode");
        assertEquals(
                0,
                CliRun.run(err, concat(common, "--sampling-method", "heun2", "--cfg", "4", "--out", ode.toString())),
                err.toString());
        assertArrayEquals(
                direct(model, new OdeSampler(sit.transport(), OdeIntegrator.HEUN, 5, 1e-6, 1e-3), 4), sampled(ode));

        Path sde = dir.resolve("sde");
        assertEquals(
                0,
                CliRun.run(err, concat(common, "--sampler", "sde", "--cfg", "1", "--out", sde.toString())),
                err.toString());
        ai.tinyfusion.diffusion.transport.SdeSampler d =
                ai.tinyfusion.diffusion.transport.SdeSampler.cliDefaults(sit.transport());
        ai.tinyfusion.diffusion.transport.SdeSampler five = new ai.tinyfusion.diffusion.transport.SdeSampler(
                d.transport(), d.method(), d.form(), d.diffusionNorm(), d.lastStep(), d.lastStepSize(), 5, d.noise());
        assertArrayEquals(direct(model, five, 1), sampled(sde));

        // Options of the other objective, or the other objective itself, are one clear error.
        String[][] bad = {
            concat(common, "--method", "ddim", "--out", dir.resolve("x").toString()),
            concat(common, "--objective", "ddpm", "--out", dir.resolve("x").toString()),
            {
                "sample",
                "-m",
                f[0].toString(),
                "--sampler",
                "sde",
                "-n",
                "2",
                "--out",
                dir.resolve("x").toString()
            },
            concat(
                    common,
                    "--sampler",
                    "ode",
                    "--last-step",
                    "Mean",
                    "--out",
                    dir.resolve("x").toString()),
            concat(common, "--objective", "flow", "--out", dir.resolve("x").toString()),
        };
        String[] messages = {
            "--method, --eta, --clip and --cfg-all-channels are DDPM sampling options",
            "was trained with the objective sit (path Linear",
            "need the SiT objective",
            "are --sampler sde options",
            "unknown objective 'flow' (ddpm, sit)",
        };
        for (int i = 0; i < bad.length; i++) {
            StringWriter e = new StringWriter();
            assertEquals(1, CliRun.run(e, bad[i]), String.join(" ", bad[i]));
            assertTrue(e.toString().contains(messages[i]), e.toString());
        }
        assertFalse(Files.exists(dir.resolve("x").resolve("samples.npz")));
    }

    /** What {@code info} prints (it writes to System.out). */
    private static String info(Path model) {
        java.io.PrintStream saved = System.out;
        java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
        System.setOut(new java.io.PrintStream(bytes, true, java.nio.charset.StandardCharsets.UTF_8));
        try {
            assertEquals(0, CliRun.run(new StringWriter(), "info", model.toString()));
        } finally {
            System.setOut(saved);
        }
        return bytes.toString(java.nio.charset.StandardCharsets.UTF_8);
    }

    /** Sharded SDE sampling draws every step's noise per image: other batch and shard sizes give the same images. */
    @Test
    void shardedSdeSamplesDependOnIndexNotOnBatching(@TempDir Path dir) throws Exception {
        Path[] f = setUp(dir);
        Path model = dir.resolve("sit.safetensors");
        try (NDManager m = NDManager.newBaseManager()) {
            ModelFiles.save(
                    ModelFiles.load(f[0], m, null), model, Objectives.modelMetadata(TransportObjective.standard()));
        }
        String[] common = {"sample", "-m", model.toString(), "-n", "5", "--steps", "4", "--sampler", "sde", "--cfg", "4"
        };
        StringWriter err = new StringWriter();
        Path a = dir.resolve("a");
        Path b = dir.resolve("b");
        assertEquals(
                0,
                CliRun.run(err, concat(common, "--batch", "2", "--shard-size", "3", "--out", a.toString())),
                err.toString());
        assertEquals(
                0,
                CliRun.run(err, concat(common, "--batch", "5", "--shard-size", "5", "--out", b.toString())),
                err.toString());
        assertArrayEquals(sampled(a), sampled(b));
        String manifest = java.nio.file.Files.readString(a.resolve("shards/manifest.json"));
        assertTrue(manifest.contains("sde"), manifest);
    }

    @Test
    void anOfficialFormatCheckpointIsSampledAsSiTWhenToldAndInfoShowsTheObjective(@TempDir Path dir) throws Exception {
        // dit_small.pt is a state dict in the official format, which is also SiT's (SiT-XL-2-256x256.pt: DiT's keys).
        Path pt = ai.tinyfusion.Fixtures.reference("dit_small.pt");
        assertTrue(info(pt).contains("objective:  not recorded"), info(pt));
        StringWriter e = new StringWriter();
        Path x = dir.resolve("x");
        assertEquals(
                1,
                CliRun.run(
                        e, "sample", "-m", pt.toString(), "--sampler", "ode", "--latents-only", "--out", x.toString()));
        assertTrue(e.toString().contains("need the SiT objective (--objective sit"), e.toString());

        Path out = dir.resolve("sit");
        StringWriter err = new StringWriter();
        assertEquals(
                0,
                CliRun.run(
                        err,
                        "sample",
                        "-m",
                        pt.toString(),
                        "--objective",
                        "sit",
                        "--sampling-method",
                        "euler",
                        "--steps",
                        "4",
                        "--cfg",
                        "4",
                        "-n",
                        "3",
                        "--batch",
                        "3",
                        "--latents-only",
                        "--out",
                        out.toString()),
                err.toString());
        float[] got = ai.tinyfusion.io.Npy.read(out.resolve("latents.npy")).toFloatArray();
        try (NDManager m = NDManager.newBaseManager()) {
            DiT dit = ModelFiles.load(pt, m, null);
            Engine.getInstance().setRandomSeed(0);
            NDArray z = m.randomNormal(new Shape(3, 4, 8, 8));
            TransportObjective sit = TransportObjective.standard();
            float[] want = SiTNetwork.sample(
                            new OdeSampler(sit.transport(), OdeIntegrator.EULER, 4, 1e-6, 1e-3),
                            m,
                            dit,
                            z,
                            Sampler.uniformLabels(3, 10),
                            4)
                    .toFloatArray();
            assertArrayEquals(want, got);
        }

        // A file written by train records its objective, and info shows it.
        Path[] f = setUp(dir);
        Path run = dir.resolve("run");
        assertEquals(
                0,
                CliRun.run(
                        err,
                        loop(
                                "train",
                                f[0],
                                f[1],
                                1,
                                "--run",
                                run.toString(),
                                "--objective",
                                "sit",
                                "--prediction",
                                "score")),
                err.toString());
        String shown = info(run.resolve("ema.safetensors"));
        assertTrue(
                shown.contains("objective:  sit (path Linear, prediction score, loss weight none, train eps 0.001, "
                        + "sample eps 0.001)"),
                shown);
    }

    @Test
    void optionsTakeTheirDefaultsFromTheLibrary() {
        TrainCommand train = new TrainCommand();
        new CommandLine(train).parseArgs("--run", "r", "--objective", "sit");
        Objective o = train.objectiveOptions.resolve(Map.of(), "preset", true);
        assertTrue(o.sameAs(TransportObjective.standard()), o.summary());
        TrainCommand none = new TrainCommand();
        new CommandLine(none).parseArgs("--run", "r");
        assertEquals(
                "ddpm", none.objectiveOptions.resolve(Map.of(), "preset", true).name());
        TrainCommand wrong = new TrainCommand();
        new CommandLine(wrong).parseArgs("--run", "r", "--prediction", "noise");
        IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(
                IllegalArgumentException.class, () -> wrong.objectiveOptions.resolve(Map.of(), "preset", true));
        assertTrue(e.getMessage().contains("need --objective sit"), e.getMessage());
    }

    private static String[] concat(String[] a, String... b) {
        String[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
