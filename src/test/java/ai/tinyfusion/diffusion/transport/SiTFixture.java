package ai.tinyfusion.diffusion.transport;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.tinyfusion.Reference;
import ai.tinyfusion.io.HostTensor;
import ai.tinyfusion.io.Npz;
import ai.tinyfusion.model.dit.DiT;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/**
 * The SiT transport fixture (sit_transport.npz + .json, written by tools/fixtures/sit_transport.py from the
 * original SiT and torchdiffeq code) and the reference DiT as SiT's network, loaded once per test class.
 */
abstract class SiTFixture {
    protected static NDManager m;
    protected static DiT dit;
    protected static Map<String, NDArray> io;
    protected static JsonObject cases;

    @BeforeAll
    static void load() throws Exception {
        m = NDManager.newBaseManager();
        dit = Reference.model(m);
        Path npz = Paths.get(SiTFixture.class.getResource("sit_transport.npz").toURI());
        io = new HashMap<>();
        for (Map.Entry<String, HostTensor> e : Npz.read(npz).entrySet()) {
            io.put(e.getKey(), e.getValue().toNDArray(m));
        }
        Path json = npz.resolveSibling("sit_transport.json");
        cases = JsonParser.parseString(Files.readString(json)).getAsJsonObject().getAsJsonObject("cases");
    }

    @AfterAll
    static void close() {
        m.close();
    }

    static JsonObject spec(String name) {
        return cases.getAsJsonObject(name);
    }

    static String str(JsonObject c, String key) {
        return c.get(key).isJsonNull() ? null : c.get(key).getAsString();
    }

    static Transport transportOf(JsonObject c) {
        return Transport.create(str(c, "path"), str(c, "prediction"), c.has("weight") ? str(c, "weight") : null);
    }

    /** The largest |a − b|. */
    static double maxAbs(NDArray expected, NDArray actual) {
        if (!expected.getShape().equals(actual.getShape())) {
            throw new AssertionError("shape " + actual.getShape() + " vs expected " + expected.getShape());
        }
        return expected.toType(DataType.FLOAT64, false)
                .sub(actual.toType(DataType.FLOAT64, false))
                .abs()
                .max()
                .getDouble();
    }

    /** The largest |expected| (to put an error in scale). */
    static double maxMagnitude(NDArray a) {
        return a.toType(DataType.FLOAT64, false).abs().max().getDouble();
    }
}
