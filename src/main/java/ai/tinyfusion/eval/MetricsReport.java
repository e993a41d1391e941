package ai.tinyfusion.eval;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The evaluation numbers of one model, as JSON (gson) or an aligned text table. A metric that was
 * not computed is {@code null}: omitted from JSON, shown as "-" in tables.
 *
 * @param model          a label for the evaluated model (e.g. "DiT-D14/2 pruned")
 * @param numSamples     number of generated samples the metrics were computed on
 * @param fid            Fréchet Inception Distance (pool features)
 * @param sfid           sFID (spatial features)
 * @param inceptionScore Inception Score
 * @param precision      improved precision (k = 3)
 * @param recall         improved recall (k = 3)
 * @param classAccuracy  fraction of samples classified as their requested class
 * @param fidStd         standard deviation of the FID over bootstrap resamples of the samples
 *                       ({@link FidBootstrap}; null if not computed)
 * @param notes          why a metric is absent, or how it was computed where that differs from
 *                       the usual (null: nothing to say)
 */
public record MetricsReport(
        String model,
        int numSamples,
        Double fid,
        Double sfid,
        Double inceptionScore,
        Double precision,
        Double recall,
        Double classAccuracy,
        Double fidStd,
        List<String> notes) {

    /** A report without notes. */
    public MetricsReport(
            String model,
            int numSamples,
            Double fid,
            Double sfid,
            Double inceptionScore,
            Double precision,
            Double recall,
            Double classAccuracy,
            Double fidStd) {
        this(model, numSamples, fid, sfid, inceptionScore, precision, recall, classAccuracy, fidStd, null);
    }

    /** A report without a bootstrap spread of the FID. */
    public MetricsReport(
            String model,
            int numSamples,
            Double fid,
            Double sfid,
            Double inceptionScore,
            Double precision,
            Double recall,
            Double classAccuracy) {
        this(model, numSamples, fid, sfid, inceptionScore, precision, recall, classAccuracy, null);
    }

    private static final Gson GSON = new GsonBuilder()
            .serializeSpecialFloatingPointValues()
            .setPrettyPrinting()
            .create();

    private static final String[] HEADERS = {"model", "samples", "FID", "sFID", "IS", "Precision", "Recall", "Accuracy"
    };

    /** Pretty-printed JSON; absent metrics are omitted, NaN/Infinity are written as such. */
    public String toJson() {
        return GSON.toJson(this);
    }

    /** Parses {@link #toJson()} output. */
    public static MetricsReport fromJson(String json) {
        return GSON.fromJson(json, MetricsReport.class);
    }

    /** FID with its bootstrap spread when known ("277.80 ± 2.10"), else just the FID; "-" if absent. */
    public String fidText() {
        return fidStd == null ? fmt(fid, 2) : fmt(fid, 2) + " ± " + fmt(fidStd, 2);
    }

    /** Formatted cells in {@link #HEADERS} order: FID/sFID/IS with 2 decimals, the rest with 4 (as ADM prints them). */
    List<String> cells() {
        List<String> c = new ArrayList<>();
        c.add(model == null ? "-" : model);
        c.add(Integer.toString(numSamples));
        c.add(fidText());
        c.add(fmt(sfid, 2));
        c.add(fmt(inceptionScore, 2));
        c.add(fmt(precision, 4));
        c.add(fmt(recall, 4));
        c.add(fmt(classAccuracy, 4));
        return c;
    }

    private static String fmt(Double v, int decimals) {
        return v == null ? "-" : String.format(Locale.ROOT, "%." + decimals + "f", v);
    }

    /** This report as a two-column "metric | value" table. */
    public String toTable() {
        List<String> c = cells();
        int w = 0;
        for (String h : HEADERS) {
            w = Math.max(w, h.length());
        }
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < HEADERS.length; i++) {
            sb.append(pad(HEADERS[i], w, false)).append(" | ").append(c.get(i)).append('\n');
        }
        return sb.toString();
    }

    /**
     * Several reports as one table, one row per report: the model column left-aligned, numbers
     * right-aligned, a dashed rule under the header.
     */
    public static String table(List<MetricsReport> reports) {
        List<String[]> rows = new ArrayList<>();
        rows.add(HEADERS);
        for (MetricsReport r : reports) {
            rows.add(r.cells().toArray(new String[0]));
        }
        return TextTable.aligned(rows);
    }

    private static String pad(String s, int width, boolean right) {
        String fill = " ".repeat(Math.max(0, width - s.length()));
        return right ? fill + s : s + fill;
    }
}
