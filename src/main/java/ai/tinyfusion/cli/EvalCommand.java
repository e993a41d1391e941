package ai.tinyfusion.cli;

import ai.djl.ndarray.NDManager;
import ai.tinyfusion.eval.FeatureNet;
import ai.tinyfusion.eval.MetricsReport;
import ai.tinyfusion.eval.SampleEvaluation;
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
        description =
                "Evaluate ADM-style sample .npz files (arr_0 uint8 NHWC, arr_1 labels) with the shipped Fashion-MNIST "
                        + "feature network against a reference (the Fashion-MNIST test set by default).")
public final class EvalCommand implements Callable<Integer> {
    @Parameters(arity = "1..*", paramLabel = "SAMPLES", description = "Sample .npz files.")
    List<Path> samples;

    @Option(
            names = "--ref",
            description = "Reference images .npz (default: the Fashion-MNIST test set, cached statistics).")
    Path ref;

    @Mixin
    DataOptions data;

    @Option(names = "--batch", defaultValue = "250", description = "Feature-network batch size (${DEFAULT-VALUE}).")
    int batch;

    @Option(names = "--k", defaultValue = "3", description = "Neighbours for precision/recall (${DEFAULT-VALUE}).")
    int k;

    @Option(
            names = "--bootstrap",
            defaultValue = "200",
            description =
                    "Bootstrap rounds for the FID's standard deviation over resampled samples; 0 skips it (${DEFAULT-VALUE}).")
    int bootstrap;

    @Option(names = "--json", description = "Write the results as JSON (one object per sample file, in a list).")
    Path json;

    @Override
    public Integer call() throws Exception {
        if (bootstrap < 0 || bootstrap == 1) {
            throw new IllegalArgumentException("--bootstrap must be 0 (off) or at least 2 rounds, got " + bootstrap);
        }
        try (NDManager manager = NDManager.newBaseManager()) {
            FeatureNet net = FeatureNet.loadShipped(manager);
            SampleEvaluation.Reference reference = ref == null
                    ? SampleEvaluation.Reference.fashionMnistTest(net, data.fashionDir(), batch)
                    : SampleEvaluation.Reference.npz(net, ref, batch);
            List<MetricsReport> reports = new ArrayList<>();
            for (Path s : samples) {
                reports.add(SampleEvaluation.evaluate(net, reference, s, s.toString(), batch, k, bootstrap));
            }
            System.out.println("reference: " + reference.name());
            System.out.print(MetricsReport.table(reports));
            if (json != null) {
                StringBuilder sb = new StringBuilder("[\n");
                for (int i = 0; i < reports.size(); i++) {
                    sb.append(reports.get(i).toJson()).append(i + 1 < reports.size() ? ",\n" : "\n");
                }
                Files.writeString(json, sb.append("]\n"));
            }
        }
        return 0;
    }
}
