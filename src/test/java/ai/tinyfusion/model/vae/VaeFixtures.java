package ai.tinyfusion.model.vae;

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

/** The VAE parity fixtures of {@code src/test/resources/fixtures/vae} (see the README there). */
final class VaeFixtures {
    private VaeFixtures() {}

    static Path dir() {
        try {
            return Paths.get(VaeFixtures.class.getResource("/fixtures/vae").toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The diffusers-layout folder of a case ({@code sd_small}, {@code kl16_small}). */
    static Path diffusers(String name) {
        return dir().resolve(name + "-diffusers");
    }

    static Path ldm(String name) {
        return dir().resolve(name + "-ldm.ckpt");
    }

    static VaeConfig config(String name) throws IOException {
        return VaeConfig.fromDiffusersJson(diffusers(name).resolve("config.json"));
    }

    /** Loads a case in one layout ("ldm" or "diffusers"). */
    static AutoencoderKL load(String name, String layout, NDManager m) throws IOException {
        return layout.equals("ldm")
                ? VaeCheckpoints.load(ldm(name), config(name), m)
                : VaeCheckpoints.load(diffusers(name), (String) null, m);
    }

    static Map<String, NDArray> io(String name, NDManager m) throws IOException {
        Map<String, NDArray> out = new HashMap<>();
        for (Map.Entry<String, HostTensor> e :
                Npz.read(dir().resolve(name + "-io.npz")).entrySet()) {
            out.put(e.getKey(), e.getValue().toNDArray(m));
        }
        return out;
    }

    /** max |a − b| after checking the shapes agree. */
    static double maxAbs(NDArray expected, NDArray actual) {
        if (!expected.getShape().equals(actual.getShape())) {
            throw new AssertionError("shape " + actual.getShape() + " vs expected " + expected.getShape());
        }
        return expected.sub(actual).abs().max().getFloat();
    }
}
