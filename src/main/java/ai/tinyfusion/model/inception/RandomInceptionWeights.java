package ai.tinyfusion.model.inception;

import ai.djl.ndarray.NDManager;
import ai.tinyfusion.data.SplitMix64;
import ai.tinyfusion.io.HostTensor;
import ai.tinyfusion.nn.Parameter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Deterministic random weights for {@link FidInceptionV3}, for tests and timing where the real
 * pytorch-fid weights are absent. They are the weights of the parity fixture, made exactly as
 * {@code tools/fixtures/make_inception_fixture.py} (and {@code tools/bench/inception_bench.py},
 * which imports it) makes them: per tensor, value i is {@code offset + q_i · (width / 4096)}
 * rounded to float32, with {@code q_i = 2·(h_i >>> 52) − 4095} and h_i the i-th output (from 1) of
 * SplitMix64 seeded with FNV-1a-64(key) ^ {@value #SEED}. Every operation is exact or correctly
 * rounded, so Java and Python get the same floats bit for bit. (offset, width): conv weights
 * (0, √(5/fan_in)), BatchNorm γ (1, 0.25), β and running mean (0, 0.1), running variance (1, 0.5),
 * {@code fc.weight} (0, √(6/2048)), {@code fc.bias} (0, 0.5).
 */
public final class RandomInceptionWeights {
    public static final long SEED = 16;

    private RandomInceptionWeights() {}

    static long fnv1a64(String key) {
        long h = 0xCBF29CE484222325L;
        for (byte b : key.getBytes(StandardCharsets.UTF_8)) {
            h = (h ^ (b & 0xff)) * 0x100000001B3L;
        }
        return h;
    }

    /** {offset, width} of a parameter. */
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

    /** The values of parameter {@code key} of shape {@code shape}. */
    public static float[] values(String key, long[] shape) {
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

    /** The state dict (pytorch-fid key names, no {@code num_batches_tracked}) for every parameter of {@code net}. */
    public static LinkedHashMap<String, HostTensor> stateDict(FidInceptionV3 net) {
        LinkedHashMap<String, HostTensor> out = new LinkedHashMap<>();
        for (Map.Entry<String, Parameter> e : net.namedParameters().entrySet()) {
            long[] shape = e.getValue().value().getShape().getShape();
            out.put(e.getKey(), HostTensor.ofFloats(values(e.getKey(), shape), shape));
        }
        return out;
    }

    /** The state dict for the network's keys (a template network is built and freed). */
    public static LinkedHashMap<String, HostTensor> stateDict(NDManager manager) {
        try (NDManager scope = manager.newSubManager()) {
            return stateDict(new FidInceptionV3(scope));
        }
    }

    /** A network with these weights. */
    public static FidInceptionV3 network(NDManager manager) {
        try {
            return FidInceptionV3.fromTensors(stateDict(manager), manager, "random recipe weights (seed " + SEED + ")");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
