package ai.tinyfusion.diffusion;

import static ai.tinyfusion.diffusion.TestSupport.assertAllClose;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import org.junit.jupiter.api.Test;

/** The Gaussian helpers in float64 against numpy values (make_reference_values.py). */
class DiffusionUtilsTest {
    private static final double TOL = 1e-10;

    @Test
    void normalKl() {
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray m1 = m.create(new double[] {0.3, -1.2, 2.0, 0.0});
            NDArray lv1 = m.create(new double[] {-1.0, 0.5, -3.0, 0.0});
            NDArray m2 = m.create(new double[] {0.1, 0.4, -0.5, 0.0});
            NDArray lv2 = m.create(new double[] {0.2, -0.7, -2.5, 0.0});
            assertAllClose(
                    new double[] {0.26697172101766065, 3.137661926930484, 38.12355895705467, 0.0},
                    DiffusionUtils.normalKl(m1, lv1, m2, lv2),
                    TOL,
                    TOL,
                    "kl");
            assertAllClose(
                    new double[] {0.22893972058572115, 0.7943606353500641, 3.0248935341839323, 0.0},
                    DiffusionUtils.normalKl(m1, lv1, 0.0, 0.0),
                    TOL,
                    TOL,
                    "kl vs N(0,1)");
        }
    }

    @Test
    void approxCdf() {
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray x = m.create(new double[] {-3.0, -0.5, 0.0, 0.7, 2.5});
            assertAllClose(
                    new double[] {0.0012124640272576648, 0.3085719803497121, 0.5, 0.757957335293024, 0.9939662935640006
                    },
                    DiffusionUtils.approxStandardNormalCdf(x),
                    TOL,
                    TOL,
                    "cdf");
        }
    }

    @Test
    void discretizedGaussianLogLikelihood() {
        try (NDManager m = NDManager.newBaseManager()) {
            // Covers both open-ended edge bins (|x| > 0.999), interior bins and the 1e-12 probability floor.
            NDArray x = m.create(new double[] {-1.0, -0.9995, -0.5, 0.0, 0.25, 0.999, 0.9995, 1.0, 0.8});
            NDArray mu = m.create(new double[] {-0.98, -0.9, -0.45, 0.1, 0.2, 0.95, 1.02, 0.97, -0.9});
            NDArray ls = m.create(new double[] {-3.0, -2.0, -4.0, -1.0, -3.5, -2.5, -4.5, -5.0, -9.0});
            assertAllClose(
                    new double[] {
                        -0.9851608668878572,
                        -1.4266923061637562,
                        -5.45196799299037,
                        -4.804191749543366,
                        -3.629376631843387,
                        -3.4461400787875918,
                        -0.013937961904566481,
                        -10.313264120490901,
                        -27.631021115928547
                    },
                    DiffusionUtils.discretizedGaussianLogLikelihood(x, mu, ls),
                    TOL,
                    TOL,
                    "log-likelihood");
        }
    }
}
