package ai.tinyfusion.model.inception;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.tinyfusion.eval.FeatureStats;
import ai.tinyfusion.io.HostTensor;
import ai.tinyfusion.io.Npz;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The Java FID Inception against pytorch-fid's own module code run on the same random weights
 * (fixture from tools/fixtures/make_inception_fixture.py): pool features, the ADM sFID spatial
 * features and the IS logits to 1e-4, and FID / sFID between two small sets to 1e-3 relative.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class FidInceptionV3ParityTest {
    private static final double ATOL = 1e-4;
    private final NDManager m = NDManager.newBaseManager();
    private FidInceptionV3 net;
    private Map<String, HostTensor> io;

    @BeforeAll
    void buildRecipeNetworkAndReadFixture() throws Exception {
        net = FidInceptionV3.fromTensors(FidInceptionRecipe.stateDict(new FidInceptionV3(m)), m, "recipe");
        io = Npz.read(FidInceptionRecipe.dir().resolve("fid_inception-io.npz"));
    }

    @AfterAll
    void closeManager() {
        m.close();
    }

    @Test
    void recipeWeightsAreTheGeneratorsWeights() {
        double[] expected = io.get("param_sums").toDoubleArray();
        List<String> keys = new ArrayList<>(net.namedParameters().keySet());
        assertEquals(expected.length, keys.size(), "parameter count");
        for (int i = 0; i < keys.size(); i++) {
            double sum = 0;
            for (float v : net.namedParameters().get(keys.get(i)).value().toFloatArray()) {
                sum += v;
            }
            assertEquals(expected[i], sum, 1e-9 * Math.max(1, Math.abs(expected[i])), "sum of " + keys.get(i));
        }
    }

    /** Extracts set {@code name} in batches of at most 4 and compares all three outputs. */
    private InceptionFeatures checkSet(String name, NDManager scope) {
        NDArray images = io.get("images_" + name).toNDArray(scope);
        long n = images.getShape().get(0);
        List<InceptionFeatures> parts = new ArrayList<>();
        for (long i = 0; i < n; i += 4) {
            parts.add(net.extract(images.get(i + ":" + Math.min(n, i + 4))));
        }
        InceptionFeatures f = new InceptionFeatures(concat(parts, 0), concat(parts, 1), concat(parts, 2));
        assertMaxAbs(name + " pool", io.get("pool_" + name), f.pool());
        assertMaxAbs(name + " spatial", io.get("spatial_" + name), f.spatial());
        assertMaxAbs(name + " logits", io.get("logits_" + name), f.logits());
        return f;
    }

    private static NDArray concat(List<InceptionFeatures> parts, int which) {
        ai.djl.ndarray.NDList list = new ai.djl.ndarray.NDList();
        for (InceptionFeatures p : parts) {
            list.add(which == 0 ? p.pool() : which == 1 ? p.spatial() : p.logits());
        }
        return ai.djl.ndarray.NDArrays.concat(list, 0);
    }

    private static void assertMaxAbs(String what, HostTensor expected, NDArray actual) {
        assertEquals(DataType.FLOAT32, actual.getDataType(), what);
        assertEquals(new ai.djl.ndarray.types.Shape(expected.shape()), actual.getShape(), what + " shape");
        float[] e = expected.toFloatArray();
        float[] a = actual.toFloatArray();
        double worst = 0;
        double scale = 0;
        for (int i = 0; i < e.length; i++) {
            worst = Math.max(worst, Math.abs((double) a[i] - e[i]));
            scale = Math.max(scale, Math.abs(e[i]));
        }
        System.out.printf("parity %-12s max|Δ| %.3g (max|ref| %.3g)%n", what, worst, scale);
        assertTrue(worst <= ATOL, what + ": max abs difference " + worst + " > " + ATOL);
        assertTrue(scale > 0.1, what + ": reference features are degenerate (max " + scale + ")");
    }

    @Test
    void uint8ImagesUpsampledMatchPytorchFidAndFidAgrees() {
        try (NDManager scope = m.newSubManager()) {
            InceptionFeatures a = checkSet("a", scope);
            InceptionFeatures b = checkSet("b", scope);
            double fid = FeatureStats.of(InceptionFeatures.rows(a.pool()))
                    .frechetDistance(FeatureStats.of(InceptionFeatures.rows(b.pool())));
            double sfid = FeatureStats.of(InceptionFeatures.rows(a.spatial()))
                    .frechetDistance(FeatureStats.of(InceptionFeatures.rows(b.spatial())));
            double refFid = io.get("fid_pool").toDoubleArray()[0];
            double refSfid = io.get("fid_spatial").toDoubleArray()[0];
            System.out.printf("FID java %.6f ref %.6f; sFID java %.6f ref %.6f%n", fid, refFid, sfid, refSfid);
            assertEquals(refFid, fid, 1e-3 * refFid, "FID (pool) between the sets");
            assertEquals(refSfid, sfid, 1e-3 * refSfid, "sFID (spatial) between the sets");
        }
    }

    @Test
    void floatNchwImagesOfOddSizeMatch() {
        try (NDManager scope = m.newSubManager()) {
            checkSet("odd", scope);
        }
    }

    @Test
    void uint8ImageDownsampledMatches() {
        try (NDManager scope = m.newSubManager()) {
            checkSet("big", scope);
        }
    }
}
