package ai.tinyfusion.diffusion;

import static ai.tinyfusion.diffusion.TestSupport.assertAllClose;
import static ai.tinyfusion.diffusion.TestSupport.assertSummary;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.tinyfusion.nn.Scalars;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The whole process with a deterministic toy denoiser, through the same public API a DiT uses, against a numpy
 * port of the reference formulas run offline (make_reference_values.py; float32 like the reference).
 */
class ToyParityTest {
    /** float32 libtorch vs float32 numpy: transcendental implementations and reduction order differ slightly. */
    private static final double REL = 1e-5;

    private static final double ABS = 1e-6;

    @Test
    void trainingLossesDefaultSettings() {
        try (NDManager m = NDManager.newBaseManager()) {
            SpacedDiffusion d = DiffusionFactory.create("");
            TrainingLosses terms = d.trainingLosses(
                    TestSupport.toy(true),
                    TestSupport.x0(m, DataType.FLOAT32),
                    TestSupport.longs(m, 0, 1, 500, 999),
                    TestSupport.labels(m),
                    TestSupport.noise(m, DataType.FLOAT32));
            assertAllClose(
                    new double[] {0.3990618586540222, 0.4590122401714325, 1.4727749824523926, 3.0392439365386963},
                    terms.mse(),
                    REL,
                    ABS,
                    "mse");
            // vb at t = 0 is the decoder NLL, elsewhere the KL to the posterior, in bits per dimension.
            assertAllClose(
                    new double[] {1.3249499797821045, 0.3607099950313568, 0.011714821681380272, 0.044743698090314865},
                    terms.vb(),
                    REL,
                    ABS,
                    "vb");
            assertAllClose(
                    new double[] {1.7240118980407715, 0.8197222352027893, 1.4844897985458374, 3.0839877128601074},
                    terms.loss(),
                    REL,
                    ABS,
                    "loss");
        }
    }

    @Test
    void trainingLossesOtherObjectives() {
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray x0 = TestSupport.x0(m, DataType.FLOAT32);
            NDArray noise = TestSupport.noise(m, DataType.FLOAT32);
            NDArray y = TestSupport.labels(m);
            NDArray t = TestSupport.longs(m, 0, 1, 500, 999);

            // RESCALED_MSE over a 500-step process: vb scaled by 500 / 1000.
            SpacedDiffusion rescaled = DiffusionFactory.builder()
                    .rescaleLearnedSigmas(true)
                    .diffusionSteps(500)
                    .build();
            assertEquals(LossType.RESCALED_MSE, rescaled.lossType());
            TrainingLosses r =
                    rescaled.trainingLosses(TestSupport.toy(true), x0, TestSupport.longs(m, 0, 1, 250, 499), y, noise);
            assertAllClose(
                    new double[] {0.3979208767414093, 0.4571310579776764, 1.0143386125564575, 1.619979739189148},
                    r.mse(),
                    REL,
                    ABS,
                    "rescaled mse");
            assertAllClose(
                    new double[] {0.8293495178222656, 0.20583945512771606, 0.00815395824611187, 0.02434617094695568},
                    r.vb(),
                    REL,
                    ABS,
                    "rescaled vb");
            assertAllClose(
                    new double[] {1.2272703647613525, 0.6629705429077148, 1.022492527961731, 1.644325852394104},
                    r.loss(),
                    REL,
                    ABS,
                    "rescaled loss");

            // RESCALED_KL: the VB term times T is the whole loss.
            TrainingLosses kl = DiffusionFactory.builder()
                    .useKl(true)
                    .build()
                    .trainingLosses(TestSupport.toy(true), x0, t, y, noise);
            assertNull(kl.mse());
            assertAllClose(
                    new double[] {1324.949951171875, 360.7099914550781, 11.714821815490723, 44.74369812011719},
                    kl.loss(),
                    REL,
                    ABS,
                    "rescaled kl");

            // x_0 prediction with the fixed large variance: plain MSE to x_0, no vb.
            TrainingLosses xs = DiffusionFactory.builder()
                    .learnSigma(false)
                    .predictXstart(true)
                    .build()
                    .trainingLosses(TestSupport.toy(false), x0, t, y, noise);
            assertNull(xs.vb());
            assertAllClose(
                    new double[] {0.2987627685070038, 0.32580092549324036, 1.498357892036438, 2.1577062606811523},
                    xs.loss(),
                    REL,
                    ABS,
                    "x0 mse");

            // KL with the fixed small variance.
            TrainingLosses small = DiffusionFactory.builder()
                    .useKl(true)
                    .learnSigma(false)
                    .sigmaSmall(true)
                    .build()
                    .trainingLosses(TestSupport.toy(false), x0, t, y, noise);
            assertAllClose(
                    new double[] {1257.82275390625, 397.1102294921875, 11.71694278717041, 44.74385452270508},
                    small.loss(),
                    REL,
                    ABS,
                    "fixed small kl");
        }
    }

    @Test
    void pMeanVarianceRespaced250() {
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray x = TestSupport.xt(m, DataType.FLOAT32);
            NDArray t = TestSupport.longs(m, 0, 1, 100, 249);
            NDArray y = TestSupport.labels(m);

            List<long[]> seen = new ArrayList<>();
            DenoiserFn toy = TestSupport.toy(true);
            DenoiserFn recording = (xx, tt, yy) -> {
                seen.add(tt.toLongArray());
                return toy.apply(xx, tt, yy);
            };
            PMeanVariance out = DiffusionFactory.create("250").pMeanVariance(recording, x, t, y, false);
            // The model sees original timesteps: spaced index k stands for step 4k (round(k * 999 / 249)).
            assertEquals(1, seen.size());
            org.junit.jupiter.api.Assertions.assertArrayEquals(new long[] {0, 4, 401, 999}, seen.get(0));
            assertSummary(
                    out.mean(),
                    6.057015739381313,
                    65.34649170190096,
                    new double[] {-0.441972553730011, 0.3700110912322998, -0.7779824733734131, 1.319120168685913},
                    REL,
                    "250 mean");
            assertSummary(
                    out.logVariance(),
                    -418.1287274360657,
                    418.1287274360657,
                    new double[] {-9.31960391998291, -9.260101318359375, -3.453289031982422, -2.5572280883789062},
                    REL,
                    "250 log variance");
            assertSummary(
                    out.predXstart(),
                    -3426.733368843794,
                    3480.8957596719265,
                    new double[] {-0.441972553730011, 0.3700110912322998, -2.984511375427246, -72.48310852050781},
                    REL,
                    "250 x0");
            assertSummary(
                    out.variance(),
                    sumExp(out.logVariance()),
                    sumExp(out.logVariance()),
                    firstPicksExp(out.logVariance()),
                    1e-6,
                    "variance = exp(log variance)");

            PMeanVariance large = DiffusionFactory.builder()
                    .timestepRespacing("250")
                    .learnSigma(false)
                    .predictXstart(true)
                    .build()
                    .pMeanVariance(TestSupport.toy(false), x, t, y, true);
            assertSummary(
                    large.mean(),
                    -4.6327788243070245,
                    46.219357184134424,
                    new double[] {-0.13298410177230835, 0.11133178323507309, -0.714577317237854, 1.3567994832992554},
                    REL,
                    "fixed large mean");
            assertSummary(
                    large.logVariance(),
                    -410.1999235153198,
                    410.1999235153198,
                    new double[] {-9.364627838134766, -9.364627838134766, -3.446889638900757, -2.557227849960327},
                    REL,
                    "fixed large log variance");
            assertSummary(
                    large.predXstart(),
                    36.79250442702323,
                    37.349802237935364,
                    new double[] {-0.13298410177230835, 0.11133178323507309, 0.6280261874198914, 1.0},
                    REL,
                    "fixed large x0 (clipped)");

            PMeanVariance small = DiffusionFactory.builder()
                    .timestepRespacing("250")
                    .learnSigma(false)
                    .sigmaSmall(true)
                    .build()
                    .pMeanVariance(TestSupport.toy(false), x, t, y, true, a -> Scalars.mul(a, 0.9));
            assertSummary(
                    small.mean(),
                    3.5514964666217566,
                    58.689107885584235,
                    new double[] {-0.3977752923965454, 0.3330099880695343, -0.7431514859199524, 1.3557740449905396},
                    REL,
                    "fixed small mean");
            assertSummary(
                    small.logVariance(),
                    -445.34202003479004,
                    445.34202003479004,
                    new double[] {-9.364627838134766, -9.364627838134766, -3.4547364711761475, -2.5572311878204346},
                    REL,
                    "fixed small log variance");
            assertSummary(
                    small.predXstart(),
                    -16.6798290386796,
                    59.432275392115116,
                    new double[] {-0.3977752923965454, 0.3330099880695343, -1.0, -1.0},
                    REL,
                    "fixed small x0 (denoised fn, clipped)");
        }
    }

    @Test
    void ddimLoops() {
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray z = TestSupport.xt(m, DataType.FLOAT32);
            NDArray y = TestSupport.labels(m);
            SpacedDiffusion d = DiffusionFactory.create("ddim10");
            int[] steps = {0};
            NDArray out = d.ddimSampleLoop(
                    TestSupport.toy(true),
                    m,
                    TestSupport.SHAPE,
                    y,
                    SamplingOptions.defaults()
                            .initialNoise(z)
                            .clipDenoised(false)
                            .eta(0.0)
                            .noiseSource(TestSupport.countingNoise())
                            .listener((i, sample, x0) -> steps[0]++));
            assertEquals(10, steps[0]);
            assertSummary(
                    out,
                    -1782.7346348166466,
                    1872.054824411869,
                    new double[] {-28.346872329711914, -13.42241382598877, -45.506927490234375, -6.007490634918213},
                    REL,
                    "ddim10 eta 0");
            // The caller's initial noise is left open and unchanged.
            org.junit.jupiter.api.Assertions.assertFalse(z.isReleased());
            org.junit.jupiter.api.Assertions.assertArrayEquals(
                    TestSupport.xt(m, DataType.FLOAT32).toFloatArray(), z.toFloatArray());

            NDArray noisy = d.ddimSampleLoop(
                    TestSupport.toy(true),
                    m,
                    TestSupport.SHAPE,
                    y,
                    SamplingOptions.defaults()
                            .initialNoise(z)
                            .clipDenoised(true)
                            .eta(0.5)
                            .noiseSource(TestSupport.countingNoise()));
            assertSummary(
                    noisy,
                    -49.39375338703394,
                    50.43585904687643,
                    new double[] {-0.9015811085700989, -0.7702367901802063, -1.0, -0.3536868095397949},
                    REL,
                    "ddim10 eta 0.5");

            SampleStep rev =
                    d.ddimReverseSample(TestSupport.toy(true), z, TestSupport.longs(m, 0, 3, 5, 8), y, false, null);
            assertSummary(
                    rev.sample(),
                    34.584780625998974,
                    54.49871178716421,
                    new double[] {-0.4612211585044861, 0.3861262798309326, -0.10865914821624756, 1.5632247924804688},
                    REL,
                    "reverse ddim step");
        }
    }

    @Test
    void ancestralLoopAndBound() {
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray z = TestSupport.xt(m, DataType.FLOAT32);
            NDArray y = TestSupport.labels(m);
            SpacedDiffusion d = DiffusionFactory.create("10");
            NDArray out = d.pSampleLoop(
                    TestSupport.toy(true),
                    m,
                    TestSupport.SHAPE,
                    y,
                    SamplingOptions.defaults().initialNoise(z).noiseSource(TestSupport.countingNoise()));
            assertSummary(
                    out,
                    -62.13056683540344,
                    62.13056683540344,
                    new double[] {-0.5681766867637634, -0.8792653679847717, -1.0, -0.9802378416061401},
                    REL,
                    "p_sample loop (10 steps)");

            NDArray x0 = TestSupport.x0(m, DataType.FLOAT32);
            BpdTerms bpd = d.calcBpdLoop(TestSupport.toy(true), x0, y, true, TestSupport.countingNoise());
            assertEquals(new ai.djl.ndarray.types.Shape(4, 10), bpd.vb().getShape());
            assertSummary(
                    bpd.vb(),
                    138.07082600702415,
                    138.07082600702415,
                    new double[] {1.7173564434051514, 0.0368853360414505, 1.6183795928955078, 0.0003808816254604608},
                    REL,
                    "bpd terms");
            assertAllClose(
                    new double[] {55.87409591674805, 33.259071350097656, 14.714274406433105, 34.22346115112305},
                    bpd.totalBpd(),
                    REL,
                    ABS,
                    "total bpd");
            double[] prior = {
                1.7846632545115426e-05, 1.841339144448284e-05, 1.941314803843852e-05, 1.9483681171550415e-05
            };
            assertAllClose(prior, bpd.priorBpd(), 1e-4, 1e-10, "prior bpd (10 steps)");
            assertAllClose(prior, DiffusionFactory.create("").priorBpd(x0), 1e-4, 1e-10, "prior bpd (1000 steps)");
        }
    }

    private static double[] picks(NDArray a) {
        double[] v = TestSupport.toDoubles(a);
        return new double[] {v[0], v[5], v[v.length / 2], v[v.length - 1]};
    }

    private static double sumExp(NDArray logv) {
        double s = 0;
        for (double v : TestSupport.toDoubles(logv)) {
            s += Math.exp(v);
        }
        return s;
    }

    private static double[] firstPicksExp(NDArray logv) {
        double[] p = picks(logv);
        for (int i = 0; i < p.length; i++) {
            p[i] = Math.exp(p[i]);
        }
        return p;
    }
}
