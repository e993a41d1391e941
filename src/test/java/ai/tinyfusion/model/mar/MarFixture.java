package ai.tinyfusion.model.mar;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.tinyfusion.io.HostTensor;
import ai.tinyfusion.io.Npz;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.HashMap;
import java.util.Map;

/** The MAR parity fixture of {@code src/test/resources/fixtures/mar} (tools/fixtures/make_mar_fixture.py). */
public final class MarFixture {
    private MarFixture() {}

    /** The reduced config the fixture was made with (mar_small-config.json). */
    public static final MarConfig CONFIG =
            new MarConfig(64, 16, 1, 32, 2, 4, 24, 2, 4, 4.0, 16, 0.7, 0.1, 10, 0.1, 0.1, 4, 2, 48, "100", 2);

    public static Path dir() {
        try {
            return Paths.get(MarFixture.class.getResource("/fixtures/mar").toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The checkpoint in the layout of MAR's save_model ('model_ema' holds the parity weights). */
    public static Path checkpoint() {
        return dir().resolve("mar_small-checkpoint.pth");
    }

    public static Mar load(NDManager m) throws IOException {
        return MarFiles.load(checkpoint(), m, CONFIG);
    }

    public static Map<String, HostTensor> ioHost() throws IOException {
        return Npz.read(dir().resolve("mar_small-io.npz"));
    }

    public static Map<String, NDArray> io(NDManager m) throws IOException {
        Map<String, NDArray> out = new HashMap<>();
        for (Map.Entry<String, HostTensor> e : ioHost().entrySet()) {
            out.put(e.getKey(), e.getValue().toNDArray(m));
        }
        return out;
    }

    /** max |a − b| after checking the shapes agree. */
    public static double maxAbs(NDArray expected, NDArray actual) {
        if (!expected.getShape().equals(actual.getShape())) {
            throw new AssertionError("shape " + actual.getShape() + " vs expected " + expected.getShape());
        }
        return expected.toType(ai.djl.ndarray.types.DataType.FLOAT64, false)
                .sub(actual.toType(ai.djl.ndarray.types.DataType.FLOAT64, false))
                .abs()
                .max()
                .getDouble();
    }
}
