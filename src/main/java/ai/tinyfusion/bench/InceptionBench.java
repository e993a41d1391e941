package ai.tinyfusion.bench;

import ai.djl.ndarray.NDManager;
import ai.tinyfusion.io.DType;
import ai.tinyfusion.io.HostTensor;
import ai.tinyfusion.model.inception.FidInceptionV3;
import ai.tinyfusion.model.inception.InceptionFeatures;
import com.google.gson.Gson;
import com.google.gson.JsonObject;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Feature-extraction speed of {@link FidInceptionV3}: seconds per {@link FidInceptionV3#extract}
 * of a batch of uint8 NHWC images (resize to 299 included, features copied to the host), on
 * deterministic images that {@code tools/bench/inception_bench.py} makes the same way, so that the
 * same network on Debian's PyTorch can be timed in the same run and its features compared.
 */
public final class InceptionBench {
    private InceptionBench() {}

    /**
     * Image n of a deterministic set: byte {@code (n·13 + y·31 + x·17 + c·7) mod 256} at row y,
     * column x, channel c (NHWC), as the Python script makes it.
     */
    public static byte[] images(int first, int count, int size) {
        byte[] out = new byte[count * size * size * 3];
        int i = 0;
        for (int n = first; n < first + count; n++) {
            for (int y = 0; y < size; y++) {
                for (int x = 0; x < size; x++) {
                    for (int c = 0; c < 3; c++) {
                        out[i++] = (byte) ((n * 13L + y * 31L + x * 17L + c * 7L) % 256);
                    }
                }
            }
        }
        return out;
    }

    /** Pool features (count × 2048, row-major) of the first {@code count} deterministic images. */
    public static float[] probe(FidInceptionV3 net, int count, int size) {
        try (NDManager scope = net.manager().newSubManager()) {
            var x = HostTensor.ofBytes(DType.U8, images(0, count, size), count, size, size, 3)
                    .toNDArray(scope);
            return net.extract(x).pool().toFloatArray();
        }
    }

    /** Seconds of each of {@code iters} timed extractions of one batch, after {@code warmup} untimed ones. */
    public static double[] time(FidInceptionV3 net, int batch, int size, int warmup, int iters) {
        byte[] data = images(0, batch, size);
        double[] out = new double[iters];
        for (int i = 0; i < warmup + iters; i++) {
            try (NDManager scope = net.manager().newSubManager()) {
                long t0 = System.nanoTime();
                var x = HostTensor.ofBytes(DType.U8, data, batch, size, size, 3).toNDArray(scope);
                InceptionFeatures f = net.extract(x);
                f.pool().toFloatArray();
                f.spatial().toFloatArray();
                f.logits().toFloatArray();
                double dt = (System.nanoTime() - t0) / 1e9;
                if (i >= warmup) {
                    out[i - warmup] = dt;
                }
            }
        }
        return out;
    }

    /** What the Python side reported. */
    public record PythonResult(
            double imagesPerSec,
            double[] seconds,
            long peakRssBytes,
            int threads,
            String torch,
            String torchvision,
            String network,
            float[] probePool) {}

    /**
     * Runs {@code script} with {@code python} and parses its last output line.
     *
     * @param extraArgs e.g. {@code --pytorch-fid DIR}, {@code --weights FILE}
     * @throws IOException if the process fails (its output is in the message)
     */
    public static PythonResult runPython(
            Path python,
            Path script,
            int batch,
            int size,
            int warmup,
            int iters,
            int threads,
            int probe,
            List<String> extraArgs,
            long timeoutSeconds)
            throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(
                python.toString(),
                script.toString(),
                "--batch",
                Integer.toString(batch),
                "--size",
                Integer.toString(size),
                "--warmup",
                Integer.toString(warmup),
                "--iters",
                Integer.toString(iters),
                "--threads",
                Integer.toString(threads),
                "--probe",
                Integer.toString(probe)));
        cmd.addAll(extraArgs);
        JsonObject o = PythonScripts.lastJson(cmd, timeoutSeconds);
        double[] secs = new Gson().fromJson(o.get("seconds"), double[].class);
        float[] probePool = o.get("probe_pool").isJsonNull()
                ? new float[0]
                : new Gson().fromJson(o.get("probe_pool"), float[].class);
        return new PythonResult(
                o.get("images_per_sec").getAsDouble(),
                secs,
                o.get("peak_rss_bytes").getAsLong(),
                o.get("threads").getAsInt(),
                o.get("torch").getAsString(),
                o.get("torchvision").getAsString(),
                o.get("network").getAsString(),
                probePool);
    }
}
