package ai.tinyfusion.eval;

import ai.djl.ndarray.NDManager;
import ai.tinyfusion.io.DType;
import ai.tinyfusion.io.FileHashes;
import ai.tinyfusion.io.HostTensor;
import ai.tinyfusion.io.NpyStream;
import ai.tinyfusion.io.Npz;
import ai.tinyfusion.io.Shapes;
import ai.tinyfusion.model.inception.FidInceptionV3;
import ai.tinyfusion.model.inception.InceptionFeatures;
import ai.tinyfusion.util.ProgressBars;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import me.tongfei.progressbar.ProgressBar;

/**
 * FID, sFID, Inception Score and precision/recall of ADM-style sample files with the FID
 * Inception-v3 ({@link FidInceptionV3}), as OpenAI's ADM evaluator
 * ({@code guided-diffusion/evaluations/evaluator.py}) defines them:
 * <ul>
 *   <li>FID / sFID: Fréchet distance ({@link FrechetDistance}) of the pool (2048) / spatial (2023)
 *       feature statistics ({@link FeatureStats}, {@code np.cov} semantics);</li>
 *   <li>IS: softmax of the bias-free logits, consecutive splits of {@value InceptionScore#ADM_SPLIT_SIZE}
 *       rows (10 splits at 50,000 samples, one below 5,000), mean over splits of
 *       exp(mean KL(p(y|x) ‖ p(y))) ({@link InceptionScore.Splits});</li>
 *   <li>precision / recall: k-NN manifolds of the pool features, k = 3 ({@link PrecisionRecall});</li>
 *   <li>the FID's spread over bootstrap resamples of the samples ({@link FidBootstrap}), as the
 *       Fashion-MNIST {@code eval} reports it.</li>
 * </ul>
 *
 * <p><b>Streaming.</b> Images are read batch by batch from the {@code arr_0} member of the
 * {@code .npz} ({@link Npz.Archive#stream}: a stored member is read straight from the file, a
 * deflated one inflated as it goes), so only one batch of uint8 images and one batch of
 * activations exist at a time; what is kept per image is its 2048 pool features (16 KB as
 * doubles, for precision/recall and the bootstrap: 0.8 GB at 50,000 samples) and, per
 * {@value InceptionScore#ADM_SPLIT_SIZE}-image split, its class probabilities. Statistics are
 * accumulated batch by batch.
 *
 * <p><b>Input.</b> {@code arr_0} must be uint8 (N, H, W, 3) RGB. Single-channel (N, H, W, 1) images
 * (Fashion-MNIST samples) are accepted and replicated to three equal channels, which is what a
 * greyscale image is in RGB; the report says so.
 *
 * <p><b>Reference.</b> Another images {@code .npz}, or an ADM reference batch: statistics stored in
 * the file ({@code mu}/{@code sigma}, {@code mu_s}/{@code sigma_s}) are used as given, as the ADM
 * evaluator does; images in it ({@code arr_0}) give the features for precision/recall (and any
 * statistics the file lacks). Features computed from a reference file are cached next to it
 * (or in the user cache when its folder is not writable), keyed by the SHA-256 of the file's
 * bytes and the network's weights ({@link ReferenceCache}).
 */
public final class InceptionEvaluation {
    /** The images array of ADM sample and reference files. */
    public static final String IMAGES = "arr_0";

    private InceptionEvaluation() {}

    /** What one pass over an images file gives. */
    public record Summary(
            String name,
            int count,
            FeatureStats pool,
            FeatureStats spatial,
            double[][] pooled,
            InceptionScore.Splits inceptionScore,
            boolean greyExpanded) {}

    /** A reference set: whichever of statistics and pool features are available, and why others are not. */
    public record Reference(
            String name, FeatureStats pool, FeatureStats spatial, double[][] pooled, List<String> notes) {}

    /** The layout of an {@code arr_0} accepted here. */
    record ImageLayout(int count, int height, int width, int channels) {
        int bytesPerImage() {
            return height * width * channels;
        }
    }

    /** Checks that {@code images} is uint8 (N, H, W, 3) or (N, H, W, 1) in C order. */
    static ImageLayout checkImages(NpyStream images) throws IOException {
        long[] s = images.shape();
        boolean ok = images.dtype() == DType.U8
                && s.length == 4
                && (s[3] == 3 || s[3] == 1)
                && !(images.fortranOrder() && images.dataBytes() > 0)
                && s[1] > 0
                && s[2] > 0;
        if (!ok) {
            String hint = s.length == 4 && (s[1] == 3 || s[1] == 1) && s[3] != 3 && s[3] != 1
                    ? " (this looks like NCHW; ADM files are NHWC)"
                    : "";
            throw new IOException(images.source() + ": expected uint8 images in NHWC layout with 3 (RGB) channels, "
                    + "shape (N, H, W, 3), as ADM sample files hold; got " + images.dtype() + " "
                    + Shapes.format(s) + (images.fortranOrder() ? " in Fortran order" : "") + hint);
        }
        if (s[0] < 2) {
            throw new IOException(images.source() + ": need at least 2 images for feature statistics, got " + s[0]);
        }
        if ((long) s[1] * s[2] * 3 > Integer.MAX_VALUE / 64) {
            throw new IOException(images.source() + ": images of " + s[1] + "x" + s[2] + " are too large");
        }
        return new ImageLayout(Math.toIntExact(s[0]), (int) s[1], (int) s[2], (int) s[3]);
    }

    /**
     * Runs the network over the {@code arr_0} images of {@code npz}, {@code batch} images at a time.
     *
     * @param keepPooled whether to keep each image's pool features (precision/recall, bootstrap)
     * @param progress whether to show a progress bar (with ETA) on stderr
     * @throws IOException naming the file if it is not an ADM images file
     */
    public static Summary summarize(FidInceptionV3 net, Path npz, int batch, boolean keepPooled, boolean progress)
            throws IOException {
        if (batch <= 0) {
            throw new IllegalArgumentException("batch size must be positive, got " + batch);
        }
        try (Npz.Archive archive = Npz.open(npz)) {
            if (!archive.contains(IMAGES)) {
                throw new IOException(npz + " has no " + IMAGES + " (uint8 NHWC images); it holds " + archive.keys());
            }
            try (NpyStream images = archive.stream(IMAGES)) {
                return summarize(net, images, npz.getFileName().toString(), batch, keepPooled, progress);
            }
        }
    }

    private static Summary summarize(
            FidInceptionV3 net, NpyStream images, String name, int batch, boolean keepPooled, boolean progress)
            throws IOException {
        ImageLayout l = checkImages(images);
        int per = l.bytesPerImage();
        int perRgb = l.height() * l.width() * 3;
        int b0 = Math.min(batch, l.count());
        byte[] raw = new byte[b0 * per];
        byte[] rgb = l.channels() == 3 ? raw : new byte[b0 * perRgb];
        FeatureStats pool = new FeatureStats(InceptionFeatures.POOL_DIM);
        FeatureStats spatial = new FeatureStats(InceptionFeatures.SPATIAL_DIM);
        double[][] pooled = keepPooled ? new double[l.count()][] : null;
        InceptionScore.Splits is = new InceptionScore.Splits(InceptionScore.ADM_SPLIT_SIZE);
        try (ProgressBar bar = ProgressBars.builder("inception " + name, l.count(), progress)
                .setUnit(" img", 1)
                .build()) {
            for (int start = 0; start < l.count(); start += b0) {
                int b = Math.min(b0, l.count() - start);
                images.readFully(raw, 0, b * per);
                if (l.channels() == 1) {
                    for (int i = 0, n = b * per; i < n; i++) {
                        byte v = raw[i];
                        rgb[3 * i] = v;
                        rgb[3 * i + 1] = v;
                        rgb[3 * i + 2] = v;
                    }
                }
                float[] p;
                float[] sp;
                float[] lg;
                try (NDManager scope = net.manager().newSubManager()) {
                    byte[] slice = b == b0 ? rgb : java.util.Arrays.copyOf(rgb, b * perRgb);
                    InceptionFeatures f = net.extract(HostTensor.ofBytes(DType.U8, slice, b, l.height(), l.width(), 3)
                            .toNDArray(scope));
                    p = f.pool().toFloatArray();
                    sp = f.spatial().toFloatArray();
                    lg = f.logits().toFloatArray();
                }
                pool.update(p, b);
                spatial.update(sp, b);
                is.addLogits(lg, b);
                if (keepPooled) {
                    int d = InceptionFeatures.POOL_DIM;
                    for (int i = 0; i < b; i++) {
                        double[] row = new double[d];
                        for (int j = 0; j < d; j++) {
                            row[j] = p[i * d + j];
                        }
                        pooled[start + i] = row;
                    }
                }
                bar.stepBy(b);
            }
        }
        return new Summary(name, l.count(), pool, spatial, pooled, is, l.channels() == 1);
    }

    /**
     * The reference set in {@code file}: an images {@code .npz} or an ADM reference batch (see the
     * class comment). Images are summarised once and cached in {@code cache}.
     *
     * @throws IOException if the file has neither statistics nor images, or half a statistics pair
     */
    public static Reference reference(FidInceptionV3 net, Path file, int batch, boolean progress, ReferenceCache cache)
            throws IOException {
        List<String> keys;
        try (Npz.Archive archive = Npz.open(file)) {
            keys = archive.keys();
        }
        boolean hasStats = keys.contains("mu") && keys.contains("sigma");
        boolean hasSpatial = keys.contains("mu_s") && keys.contains("sigma_s");
        boolean hasImages = keys.contains(IMAGES);
        if (keys.contains("mu") != keys.contains("sigma") || keys.contains("mu_s") != keys.contains("sigma_s")) {
            throw new IOException(
                    file + ": a reference batch needs mu with sigma (and mu_s with sigma_s); it holds " + keys);
        }
        if (!hasStats && !hasImages) {
            throw new IOException(file + " is not a reference batch: it has neither statistics (mu, sigma) nor images ("
                    + IMAGES + "); it holds " + keys);
        }
        ReferenceCache.Entry computed = null;
        if (hasImages) {
            String key = file.getFileName() + ".inception-" + FileHashes.sha256(file) + "-" + net.fingerprint();
            computed = cache.getEntry(key, () -> {
                Summary s = summarize(net, file, batch, true, progress);
                return new ReferenceCache.Entry(new ReferenceStats(s.pool(), s.spatial()), s.pooled());
            });
        }
        List<String> notes = new ArrayList<>();
        FeatureStats pool =
                hasStats ? FeatureStats.loadNpz(file) : computed.stats().pooled();
        checkDim(file, "mu", pool, InceptionFeatures.POOL_DIM);
        FeatureStats spatial = null;
        if (hasSpatial) {
            spatial = FeatureStats.loadNpz(file, "mu_s", "sigma_s");
            checkDim(file, "mu_s", spatial, InceptionFeatures.SPATIAL_DIM);
        } else if (computed != null) {
            spatial = computed.stats().spatial();
        } else {
            notes.add("sFID unavailable: " + file.getFileName()
                    + " holds mu/sigma but neither mu_s/sigma_s nor images (" + IMAGES + ")");
        }
        if (hasStats) {
            notes.add("FID" + (hasSpatial ? "/sFID" : "") + " against the statistics stored in " + file.getFileName()
                    + " (mu/sigma" + (hasSpatial ? ", mu_s/sigma_s" : "") + ")");
        }
        double[][] pooled = computed == null ? null : computed.pooled();
        if (pooled == null) {
            notes.add("precision/recall unavailable: " + file.getFileName() + " holds statistics but no images ("
                    + IMAGES + "); they need the reference images' features (ADM uses the reference batch's images)");
        }
        return new Reference(file.getFileName().toString(), pool, spatial, pooled, notes);
    }

    private static void checkDim(Path file, String key, FeatureStats stats, int expected) throws IOException {
        if (stats.dim() != expected) {
            throw new IOException(file + ": " + key + " has " + stats.dim() + " dimensions; Inception features have "
                    + expected + " (is this a reference of another feature network?)");
        }
    }

    /**
     * Every metric of {@code samples} against {@code ref}: those the reference cannot give are
     * null, with the reason in the report's notes.
     *
     * @param k neighbours for precision/recall (ADM: 3)
     * @param bootstrapRounds rounds of {@link FidBootstrap} (0: not computed; needs the samples' pool features)
     */
    public static MetricsReport evaluate(Summary samples, Reference ref, String name, int k, int bootstrapRounds) {
        List<String> notes = new ArrayList<>(ref.notes());
        if (samples.greyExpanded()) {
            notes.add(samples.name() + ": 1-channel images, replicated to 3 equal RGB channels");
        }
        double[] splits = samples.inceptionScore().splitScores();
        notes.add(String.format(
                Locale.ROOT,
                "IS over %d split%s of up to %d samples (ADM: 10 splits at 50,000)",
                splits.length,
                splits.length == 1 ? "" : "s",
                InceptionScore.ADM_SPLIT_SIZE));
        double fid = samples.pool().frechetDistance(ref.pool());
        Double sfid = ref.spatial() == null ? null : samples.spatial().frechetDistance(ref.spatial());
        Double precision = null;
        Double recall = null;
        if (ref.pooled() != null && samples.pooled() != null) {
            PrecisionRecall.Result pr = PrecisionRecall.compute(ref.pooled(), samples.pooled(), k);
            precision = pr.precision();
            recall = pr.recall();
        }
        Double fidStd = null;
        if (bootstrapRounds > 0) {
            if (samples.pooled() == null) {
                throw new IllegalArgumentException("the FID bootstrap needs the samples' pool features");
            }
            fidStd = FidBootstrap.std(samples.pooled(), ref.pool(), bootstrapRounds, 0);
        }
        return new MetricsReport(
                name,
                samples.count(),
                fid,
                sfid,
                samples.inceptionScore().mean(),
                precision,
                recall,
                null,
                fidStd,
                List.copyOf(notes));
    }
}
