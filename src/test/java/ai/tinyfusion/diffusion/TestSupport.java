package ai.tinyfusion.diffusion;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.tinyfusion.nn.Scalars;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/**
 * Shared pieces of the diffusion tests: the toy denoiser and deterministic inputs that
 * {@code make_reference_values.py} mirrors, tolerance checks and an .npz reader.
 */
final class TestSupport {
    static final Shape SHAPE = new Shape(4, 2, 3, 3);

    private TestSupport() {}

    /**
     * The toy denoiser: mean channels 0.3 x + 0.001 t + 0.05 y (t the original timestep, y the label), and with a
     * learned variance tanh(x) as the variance channels.
     */
    static DenoiserFn toy(boolean learned) {
        return (x, t, y) -> {
            long n = x.getShape().get(0);
            NDArray tt = t.toType(x.getDataType(), false).reshape(n, 1, 1, 1);
            NDArray yy = y.toType(x.getDataType(), false).reshape(n, 1, 1, 1);
            NDArray mean = Scalars.mul(x, 0.3).add(Scalars.mul(tt, 0.001)).add(Scalars.mul(yy, 0.05));
            return learned ? mean.concat(x.tanh(), 1) : mean;
        };
    }

    /** amp * sin|cos(freq * (i + offset) + phase) over the flattened {@link #SHAPE}, optionally clamped to [-1, 1]. */
    static NDArray wave(
            NDManager m,
            boolean sine,
            double amp,
            double freq,
            double phase,
            boolean clip,
            int offset,
            DataType dtype) {
        int size = Math.toIntExact(SHAPE.size());
        float[] v = new float[size];
        for (int i = 0; i < size; i++) {
            double arg = freq * (double) (i + offset) + phase;
            double w = amp * (sine ? StrictMath.sin(arg) : StrictMath.cos(arg));
            if (clip) {
                w = Math.max(-1.0, Math.min(1.0, w));
            }
            v[i] = (float) w;
        }
        NDArray owned;
        try (NDArray javaOwned = m.create(v, SHAPE)) {
            owned = javaOwned.duplicate();
        }
        return dtype == DataType.FLOAT32 ? owned : owned.toType(dtype, false);
    }

    static NDArray x0(NDManager m, DataType dtype) {
        return wave(m, true, 1.3, 0.37, 0.1, true, 0, dtype);
    }

    static NDArray noise(NDManager m, DataType dtype) {
        return wave(m, false, 1.1, 0.23, 0.5, false, 0, dtype);
    }

    static NDArray xt(NDManager m, DataType dtype) {
        return wave(m, true, 1.5, 0.11, -0.3, false, 0, dtype);
    }

    static NDArray labels(NDManager m) {
        return longs(m, 0, 3, 9, 9);
    }

    static NDArray longs(NDManager m, long... values) {
        try (NDArray javaOwned = m.create(values)) {
            return javaOwned.duplicate();
        }
    }

    /** Step noise k (k = 0, 1, ... in call order): 0.9 cos(0.17 (i + 7k) + 0.05k). */
    static NoiseSource countingNoise() {
        int[] calls = {0};
        return (manager, shape, dataType) -> {
            int k = calls[0]++;
            return wave(manager, false, 0.9, 0.17, 0.05 * k, false, 7 * k, dataType);
        };
    }

    static void assertClose(double expected, double actual, double rel, double abs, String what) {
        double tol = abs + rel * Math.abs(expected);
        assertTrue(
                Math.abs(expected - actual) <= tol,
                what + ": expected " + expected + " but got " + actual + " (tolerance " + tol + ")");
    }

    static void assertAllClose(double[] expected, NDArray actual, double rel, double abs, String what) {
        double[] got = toDoubles(actual);
        assertEquals(expected.length, got.length, what + ": length");
        for (int i = 0; i < expected.length; i++) {
            assertClose(expected[i], got[i], rel, abs, what + "[" + i + "]");
        }
    }

    /**
     * Checks an array's sum, sum of absolute values and the entries at flat positions 0, 5, size / 2 and size - 1,
     * as printed by the Python generator.
     */
    static void assertSummary(NDArray actual, double sum, double absSum, double[] picks, double rel, String what) {
        double[] v = toDoubles(actual);
        double s = 0;
        double a = 0;
        for (double d : v) {
            s += d;
            a += Math.abs(d);
        }
        assertClose(sum, s, rel, rel * absSum, what + " sum");
        assertClose(absSum, a, rel, 0, what + " abs sum");
        int[] at = {0, 5, v.length / 2, v.length - 1};
        for (int k = 0; k < at.length; k++) {
            assertClose(picks[k], v[at[k]], rel, rel, what + "[" + at[k] + "]");
        }
    }

    static double[] toDoubles(NDArray a) {
        if (a.getDataType() == DataType.FLOAT64) {
            return a.toDoubleArray();
        }
        try (NDArray wide = a.toType(DataType.FLOAT64, false)) {
            return wide.toDoubleArray();
        }
    }

    /** Reads an .npz archive into arrays by name. */
    static Map<String, NDArray> readNpz(NDManager m, Path file) throws IOException {
        NDList list = NDList.decode(m, Files.readAllBytes(file));
        Map<String, NDArray> byName = new HashMap<>();
        for (NDArray a : list) {
            byName.put(a.getName(), a);
        }
        return byName;
    }
}
