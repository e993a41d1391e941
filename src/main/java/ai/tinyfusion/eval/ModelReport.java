package ai.tinyfusion.eval;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * One row of {@code tinyfusion report}: a model's size and cost, its CFG sampling speed measured in
 * the same run as the other rows, the speedup against the first row, and (when given) its
 * sample-quality metrics.
 *
 * @param model label (file name or given name)
 * @param depth transformer blocks
 * @param parameters parameter count
 * @param gmacs multiply-accumulates per image and forward pass, in billions
 * @param batch images per sampling batch for the speed measurement
 * @param itPerSec CFG denoising iterations per second at {@code batch} (one iteration = 2·batch rows)
 * @param imagesPerSec images per second of a full sampling run of {@code steps} iterations
 * @param steps sampling steps assumed for {@link #imagesPerSec}
 * @param speedup itPerSec / the first row's itPerSec
 * @param metrics quality metrics (null if none were given)
 * @param calibrationLoss the calibration loss of the model's layer mask before recovery (null if not given)
 */
public record ModelReport(
        String model,
        int depth,
        long parameters,
        double gmacs,
        int batch,
        double itPerSec,
        double imagesPerSec,
        int steps,
        double speedup,
        MetricsReport metrics,
        Double calibrationLoss) {

    private static final Gson GSON = new GsonBuilder()
            .serializeSpecialFloatingPointValues()
            .setPrettyPrinting()
            .create();

    private static final String[] HEADERS = {
        "model",
        "depth",
        "params",
        "GMACs",
        "calib loss",
        "it/s",
        "img/s",
        "speedup",
        "FID",
        "sFID",
        "IS",
        "prec",
        "recall",
        "class acc"
    };

    public static String toJson(List<ModelReport> rows) {
        return GSON.toJson(rows);
    }

    private static List<String[]> cells(List<ModelReport> rows) {
        List<String[]> cells = new ArrayList<>();
        cells.add(HEADERS);
        for (ModelReport r : rows) {
            MetricsReport m = r.metrics;
            cells.add(new String[] {
                r.model,
                Integer.toString(r.depth),
                String.format(Locale.ROOT, "%.2fM", r.parameters / 1e6),
                fmt(r.gmacs, 4),
                fmt(r.calibrationLoss, 4),
                fmt(r.itPerSec, 2),
                fmt(r.imagesPerSec, 2),
                fmt(r.speedup, 2) + "x",
                m == null ? "-" : m.fidText(),
                m == null ? "-" : fmt(m.sfid(), 2),
                m == null ? "-" : fmt(m.inceptionScore(), 2),
                m == null ? "-" : fmt(m.precision(), 3),
                m == null ? "-" : fmt(m.recall(), 3),
                m == null ? "-" : fmt(m.classAccuracy(), 3)
            });
        }
        return cells;
    }

    /** The rows as an aligned text table; absent values show as "-". */
    public static String table(List<ModelReport> rows) {
        return TextTable.aligned(cells(rows));
    }

    /** The rows as a GitHub markdown table. */
    public static String markdown(List<ModelReport> rows) {
        return TextTable.markdown(cells(rows));
    }

    private static String fmt(Double v, int decimals) {
        return v == null || v.isNaN() ? "-" : String.format(Locale.ROOT, "%." + decimals + "f", v);
    }
}
