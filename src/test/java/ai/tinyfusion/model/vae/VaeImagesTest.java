package ai.tinyfusion.model.vae;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.tinyfusion.nn.Parameter;
import org.junit.jupiter.api.Test;

/** The pixel conventions of {@link VaeImages} and the random-weights VAE. */
class VaeImagesTest extends VaeTestBase {
    @Test
    void decodedImagesBecomeUint8AsDiTSampleDdp() {
        try (NDManager s = m.newSubManager()) {
            // clamp(127.5·x + 128, 0, 255) truncated: -1 → 0.5 → 0, 0 → 128, 1 → 255.5 → 255, beyond clamps;
            // values laid out (N=1, C=3, H=1, W=2) come out NHWC.
            float[] chw = {-1f, 0f, 1f, 2f, -3f, 0.2f};
            NDArray x = s.create(chw, new Shape(1, 3, 1, 2));
            byte[] u = VaeImages.toUint8Nhwc(x);
            int[] got = new int[u.length];
            for (int i = 0; i < u.length; i++) {
                got[i] = u[i] & 0xff;
            }
            // pixel 0: channels (-1, 1, -3); pixel 1: (0, 2, 0.2) → 127.5·0.2 + 128 = 153.5 → 153
            assertArrayEquals(new int[] {0, 255, 0, 128, 255, 153}, got);
        }
    }

    @Test
    void imagesGoToMinusOneToOneAsXOver127p5MinusOne() {
        try (NDManager s = m.newSubManager()) {
            byte[] nhwc = {0, (byte) 255, (byte) 128, 1, 2, 3}; // one 1×2 image: (0,255,128), (1,2,3)
            float[] chw = VaeImages.toUnitRange(s, nhwc, 1, 1, 2).toFloatArray();
            float[] expected = {
                0f / 127.5f - 1, 1f / 127.5f - 1, 255f / 127.5f - 1, 2f / 127.5f - 1, 128f / 127.5f - 1, 3f / 127.5f - 1
            };
            assertArrayEquals(expected, chw, 0f);
        }
    }

    @Test
    void wrongLatentChannelsAreOneClearError() {
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class, () -> VaeImages.checkLatentChannels(VaeConfig.kl16(), 4, "model X"));
        assertEquals(
                "model X has 4 latent channels but the VAE's z has 16: a model and a VAE must share the latent space",
                e.getMessage());
    }

    @Test
    void randomWeightsAreSeededAndScaledByFanIn() throws Exception {
        VaeConfig c = VaeFixtures.config("sd_small");
        try (NDManager s = m.newSubManager()) {
            AutoencoderKL a = AutoencoderKL.random(s, c, 3);
            AutoencoderKL b = AutoencoderKL.random(s, c, 3);
            AutoencoderKL other = AutoencoderKL.random(s, c, 4);
            Parameter w = a.namedParameters().get("decoder.conv_in.weight"); // (64, 4, 3, 3): fan_in 36
            float[] v = w.value().toFloatArray();
            double sq = 0;
            for (float f : v) {
                sq += f * f;
            }
            double std = Math.sqrt(sq / v.length);
            assertEquals(1 / 6.0, std, 0.02, "std of a fan-in-36 weight");
            assertArrayEquals(
                    v, b.namedParameters().get("decoder.conv_in.weight").value().toFloatArray());
            assertNotEquals(
                    v[0],
                    other.namedParameters()
                            .get("decoder.conv_in.weight")
                            .value()
                            .toFloatArray()[0]);
            assertTrue(a.namedParameters()
                            .get("decoder.conv_in.bias")
                            .value()
                            .abs()
                            .max()
                            .getFloat()
                    == 0f);
            assertTrue(a.namedParameters()
                    .get("decoder.conv_norm_out.weight")
                    .value()
                    .eq(1f)
                    .all()
                    .getBoolean());
        }
    }
}
