package ai.tinyfusion.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import ai.tinyfusion.io.DType;
import ai.tinyfusion.io.HostTensor;
import ai.tinyfusion.io.Npz;
import ai.tinyfusion.io.StateDicts;
import ai.tinyfusion.model.inception.RandomInceptionWeights;
import com.google.gson.Gson;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code eval --features inception} and {@code bench --inception} through the real command line, random weights. */
class InceptionCommandsTest {
    @TempDir
    Path tmp;

    private static Path images(Path file, long seed, int n, int channels, int bright) throws Exception {
        SplittableRandom rng = new SplittableRandom(seed);
        byte[] raw = new byte[n * 28 * 28 * channels];
        for (int i = 0; i < raw.length; i++) {
            raw[i] = (byte) Math.min(255, rng.nextInt(200) + bright);
        }
        Map<String, HostTensor> a = new LinkedHashMap<>();
        a.put("arr_0", HostTensor.ofBytes(DType.U8, raw, n, 28, 28, channels));
        Npz.write(file, a);
        return file;
    }

    /** Runs the command line and returns its standard output; the exit code must be 0. */
    private static String stdout(String... args) {
        PrintStream old = System.out;
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        StringWriter err = new StringWriter();
        int code;
        try {
            System.setOut(new PrintStream(buf, true, StandardCharsets.UTF_8));
            code = CliRun.run(err, args);
        } finally {
            System.setOut(old);
        }
        String out = buf.toString(StandardCharsets.UTF_8);
        assertEquals(0, code, "stderr: " + err + "\nstdout: " + out);
        return out;
    }

    @Test
    void evalPrintsEveryMetricAndJsonAndBenchTimesTheJavaSide() throws Exception {
        Path weights = tmp.resolve("random-inception.safetensors");
        try (NDManager m = NDManager.newBaseManager()) {
            StateDicts.save(weights, RandomInceptionWeights.stateDict(m), Map.of());
        }
        Path a = images(tmp.resolve("a.npz"), 1, 5, 1, 0); // Fashion-MNIST-like: 28x28, one channel
        Path b = images(tmp.resolve("b.npz"), 2, 5, 1, 40);
        Path json = tmp.resolve("eval.json");
        String out = stdout(
                "eval",
                "--features",
                "inception",
                "--inception",
                weights.toString(),
                "--ref",
                b.toString(),
                "--batch",
                "3",
                "--bootstrap",
                "4",
                "--no-progress",
                "--json",
                json.toString(),
                a.toString());
        assertTrue(out.contains("reference: b.npz (Inception features"), out);
        String row =
                out.lines().filter(l -> l.startsWith(a.toString())).findFirst().orElseThrow();
        assertTrue(row.contains("±"), "FID with its bootstrap spread: " + row);
        assertEquals(
                1,
                java.util.Arrays.stream(row.trim().split("\\s+"))
                        .filter("-"::equals)
                        .count(),
                "only class accuracy is absent: " + row);
        assertTrue(out.contains("1-channel images, replicated to 3 equal RGB channels"), out);
        assertTrue(out.contains("IS over 1 split of up to 5000 samples"), out);
        JsonObject r = new Gson()
                .fromJson(Files.readString(json), JsonArray.class)
                .get(0)
                .getAsJsonObject();
        for (String k : new String[] {"fid", "sfid", "inceptionScore", "precision", "recall", "fidStd"}) {
            assertTrue(r.has(k) && Double.isFinite(r.get(k).getAsDouble()), k + " in " + r);
        }
        assertEquals(5, r.get("numSamples").getAsInt());
        assertTrue(r.get("fid").getAsDouble() > 0);

        String bench = stdout(
                "bench",
                "--inception",
                weights.toString(),
                "--inception-batch",
                "2",
                "--inception-size",
                "28",
                "--iters",
                "1",
                "--warmup",
                "0",
                "--python",
                tmp.resolve("no-python").toString());
        assertTrue(bench.contains("Java (DJL 0.36, libtorch 2.7.1)"), bench);
        assertTrue(bench.contains("PyTorch side skipped: no Python at"), bench);
    }

    @Test
    void weightsOfAnotherNetworkAndMissingOptionsGiveOneClearError() throws Exception {
        Path a = images(tmp.resolve("a.npz"), 1, 4, 3, 0);
        StringWriter err = new StringWriter();
        Path classifier = Path.of("models/fmnist-classifier.safetensors").toAbsolutePath();
        int code = CliRun.run(
                err,
                "eval",
                "--features",
                "inception",
                "--inception",
                classifier.toString(),
                "--ref",
                a.toString(),
                a.toString());
        assertNotEquals(0, code);
        String msg = err.toString().strip();
        assertEquals(1, msg.lines().count(), msg);
        assertTrue(
                msg.startsWith("error: " + classifier + " is not a pytorch-fid Inception-v3 state dict: only 0 of the "
                        + "network's 472 tensors"),
                msg);
        assertTrue(msg.contains("features.0.weight"), msg);

        StringWriter err2 = new StringWriter();
        assertNotEquals(0, CliRun.run(err2, "eval", "--features", "inception", "--ref", a.toString(), a.toString()));
        assertTrue(err2.toString().contains("--features inception needs --inception PATH"), err2.toString());
    }
}
