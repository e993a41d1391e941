package ai.tinyfusion.model.vae;

import static ai.tinyfusion.Reference.assertClose;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * AutoencoderKL against the reference code's recorded outputs (latent-diffusion for the SD-shaped
 * case, MAR for the KL-16-shaped one), loaded from both weight layouts.
 */
class VaeParityTest extends VaeTestBase {
    private static final double TOL = 1e-4;

    @ParameterizedTest(name = "{0} from the {1} layout")
    @CsvSource({"sd_small, ldm", "sd_small, diffusers", "kl16_small, ldm", "kl16_small, diffusers"})
    void encodeAndDecodeMatchTheReference(String name, String layout) throws Exception {
        try (NDManager local = m.newSubManager()) {
            AutoencoderKL vae = VaeFixtures.load(name, layout, local);
            Map<String, NDArray> io = VaeFixtures.io(name, local);

            DiagonalGaussian posterior = vae.encode(io.get("x"));
            double mean = VaeFixtures.maxAbs(io.get("mean"), posterior.mean());
            double logvar = VaeFixtures.maxAbs(io.get("logvar"), posterior.logvar());
            assertClose("moments", io.get("moments"), posterior.moments(), TOL, 1e-5);
            // std reaches e^10 where logvar is clamped at 20: relative tolerance
            assertClose("std", io.get("std"), posterior.std(), 1e-6, 1e-4);
            assertClose("sample", io.get("sample"), posterior.sample(io.get("noise")), TOL, 1e-4);

            double decoded = VaeFixtures.maxAbs(io.get("decoded"), vae.decode(io.get("z")));
            double decodedMean = VaeFixtures.maxAbs(io.get("decoded_mean"), vae.decode(io.get("mean")));
            System.out.printf(
                    "VAE parity %s/%s: max|Δ| mean %.3g, logvar %.3g, decode %.3g, decode(mean) %.3g%n",
                    name, layout, mean, logvar, decoded, decodedMean);
            assertTrue(mean <= TOL, "mean max|Δ| " + mean);
            assertTrue(logvar <= TOL, "logvar max|Δ| " + logvar);
            assertTrue(decoded <= TOL, "decode max|Δ| " + decoded);
            assertTrue(decodedMean <= TOL, "decode(mean) max|Δ| " + decodedMean);
            // the fixture pushes logvar beyond both clamp bounds
            assertEquals(20f, posterior.logvar().max().getFloat());
            assertEquals(-30f, posterior.logvar().min().getFloat());
        }
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource({"sd_small", "kl16_small"})
    void bothLayoutsGiveTheSameWeights(String name) throws Exception {
        try (NDManager local = m.newSubManager()) {
            AutoencoderKL fromLdm = VaeFixtures.load(name, "ldm", local);
            AutoencoderKL fromDiffusers = VaeFixtures.load(name, "diffusers", local);
            Map<String, NDArray> a = fromLdm.stateDict();
            Map<String, NDArray> b = fromDiffusers.stateDict();
            assertEquals(a.keySet(), b.keySet());
            a.forEach((k, v) -> assertClose(k, b.get(k), v, 0, 0));
        }
    }

    @Test
    void encodeAndDecodeLeaveOnlyTheirResultsBehind() throws Exception {
        try (NDManager local = m.newSubManager()) {
            AutoencoderKL vae = VaeFixtures.load("kl16_small", "diffusers", local);
            Map<String, NDArray> io = VaeFixtures.io("kl16_small", local);
            int modelArrays = local.getManagedArrays().size();
            try (NDManager caller = NDManager.newBaseManager()) {
                NDArray x = io.get("x").duplicate();
                x.attach(caller);
                DiagonalGaussian posterior = vae.encode(x);
                // x and the posterior's moments, mean, clamped logvar, std
                assertEquals(5, caller.getManagedArrays().size(), "arrays left in the caller's manager by encode");
                NDArray out = vae.decode(posterior.mean());
                assertEquals(caller, out.getManager());
                assertEquals(6, caller.getManagedArrays().size(), "arrays left in the caller's manager by decode");
                assertEquals(modelArrays, local.getManagedArrays().size(), "arrays added to the model's manager");
                assertEquals(
                        vae.parameterCount(),
                        vae.arrays().stream()
                                .mapToLong(a -> a.getShape().size())
                                .sum());
                assertTrue(vae.arrays().stream().allMatch(a -> a.getManager() == local), "model arrays back home");
            }
        }
    }

    @Test
    void sampleDrawsStandardNormalNoiseFromTheEngine() throws Exception {
        try (NDManager local = m.newSubManager()) {
            Map<String, NDArray> io = VaeFixtures.io("sd_small", local);
            DiagonalGaussian posterior = new DiagonalGaussian(io.get("moments"));
            Engine.getInstance().setRandomSeed(7);
            NDArray sample = posterior.sample();
            Engine.getInstance().setRandomSeed(7);
            NDArray noise = local.randomNormal(0f, 1f, posterior.mean().getShape(), DataType.FLOAT32);
            assertClose("sample", posterior.sample(noise), sample, 0, 0);
            assertThrows(
                    IllegalArgumentException.class,
                    () -> posterior.sample(io.get("z").get("0:1")));
            assertClose("mode", io.get("mean"), posterior.mode(), 0, 0);
        }
    }
}
