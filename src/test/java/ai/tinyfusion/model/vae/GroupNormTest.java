package ai.tinyfusion.model.vae;

import static ai.tinyfusion.Reference.assertClose;
import static org.junit.jupiter.api.Assertions.assertThrows;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.tinyfusion.nn.GroupNorm;
import org.junit.jupiter.api.Test;

/** nn.GroupNorm (used by the VAE) against the definition, computed in double precision. */
class GroupNormTest extends VaeTestBase {

    @Test
    void normalisesEachGroupOverItsChannelsAndPositions() {
        try (NDManager local = m.newSubManager()) {
            int n = 2, c = 6, h = 3, w = 4, groups = 3;
            double eps = 1e-6;
            GroupNorm norm = new GroupNorm(local, groups, c, eps);
            Engine.getInstance().setRandomSeed(3);
            norm.weight().set(local.randomNormal(new Shape(c)));
            norm.bias().set(local.randomNormal(new Shape(c)));
            NDArray x = local.randomNormal(2f, 3f, new Shape(n, c, h, w), ai.djl.ndarray.types.DataType.FLOAT32);
            float[] xv = x.toFloatArray();
            float[] gamma = norm.weight().value().toFloatArray();
            float[] beta = norm.bias().value().toFloatArray();
            int per = c / groups * h * w;
            float[] expected = new float[xv.length];
            for (int b = 0; b < n; b++) {
                for (int g = 0; g < groups; g++) {
                    int start = (b * groups + g) * per;
                    double mean = 0, var = 0;
                    for (int i = 0; i < per; i++) {
                        mean += xv[start + i];
                    }
                    mean /= per;
                    for (int i = 0; i < per; i++) {
                        var += (xv[start + i] - mean) * (xv[start + i] - mean);
                    }
                    var /= per;
                    for (int i = 0; i < per; i++) {
                        int channel = (start + i) / (h * w) % c;
                        expected[start + i] = (float)
                                ((xv[start + i] - mean) / Math.sqrt(var + eps) * gamma[channel] + beta[channel]);
                    }
                }
            }
            NDArray want = local.create(expected, x.getShape());
            assertClose("forward", want, norm.forward(x), 1e-5, 1e-5);
            assertClose("forwardInPlace", want, norm.forwardInPlace(x), 1e-5, 1e-5);
            assertClose("input untouched", local.create(xv, x.getShape()), x, 0, 0);
            assertThrows(IllegalArgumentException.class, () -> norm.forward(local.zeros(new Shape(1, 4, 2, 2))));
            assertThrows(IllegalArgumentException.class, () -> new GroupNorm(local, 4, 6, eps));
        }
    }
}
