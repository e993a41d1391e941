package ai.tinyfusion.model.inception;

import ai.tinyfusion.data.SplitMix64;
import ai.tinyfusion.io.HostTensor;
import ai.tinyfusion.nn.Parameter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The random weights of the Inception parity fixture, made exactly as
 * {@code tools/fixtures/make_inception_fixture.py} makes them (the full network is too large to
 * store): per tensor, value i is {@code offset + q_i · (width / 4096)} rounded to float32, with
 * {@code q_i = 2·(h_i >>> 52) − 4095} and h_i the i-th output (from 1) of SplitMix64 seeded with
 * FNV-1a-64(key) ^ 16. Every operation is exact or correctly rounded, so both sides agree bit for bit.
 */
final class FidInceptionRecipe {
    static final long SEED = 16;

    private FidInceptionRecipe() {}

    /** The fixture folder (generated files, committed). */
    static Path dir() {
        return Paths.get("src/test/resources/fixtures/inception").toAbsolutePath();
    }

    static long fnv1a64(String key) {
        long h = 0xCBF29CE484222325L;
        for (byte b : key.getBytes(StandardCharsets.UTF_8)) {
            h = (h ^ (b & 0xff)) * 0x100000001B3L;
        }
        return h;
    }

    /** {offset, width} of a parameter, the generator's table. */
    static double[] kind(String key, long[] shape) {
        if (key.endsWith(".conv.weight")) {
            return new double[] {0.0, Math.sqrt(5.0 / (shape[1] * shape[2] * shape[3]))};
        }
        if (key.endsWith(".bn.weight")) {
            return new double[] {1.0, 0.25};
        }
        if (key.endsWith(".bn.bias") || key.endsWith(".bn.running_mean")) {
            return new double[] {0.0, 0.1};
        }
        if (key.endsWith(".bn.running_var")) {
            return new double[] {1.0, 0.5};
        }
        if (key.equals("fc.weight")) {
            return new double[] {0.0, Math.sqrt(6.0 / shape[1])};
        }
        if (key.equals("fc.bias")) {
            return new double[] {0.0, 0.5};
        }
        throw new IllegalArgumentException("no recipe for " + key);
    }

    static float[] values(String key, long[] shape) {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        double[] kind = kind(key, shape);
        double step = kind[1] / 4096.0;
        SplitMix64 rng = new SplitMix64(fnv1a64(key) ^ SEED);
        float[] out = new float[Math.toIntExact(n)];
        for (int i = 0; i < out.length; i++) {
            long q = 2 * (rng.nextLong() >>> 52) - 4095;
            out[i] = (float) (kind[0] + q * step);
        }
        return out;
    }

    /** The recipe state dict for every parameter of {@code net}, in its order. */
    static LinkedHashMap<String, HostTensor> stateDict(FidInceptionV3 net) {
        LinkedHashMap<String, HostTensor> out = new LinkedHashMap<>();
        for (Map.Entry<String, Parameter> e : net.namedParameters().entrySet()) {
            long[] shape = e.getValue().value().getShape().getShape();
            out.put(e.getKey(), HostTensor.ofFloats(values(e.getKey(), shape), shape));
        }
        return out;
    }
}
