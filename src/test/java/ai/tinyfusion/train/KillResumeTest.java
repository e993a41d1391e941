package ai.tinyfusion.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A training run killed with SIGKILL mid-way and resumed from its last checkpoint reproduces the
 * uninterrupted run's losses step for step (separate JVMs, as a user would run them).
 */
class KillResumeTest {
    static final int STEPS = 30;

    static List<String> command(Path run, String... extra) {
        List<String> cmd = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx2g",
                "-Dai.djl.offline=true",
                "-Dai.djl.pytorch.num_threads=2",
                "-cp",
                System.getProperty("java.class.path"),
                "ai.tinyfusion.cli.Main",
                "train",
                "-m",
                "DiT-F7",
                "--run",
                run.toString(),
                "--steps",
                Integer.toString(STEPS),
                "--batch",
                "8",
                "--log-every",
                "1",
                "--ckpt-every",
                "10",
                "--keep",
                "0",
                "--ema",
                "0.99",
                "--seed",
                "3",
                "--no-progress"));
        cmd.addAll(List.of(extra));
        return cmd;
    }

    static Process start(List<String> cmd, Path log) throws IOException {
        return new ProcessBuilder(cmd)
                .redirectErrorStream(true)
                .redirectOutput(log.toFile())
                .start();
    }

    /** metrics.csv rows without the wall-clock and memory columns (they differ between runs). */
    static List<String> losses(Path run) throws IOException {
        List<String> lines = Files.readAllLines(run.resolve("metrics.csv"));
        List<String> header = List.of(lines.get(0).split(","));
        List<String> out = new ArrayList<>();
        for (String line : lines) {
            String[] c = line.split(",", -1);
            StringBuilder sb = new StringBuilder();
            for (int i = 0; i < c.length; i++) {
                if (!header.get(i).equals("seconds")
                        && !header.get(i).equals("rss_gib")
                        && !header.get(i).equals("heap_gib")) {
                    sb.append(c[i]).append(',');
                }
            }
            out.add(sb.toString());
        }
        return out;
    }

    @Test
    void killedRunResumesExactly(@TempDir Path dir) throws Exception {
        Path a = dir.resolve("a");
        Process pa = start(command(a), dir.resolve("a.log"));
        assertTrue(pa.waitFor(15, TimeUnit.MINUTES) && pa.exitValue() == 0, () -> log(dir.resolve("a.log")));

        Path b = dir.resolve("b");
        Process pb = start(command(b), dir.resolve("b.log"));
        Path ckpt = b.resolve("checkpoints/step-0000020.safetensors");
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(15);
        while (!Files.exists(ckpt) && pb.isAlive() && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertTrue(Files.exists(ckpt), () -> "no checkpoint at step 20: " + log(dir.resolve("b.log")));
        pb.destroyForcibly(); // SIGKILL
        pb.waitFor();
        assertTrue(!Files.exists(b.resolve("ema.safetensors")), "the run finished before it could be killed");

        Process pr = start(command(b, "--resume", b.toString()), dir.resolve("r.log"));
        assertTrue(pr.waitFor(15, TimeUnit.MINUTES) && pr.exitValue() == 0, () -> log(dir.resolve("r.log")));
        String resumedLog = log(dir.resolve("r.log"));
        assertTrue(resumedLog.contains("resumed from"), resumedLog);

        List<String> expected = losses(a);
        assertEquals(STEPS + 1, expected.size());
        assertEquals(expected, losses(b));
        // The exported EMA weights are identical too.
        assertEquals(-1L, Files.mismatch(a.resolve("ema.safetensors"), b.resolve("ema.safetensors")));
    }

    static String log(Path p) {
        try {
            return Files.readString(p);
        } catch (IOException e) {
            return "(no log: " + e + ")";
        }
    }
}
