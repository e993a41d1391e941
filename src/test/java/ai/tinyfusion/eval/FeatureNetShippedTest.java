package ai.tinyfusion.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import ai.djl.ndarray.NDManager;
import ai.tinyfusion.OneThread;
import ai.tinyfusion.data.FashionMnist;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The shipped network ({@code models/fmnist-classifier.safetensors}) and the shipped reference
 * statistics of the Fashion-MNIST test split ({@code models/fmnist-test-stats.npz}), on the real
 * data (Debian package dataset-fashion-mnist). Surefire runs in the project directory, so
 * {@link FeatureNet#loadShipped} finds {@code models/} relative to it.
 */
@ExtendWith(OneThread.class)
class FeatureNetShippedTest {
    private static NDManager manager;
    private static FeatureNet net;
    private static FashionMnist test;

    @BeforeAll
    static void load() throws IOException {
        assumeTrue(
                Files.isRegularFile(FashionMnist.DEFAULT_DIR.resolve("t10k-images-idx3-ubyte.gz")),
                "Debian package dataset-fashion-mnist is not installed (apt-get install dataset-fashion-mnist)");
        manager = NDManager.newBaseManager();
        net = FeatureNet.loadShipped(manager);
        test = FashionMnist.load(FashionMnist.Split.TEST);
    }

    @AfterAll
    static void close() {
        if (manager != null) {
            manager.close();
        }
    }

    private static FeatureNet.Summary summarize(FashionMnist data, int first, int count) {
        return net.summarize(data.images().pixels(), first, count, 28, 28, 1, FeatureNet.DEFAULT_BATCH, false);
    }

    @Test
    void shippedFilesAreSmallAndDescribed() throws IOException {
        Path model = FeatureNet.locateShipped(FeatureNet.SHIPPED_MODEL);
        assertTrue(Files.size(model) <= 4L << 20, model + " is " + Files.size(model) + " bytes");
        Map<String, String> meta = FeatureNet.metadata(model);
        assertEquals(FeatureNet.ARCHITECTURE, meta.get(FeatureNet.ARCHITECTURE_KEY));
        assertTrue(Double.parseDouble(meta.get(FeatureNet.TEST_ACCURACY_KEY)) >= 0.90, meta.toString());
        ReferenceStats ref = FeatureNet.loadShippedStats();
        assertEquals(10_000, ref.count());
        assertEquals(FeatureNet.POOLED_DIM, ref.pooled().dim());
        assertEquals(FeatureNet.SPATIAL_DIM, ref.spatial().dim());
    }

    @Test
    void classifiesTheFirstThousandTestImages() {
        FeatureNet.Summary s = summarize(test, 0, 1000);
        double acc = s.accuracy(Arrays.copyOf(test.labels(), 1000));
        assertTrue(acc >= 0.90, "accuracy on the first 1000 test images: " + acc);
        // Confident on real data: the mean top probability is high.
        double top = 0;
        for (double[] p : s.probs()) {
            top += Arrays.stream(p).max().orElseThrow() / 1000;
        }
        assertTrue(top > 0.8, "mean top-class probability " + top);
    }

    @Test
    void fidOfTheTestSetAgainstItsCachedStatisticsIsZero() throws IOException {
        ReferenceStats ref = FeatureNet.loadShippedStats();
        FeatureNet.Summary s = summarize(test, 0, test.size());
        double fid = ref.fid(s.pooledStats());
        double sfid = ref.sfid(s.spatialStats());
        assertEquals(0, fid, 1e-3, "FID of the test set against its own statistics");
        assertEquals(0, sfid, 1e-3, "sFID of the test set against its own statistics");
    }

    @Test
    void fidBetweenTrainAndTestImagesIsSmallButPositive() throws IOException {
        ReferenceStats ref = FeatureNet.loadShippedStats();
        FashionMnist train = FashionMnist.load(FashionMnist.Split.TRAIN);
        FeatureNet.Summary trainSummary = summarize(train, 0, 1000);
        double fidTrain = ref.fid(trainSummary.pooledStats());
        double sfidTrain = ref.sfid(trainSummary.spatialStats());
        // A clearly different distribution for scale: the same test images with inverted pixels.
        byte[] inverted = Arrays.copyOf(test.images().pixels(), 1000 * 784);
        for (int i = 0; i < inverted.length; i++) {
            inverted[i] = (byte) (255 - (inverted[i] & 0xff));
        }
        FeatureNet.Summary bad = net.summarize(inverted, 0, 1000, 28, 28, 1, FeatureNet.DEFAULT_BATCH, false);
        double fidBad = ref.fid(bad.pooledStats());
        double sfidBad = ref.sfid(bad.spatialStats());
        assertTrue(fidTrain > 0 && sfidTrain > 0, "FID " + fidTrain + ", sFID " + sfidTrain);
        assertTrue(fidTrain < 0.05 * fidBad, "FID train " + fidTrain + " vs inverted " + fidBad);
        assertTrue(sfidTrain < 0.05 * sfidBad, "sFID train " + sfidTrain + " vs inverted " + sfidBad);
    }
}
