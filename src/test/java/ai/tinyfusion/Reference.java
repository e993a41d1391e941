package ai.tinyfusion;

import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.tinyfusion.io.HostTensor;
import ai.tinyfusion.io.Npz;
import ai.tinyfusion.model.dit.DiT;
import ai.tinyfusion.model.dit.ModelFiles;
import java.io.IOException;
import java.util.HashMap;
import java.util.Map;

/** The reference DiT (dit_small.pt) and its recorded inputs/outputs (dit_small-io.npz). */
public final class Reference {
    private Reference() {}

    public static DiT model(NDManager m) throws IOException {
        return ModelFiles.load(Fixtures.reference("dit_small.pt"), m, null);
    }

    public static Map<String, NDArray> io(NDManager m) throws IOException {
        Map<String, NDArray> out = new HashMap<>();
        for (Map.Entry<String, HostTensor> e :
                Npz.read(Fixtures.reference("dit_small-io.npz")).entrySet()) {
            out.put(e.getKey(), e.getValue().toNDArray(m));
        }
        return out;
    }

    /** |a − b| ≤ atol + rtol·|b| everywhere, with a message naming the worst element. */
    public static void assertClose(String what, NDArray expected, NDArray actual, double atol, double rtol) {
        assertTrue(
                expected.getShape().equals(actual.getShape()),
                what + ": shape " + actual.getShape() + " vs expected " + expected.getShape());
        double[] e =
                expected.toType(ai.djl.ndarray.types.DataType.FLOAT64, false).toDoubleArray();
        double[] a = actual.toType(ai.djl.ndarray.types.DataType.FLOAT64, false).toDoubleArray();
        int worst = -1;
        double worstExcess = 0;
        for (int i = 0; i < e.length; i++) {
            double excess = Math.abs(a[i] - e[i]) - (atol + rtol * Math.abs(e[i]));
            if (!(excess <= worstExcess)) {
                worstExcess = Double.isNaN(excess) ? Double.POSITIVE_INFINITY : excess;
                worst = i;
            }
        }
        if (worst >= 0) {
            throw new AssertionError(String.format(
                    "%s: element %d is %.8g, expected %.8g (atol %g, rtol %g)",
                    what, worst, a[worst], e[worst], atol, rtol));
        }
    }
}
