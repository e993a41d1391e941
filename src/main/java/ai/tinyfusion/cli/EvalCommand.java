package ai.tinyfusion.cli;

import ai.djl.ndarray.NDManager;
import ai.tinyfusion.eval.FeatureNet;
import ai.tinyfusion.eval.InceptionEvaluation;
import ai.tinyfusion.eval.MetricsReport;
import ai.tinyfusion.eval.ReferenceCache;
import ai.tinyfusion.eval.SampleEvaluation;
import ai.tinyfusion.model.inception.FidInceptionV3;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code tinyfusion eval}: FID, sFID, IS, precision/recall and class accuracy of sample files. */
@Command(
        name = "eval",
        mixinStandardHelpOptions = true,
        description = "Evaluate ADM-style sample .npz files (arr_0 uint8 NHWC, arr_1 labels) against a reference: with "
                + "the shipped Fashion-MNIST feature network (default; reference: the Fashion-MNIST test set unless --ref), "
                + "or with --features inception the FID Inception-v3 (--inception weights; --ref an images .npz or an "
                + "ADM reference batch).")
public final class EvalCommand implements Callable<Integer> {
    @Parameters(arity = "1..*", paramLabel = "SAMPLES", description = "Sample .npz files.")
    List<Path> samples;

    @Option(
            names = "--ref",
            description = "Reference images .npz, or with --features inception also an ADM reference batch "
                    + "(mu/sigma, mu_s/sigma_s used as stored; arr_0 images for precision/recall). Default with the "
                    + "classifier: the Fashion-MNIST test set (cached statistics).")
    Path ref;

    /** Which network the features come from. */
    public enum Features {
        CLASSIFIER,
        INCEPTION
    }

    @Option(
            names = "--features",
            defaultValue = "classifier",
            converter = FeaturesConverter.class,
            description = "classifier (the shipped Fashion-MNIST network) or inception (FID Inception-v3, "
                    + "ADM evaluator metrics) (${DEFAULT-VALUE}).")
    Features features;

    static final class FeaturesConverter implements picocli.CommandLine.ITypeConverter<Features> {
        @Override
        public Features convert(String value) {
            return ai.tinyfusion.util.Enums.parse(Features.class, value, "--features");
        }
    }

    @Option(
            names = "--inception",
            paramLabel = "PATH",
            description = "With --features inception: pytorch-fid's pt_inception-2015-12-05-6726825d.pth "
                    + "(or a safetensors copy with the same keys).")
    Path inception;

    @Option(names = "--no-progress", description = "No progress bar.")
    boolean noProgress;

    @Mixin
    DataOptions data;

    @Option(
            names = "--batch",
            description = "Feature-network batch size; bounds memory (default: 250 for the classifier, 50 for "
                    + "Inception).")
    Integer batch;

    @Option(names = "--k", defaultValue = "3", description = "Neighbours for precision/recall (${DEFAULT-VALUE}).")
    int k;

    @Option(
            names = "--bootstrap",
            description = "Bootstrap rounds for the FID's standard deviation over resampled samples; 0 skips it "
                    + "(default: 200 for the classifier; 20 for Inception, where a round costs a 2048-d covariance "
                    + "and matrix square root).")
    Integer bootstrap;

    @Option(names = "--json", description = "Write the results as JSON (one object per sample file, in a list).")
    Path json;

    @Override
    public Integer call() throws Exception {
        boolean useInception = features == Features.INCEPTION;
        int rounds = bootstrap != null ? bootstrap : useInception ? 20 : 200;
        int batchSize = batch != null ? batch : useInception ? 50 : FeatureNet.DEFAULT_BATCH;
        if (rounds < 0 || rounds == 1) {
            throw new IllegalArgumentException("--bootstrap must be 0 (off) or at least 2 rounds, got " + rounds);
        }
        if (batchSize <= 0) {
            throw new IllegalArgumentException("--batch must be positive, got " + batchSize);
        }
        if (inception != null && !useInception) {
            throw new IllegalArgumentException("--inception needs --features inception");
        }
        List<MetricsReport> reports = useInception ? inceptionReports(rounds, batchSize) : null;
        if (reports == null) {
            reports = classifierReports(rounds, batchSize);
        }
        System.out.print(MetricsReport.table(reports));
        for (MetricsReport r : reports) {
            if (r.notes() != null) {
                for (String note : r.notes()) {
                    System.out.println("note (" + r.model() + "): " + note);
                }
            }
        }
        if (json != null) {
            StringBuilder sb = new StringBuilder("[\n");
            for (int i = 0; i < reports.size(); i++) {
                sb.append(reports.get(i).toJson()).append(i + 1 < reports.size() ? ",\n" : "\n");
            }
            Files.writeString(json, sb.append("]\n"));
        }
        return 0;
    }

    private List<MetricsReport> inceptionReports(int rounds, int batchSize) throws Exception {
        if (inception == null) {
            throw new IllegalArgumentException("--features inception needs --inception PATH (pytorch-fid's "
                    + "pt_inception-2015-12-05-6726825d.pth or a safetensors copy)");
        }
        if (ref == null) {
            throw new IllegalArgumentException(
                    "--features inception needs --ref (an images .npz or an ADM reference batch)");
        }
        boolean progress = !noProgress;
        try (NDManager manager = NDManager.newBaseManager()) {
            FidInceptionV3 net = FidInceptionV3.load(inception, manager);
            InceptionEvaluation.Reference reference =
                    InceptionEvaluation.reference(net, ref, batchSize, progress, ReferenceCache.nextTo(ref));
            System.out.println(
                    "reference: " + reference.name() + " (Inception features, " + inception.getFileName() + ")");
            List<MetricsReport> reports = new ArrayList<>();
            for (Path s : samples) {
                InceptionEvaluation.Summary summary = InceptionEvaluation.summarize(
                        net, s, batchSize, reference.pooled() != null || rounds > 0, progress);
                reports.add(InceptionEvaluation.evaluate(summary, reference, s.toString(), k, rounds));
            }
            return reports;
        }
    }

    private List<MetricsReport> classifierReports(int rounds, int batchSize) throws Exception {
        try (NDManager manager = NDManager.newBaseManager()) {
            FeatureNet net = FeatureNet.loadShipped(manager);
            SampleEvaluation.Reference reference = ref == null
                    ? SampleEvaluation.Reference.fashionMnistTest(net, data.fashionDir(), batchSize)
                    : SampleEvaluation.Reference.npz(net, ref, batchSize);
            List<MetricsReport> reports = new ArrayList<>();
            for (Path s : samples) {
                reports.add(SampleEvaluation.evaluate(net, reference, s, s.toString(), batchSize, k, rounds));
            }
            System.out.println("reference: " + reference.name());
            return reports;
        }
    }
}
