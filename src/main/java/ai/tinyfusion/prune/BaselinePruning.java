package ai.tinyfusion.prune;

import ai.tinyfusion.data.SplitMix64;
import ai.tinyfusion.model.dit.DiT;
import ai.tinyfusion.util.Enums;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import java.io.IOException;
import java.util.Arrays;
import java.util.Locale;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The baseline depth-pruning methods (everything but the learned search), each turning a model and a
 * {@link Target} into a {@link DecisionRecord} that {@link PrunedModels#save} writes:
 * score-based ({@code bi}, {@code flux-lite}, {@code sensitivity}: the highest-scoring layers of every
 * target segment are kept), the BK-SDM {@code oracle}, and the model-free {@code indices}, {@code random},
 * {@code first}, {@code last}, {@code uniform}.
 */
public final class BaselinePruning {
    private static final Logger LOG = LoggerFactory.getLogger(BaselinePruning.class);

    private BaselinePruning() {}

    /** The methods, by their command-line names. */
    public enum Method {
        BI(true),
        FLUX_LITE(true),
        SENSITIVITY(true),
        ORACLE(false),
        INDICES(false),
        RANDOM(false),
        FIRST(false),
        LAST(false),
        UNIFORM(false);

        private final boolean calibrated;

        Method(boolean calibrated) {
            this.calibrated = calibrated;
        }

        public String label() {
            return Enums.label(this);
        }

        /** Whether the method needs a {@link CalibrationSet}. */
        public boolean needsCalibration() {
            return calibrated;
        }

        /** The method called {@code name}, or null if none is. */
        public static Method byName(String name) {
            return Enums.find(Method.class, name);
        }

        public static String names() {
            return Enums.labels(Method.class);
        }
    }

    /**
     * What to decide.
     *
     * @param target the kept count or pattern (null only for {@code indices}, where the list sets it)
     * @param keep {@code indices}: the layers to keep (or null)
     * @param drop {@code indices}: the layers to drop (or null)
     * @param seed {@code random}: the seed
     */
    public record Request(Method method, Target target, int[] keep, int[] drop, long seed) {}

    /**
     * Decides which layers of {@code model} to keep.
     *
     * @param cal the calibration set (required by the score-based methods, ignored by the others)
     */
    public static DecisionRecord decide(DiT model, Request r, CalibrationSet cal, DecisionRecord.Source source)
            throws IOException {
        Method m = r.method();
        Target target = r.target();
        if (target == null && m != Method.INDICES) {
            throw new IllegalArgumentException("--method " + m.label() + " needs a target: --depth K or --pattern N:M");
        }
        if (target != null && target.depth() != model.depth()) {
            throw new IllegalArgumentException(
                    "the target is for " + target.depth() + " layers, the model has " + model.depth());
        }
        if (m.needsCalibration() && cal == null) {
            throw new IllegalArgumentException("--method " + m.label() + " needs a calibration set");
        }
        JsonObject details = new JsonObject();
        if (m.needsCalibration()) {
            details.add("calibration", cal.describe());
        }
        double[] scores = null;
        String meaning = null;
        Long seed = null;
        int[] kept;
        long t0 = System.nanoTime();
        switch (m) {
            case BI, FLUX_LITE -> {
                BlockInfluence.Scores s = BlockInfluence.compute(model, cal);
                if (m == Method.BI) {
                    scores = s.blockInfluence();
                    meaning = "block influence 1 - cos(block input, block output), cosine per token over channels, "
                            + "averaged over tokens, samples and calibration batches (ShortGPT); the highest are kept, "
                            + "and the last layer always";
                    boolean[] forced = new boolean[model.depth()];
                    forced[model.depth() - 1] = true; // ShortGPT never removes the last block
                    kept = target.selectTop(scores, forced);
                    JsonArray always = new JsonArray();
                    always.add(model.depth() - 1);
                    details.add("always_kept", always);
                } else {
                    scores = s.meanSquaredChange();
                    meaning = "mean squared difference between block output and block input hidden states, over "
                            + "tokens, channels and calibration samples (flux-lite); the highest are kept";
                    kept = target.selectTop(scores, null);
                }
            }
            case SENSITIVITY -> {
                Sensitivity.Result s = Sensitivity.compute(model, cal);
                scores = s.increase();
                meaning = "increase of the calibration diffusion loss (" + cal.lossName()
                        + ", fixed t and noise) when only this " + "layer is removed; the highest are kept";
                kept = target.selectTop(scores, null);
                details.addProperty("full_loss", s.fullLoss());
                details.addProperty("block_evaluations", s.work().blockEvaluations());
            }
            case ORACLE -> kept = OracleIndices.keep(target);
            case INDICES -> {
                kept = SimpleSelections.indices(r.keep(), r.drop(), model.depth());
                if (target != null) {
                    target.check(kept);
                }
            }
            case RANDOM -> {
                seed = r.seed();
                kept = SimpleSelections.random(target, new SplitMix64(SplitMix64.derive(r.seed(), 2)));
            }
            case FIRST -> kept = SimpleSelections.first(target);
            case LAST -> kept = SimpleSelections.last(target);
            case UNIFORM -> kept = SimpleSelections.uniform(target);
            default -> throw new IllegalStateException("unhandled method " + m);
        }
        double seconds = (System.nanoTime() - t0) / 1e9;
        details.addProperty("seconds", seconds);
        LOG.info(String.format(Locale.ROOT, "%s: kept %s (%.1f s)", m.label(), Arrays.toString(kept), seconds));
        String pattern = target == null ? null : target.patternSpec();
        return DecisionRecord.of(m.label(), source, kept, pattern, scores, meaning, seed, null, details);
    }
}
