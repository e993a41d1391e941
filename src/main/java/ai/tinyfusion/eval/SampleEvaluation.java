package ai.tinyfusion.eval;

import ai.tinyfusion.data.FashionMnist;
import ai.tinyfusion.io.FileHashes;
import ai.tinyfusion.io.HostTensor;
import ai.tinyfusion.io.Npz;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;

/**
 * Evaluates an ADM-style sample file ({@code arr_0} uint8 NHWC, {@code arr_1} requested labels)
 * with the shipped feature network against a reference set: FID and sFID (Fréchet distance of
 * pooled / spatial features), Inception-style score, improved precision/recall (k-NN manifolds)
 * and the share of samples classified as their requested class.
 */
public final class SampleEvaluation {
    private SampleEvaluation() {}

    /** Reference: the Fashion-MNIST test set (cached statistics + its pooled features) or an images .npz. */
    public record Reference(ReferenceStats stats, double[][] pooled, String name) {
        /** The Fashion-MNIST test split, with the shipped cached statistics. */
        public static Reference fashionMnistTest(FeatureNet net, Path dataDir, int batch) throws IOException {
            FashionMnist test = FashionMnist.load(dataDir, FashionMnist.Split.TEST);
            var imgs = test.images();
            String key = "fmnist-test-" + shortHash(imgs.pixels()) + "-" + net.fingerprint();
            ReferenceCache.Entry e = ReferenceCache.standard()
                    .get(
                            key,
                            () -> net.summarize(
                                    imgs.pixels(), 0, imgs.count(), imgs.rows(), imgs.cols(), 1, batch, true));
            return new Reference(e.stats(), e.pooled(), "fashion-mnist-test");
        }

        /** Any ADM-style images .npz (arr_0). */
        public static Reference npz(FeatureNet net, Path file, int batch) throws IOException {
            String key = "npz-" + FileHashes.sha256(file).substring(0, 16) + "-" + net.fingerprint();
            ReferenceCache.Entry e = ReferenceCache.standard().get(key, () -> net.summarizeNpz(file, batch, true));
            return new Reference(e.stats(), e.pooled(), file.getFileName().toString());
        }
    }

    /** The first 16 hex digits of the SHA-256 of {@code bytes}. */
    static String shortHash(byte[] bytes) {
        try {
            byte[] d = java.security.MessageDigest.getInstance("SHA-256").digest(bytes);
            return java.util.HexFormat.of().formatHex(d).substring(0, 16);
        } catch (java.security.NoSuchAlgorithmException ex) {
            throw new IllegalStateException(ex);
        }
    }

    /**
     * All metrics of one sample file against {@code ref}.
     *
     * @param k neighbours for precision/recall
     * @param bootstrapRounds rounds of {@link FidBootstrap} for the FID's spread (0: not computed)
     */
    public static MetricsReport evaluate(
            FeatureNet net, Reference ref, Path samples, String name, int batch, int k, int bootstrapRounds)
            throws IOException {
        LinkedHashMap<String, HostTensor> arrays = Npz.read(samples);
        FeatureNet.Summary s = net.summarizeNpz(samples, batch, true);
        HostTensor labels = arrays.get("arr_1");
        return evaluate(s, labels == null ? null : labels.toLongArray(), ref, name, k, bootstrapRounds);
    }

    /**
     * All metrics of a summary against {@code ref}: the same numbers as {@link #evaluate(FeatureNet, Reference, Path,
     * String, int, int, int)} for a summary put together from parts ({@link FeatureNet.Summary#concat}).
     *
     * @param labels the requested labels ({@code arr_1}), or null (no class accuracy)
     */
    public static MetricsReport evaluate(
            FeatureNet.Summary s, long[] labels, Reference ref, String name, int k, int bootstrapRounds) {
        Double accuracy = null;
        if (labels != null) {
            int[] y = new int[labels.length];
            for (int i = 0; i < labels.length; i++) {
                y[i] = (int) labels[i];
            }
            accuracy = s.accuracy(y);
        }
        double fid = ref.stats().fid(s.pooledStats());
        double sfid = ref.stats().sfid(s.spatialStats());
        double is = InceptionScore.compute(s.probs(), 1);
        PrecisionRecall.Result pr = PrecisionRecall.compute(ref.pooled(), s.pooled(), k);
        Double fidStd =
                bootstrapRounds > 0 ? FidBootstrap.std(s.pooled(), ref.stats().pooled(), bootstrapRounds, 0) : null;
        return new MetricsReport(name, s.count(), fid, sfid, is, pr.precision(), pr.recall(), accuracy, fidStd);
    }
}
