package ai.tinyfusion.prune;

import ai.tinyfusion.data.SplitMix64;
import ai.tinyfusion.diffusion.Objectives;
import ai.tinyfusion.model.dit.DiT;
import ai.tinyfusion.util.Plots;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The calibration-loss study: how well does the loss of a pruned, un-tuned model predict anything? Draws
 * N random masks (uniform over the C(L, K) subsets, or uniform under a pattern), computes each one's
 * calibration loss with {@link SubsetLosses} (shared prefixes computed once), and writes
 * <ul>
 *   <li>{@value #CSV}: mask index, kept layers (space-separated), loss;
 *   <li>{@value #PNG}: the loss histogram, with a line where each marked method's mask falls;
 *   <li>{@value #MARKS_CSV}: the marked methods' masks, losses and percentiles among the random masks;
 *   <li>{@value #SUMMARY}: settings, timing, loss statistics;
 *   <li>{@code random-min / random-median / random-max.safetensors} (+ decision records): the masks at those
 *       loss quantiles as pruned models, for fine-tuning them and checking whether the loss ranking holds.
 * </ul>
 */
public final class CalibrationStudy {
    private static final Logger LOG = LoggerFactory.getLogger(CalibrationStudy.class);

    public static final String CSV = "study.csv";
    public static final String PNG = "study.png";
    public static final String MARKS_CSV = "marks.csv";
    public static final String SUMMARY = "study.json";

    private CalibrationStudy() {}

    /**
     * @param samples number of random masks N
     * @param seed seed of the mask draws
     * @param marks name → decision record of a method to place among the random masks (may be empty)
     * @param export whether to save the min / median / max masks as pruned models
     */
    public record Settings(Target target, int samples, long seed, Map<String, DecisionRecord> marks, boolean export) {
        public Settings {
            if (samples < 1) {
                throw new IllegalArgumentException("--samples must be at least 1, got " + samples);
            }
            marks = marks == null ? Map.of() : new LinkedHashMap<>(marks);
        }
    }

    /** One random mask and its calibration loss. */
    public record Row(int index, int[] kept, double loss) {}

    /** A marked method's mask, its loss, and the share (%) of random masks with a lower loss (ties count half). */
    public record Mark(String name, String method, int[] kept, double loss, double percentile) {}

    public record Result(
            List<Row> rows,
            List<Mark> marks,
            Map<String, PrunedModels.Saved> exports,
            SubsetLosses.Result work,
            Path csv,
            Path png) {}

    /** The random masks of a study: {@code n} independent uniform draws under {@code target} from {@code seed}. */
    public static List<int[]> drawMasks(Target target, int n, long seed) {
        SplitMix64 rng = new SplitMix64(SplitMix64.derive(seed, 3));
        List<int[]> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            out.add(SimpleSelections.random(target, rng));
        }
        return out;
    }

    /**
     * Runs the study on {@code model} (the original weights; not changed).
     *
     * @param source the model's description for the exported models' records
     */
    public static Result run(DiT model, CalibrationSet cal, Settings s, DecisionRecord.Source source, Path dir)
            throws IOException {
        if (s.target().depth() != model.depth()) {
            throw new IllegalArgumentException(
                    "the target is for " + s.target().depth() + " layers, the model has " + model.depth());
        }
        for (Map.Entry<String, DecisionRecord> e : s.marks().entrySet()) {
            checkMark(e.getKey(), e.getValue(), source);
        }
        Files.createDirectories(dir);
        List<int[]> masks = drawMasks(s.target(), s.samples(), s.seed());
        List<int[]> all = new ArrayList<>(masks);
        s.marks().values().forEach(r -> all.add(r.kept()));
        LOG.info(String.format(
                Locale.ROOT,
                "calibration study: %d random masks under %s, %d marked, calibration set of %d",
                masks.size(),
                s.target(),
                s.marks().size(),
                cal.size()));
        SubsetLosses.Result work = SubsetLosses.compute(model, cal, all);
        LOG.info(String.format(
                Locale.ROOT,
                "%d block evaluations instead of %d (%.1f%%), %.1f s",
                work.blockEvaluations(),
                work.naiveBlockEvaluations(),
                100.0 * work.blockEvaluations() / Math.max(1, work.naiveBlockEvaluations()),
                work.seconds()));

        List<Row> rows = new ArrayList<>();
        for (int i = 0; i < masks.size(); i++) {
            rows.add(new Row(i, masks.get(i), work.losses()[i]));
        }
        double[] losses = rows.stream().mapToDouble(Row::loss).toArray();
        List<Mark> marks = new ArrayList<>();
        int k = masks.size();
        for (Map.Entry<String, DecisionRecord> e : s.marks().entrySet()) {
            double l = work.losses()[k++];
            marks.add(new Mark(e.getKey(), e.getValue().method(), e.getValue().kept(), l, percentile(losses, l)));
        }

        Path csv = dir.resolve(CSV);
        StringBuilder sb = new StringBuilder("mask,kept,loss\n");
        for (Row r : rows) {
            sb.append(r.index())
                    .append(',')
                    .append(join(r.kept()))
                    .append(',')
                    .append(fmt(r.loss()))
                    .append('\n');
        }
        Files.writeString(csv, sb.toString(), StandardCharsets.UTF_8);
        StringBuilder mb = new StringBuilder("name,method,kept,loss,percentile\n");
        for (Mark m : marks) {
            mb.append(m.name())
                    .append(',')
                    .append(m.method())
                    .append(',')
                    .append(join(m.kept()))
                    .append(',')
                    .append(fmt(m.loss()))
                    .append(',')
                    .append(String.format(Locale.ROOT, "%.2f", m.percentile()))
                    .append('\n');
        }
        Files.writeString(dir.resolve(MARKS_CSV), mb.toString(), StandardCharsets.UTF_8);

        Path png = dir.resolve(PNG);
        Map<String, Double> lines = new LinkedHashMap<>();
        marks.forEach(m -> lines.put(
                String.format(Locale.ROOT, "%s (%.4g, %.0f%%)", m.name(), m.loss(), m.percentile()), m.loss()));
        Plots.histogram(
                png,
                String.format(
                        Locale.ROOT,
                        "Calibration loss of %d random masks (%s), %d calibration images",
                        rows.size(),
                        s.target(),
                        cal.size()),
                "calibration loss (" + cal.lossName() + ")",
                losses,
                Math.max(10, Math.min(60, rows.size() / 10)),
                lines);

        Map<String, PrunedModels.Saved> exports = new LinkedHashMap<>();
        List<Row> sorted = rows.stream()
                .sorted(Comparator.comparingDouble(Row::loss).thenComparingInt(Row::index))
                .toList();
        Map<String, Row> quantiles = new LinkedHashMap<>();
        quantiles.put("min", sorted.get(0));
        quantiles.put("median", sorted.get((sorted.size() - 1) / 2));
        quantiles.put("max", sorted.get(sorted.size() - 1));
        if (s.export()) {
            for (Map.Entry<String, Row> q : quantiles.entrySet()) {
                Row r = q.getValue();
                JsonObject details = new JsonObject();
                JsonObject study = new JsonObject();
                study.addProperty("dir", dir.toString());
                study.addProperty("quantile", q.getKey());
                study.addProperty("mask_index", r.index());
                study.addProperty("calibration_loss", r.loss());
                study.addProperty("samples", rows.size());
                study.addProperty("seed", s.seed());
                details.add("study", study);
                details.add("calibration", cal.describe());
                DecisionRecord rec = DecisionRecord.of(
                        "random-" + q.getKey(),
                        source,
                        r.kept(),
                        s.target().patternSpec(),
                        null,
                        null,
                        s.seed(),
                        null,
                        details);
                exports.put(
                        q.getKey(),
                        PrunedModels.save(
                                model,
                                rec,
                                dir.resolve("random-" + q.getKey() + ".safetensors"),
                                Objectives.modelMetadata(cal.objective())));
            }
        }
        writeSummary(dir.resolve(SUMMARY), s, cal, source, work, losses, quantiles, marks);
        return new Result(rows, marks, exports, work, csv, png);
    }

    private static void checkMark(String name, DecisionRecord r, DecisionRecord.Source source) {
        if (r.source().depth() != source.depth()) {
            throw new IllegalArgumentException("--mark " + name + ": decided on a "
                    + r.source().depth() + "-layer model, the study's model has " + source.depth());
        }
        if (r.source().sha256() != null
                && source.sha256() != null
                && !r.source().sha256().equals(source.sha256())) {
            throw new IllegalArgumentException("--mark " + name + ": decided on other weights ("
                    + r.source().path() + ", SHA-256 " + r.source().sha256() + ") than the study's model ("
                    + source.sha256() + ")");
        }
    }

    /** Share (%) of {@code values} below {@code v}, ties counting half. */
    static double percentile(double[] values, double v) {
        double below = 0;
        for (double x : values) {
            below += x < v ? 1 : x == v ? 0.5 : 0;
        }
        return 100.0 * below / values.length;
    }

    private static String join(int[] kept) {
        return Arrays.stream(kept).mapToObj(Integer::toString).collect(Collectors.joining(" "));
    }

    private static String fmt(double v) {
        return String.format(Locale.ROOT, "%.8g", v);
    }

    private static void writeSummary(
            Path json,
            Settings s,
            CalibrationSet cal,
            DecisionRecord.Source source,
            SubsetLosses.Result work,
            double[] losses,
            Map<String, Row> quantiles,
            List<Mark> marks)
            throws IOException {
        JsonObject o = new JsonObject();
        o.addProperty("model", source.path() != null ? source.path() : source.description());
        o.addProperty("model_sha256", source.sha256());
        o.addProperty("depth", source.depth());
        o.addProperty("target", s.target().toString());
        o.addProperty("pattern", s.target().patternSpec());
        o.addProperty("kept", s.target().kept());
        o.addProperty("samples", s.samples());
        o.addProperty("seed", s.seed());
        o.add("calibration", cal.describe());
        o.addProperty("seconds", work.seconds());
        o.addProperty("block_evaluations", work.blockEvaluations());
        o.addProperty("naive_block_evaluations", work.naiveBlockEvaluations());
        double[] sorted = losses.clone();
        Arrays.sort(sorted);
        JsonObject stats = new JsonObject();
        stats.addProperty("min", sorted[0]);
        stats.addProperty("median", sorted[(sorted.length - 1) / 2]);
        stats.addProperty("max", sorted[sorted.length - 1]);
        stats.addProperty("mean", Arrays.stream(losses).average().orElse(Double.NaN));
        o.add("loss", stats);
        JsonObject q = new JsonObject();
        quantiles.forEach((name, r) -> {
            JsonObject e = new JsonObject();
            e.addProperty("mask_index", r.index());
            e.addProperty("loss", r.loss());
            e.addProperty("kept", join(r.kept()));
            q.add(name, e);
        });
        o.add("quantiles", q);
        JsonArray ms = new JsonArray();
        for (Mark m : marks) {
            JsonObject e = new JsonObject();
            e.addProperty("name", m.name());
            e.addProperty("method", m.method());
            e.addProperty("kept", join(m.kept()));
            e.addProperty("loss", m.loss());
            e.addProperty("percentile", m.percentile());
            ms.add(e);
        }
        o.add("marks", ms);
        Files.writeString(
                json,
                new GsonBuilder()
                                .setPrettyPrinting()
                                .serializeSpecialFloatingPointValues()
                                .create()
                                .toJson(o) + "\n",
                StandardCharsets.UTF_8);
    }
}
