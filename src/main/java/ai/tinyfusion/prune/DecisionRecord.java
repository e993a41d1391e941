package ai.tinyfusion.prune;

import ai.tinyfusion.train.LayerMap;
import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Arrays;
import java.util.List;

/**
 * Why a pruned model has the layers it has: the JSON written next to every pruned checkpoint
 * ({@code <out>.decision.json}) by {@link PrunedModels#save}. One format for every pruning method
 * (learned, BI, sensitivity, oracle, random, ...): the common part says which layers of which
 * source were kept and gives an optional score per source layer; {@link #learned} carries the
 * learnable search's details and {@link #details} any other method's.
 *
 * @param format always {@value #FORMAT}
 * @param method how the layers were chosen, e.g. "learned", "bi", "sensitivity", "oracle", "random"
 * @param source the model the layers were taken from
 * @param kept kept source-layer indices, ascending (block k of the pruned model is source block kept[k])
 * @param removed the other source-layer indices, ascending
 * @param prunedDepth kept.length
 * @param pattern the N:M pattern the choice obeyed, as written (parse it with the source depth); null if none
 * @param layerScores one score per source layer (null if the method has none)
 * @param layerScoreMeaning what {@link #layerScores} are, e.g. "marginal keep probability"
 * @param seed the seed of a randomised method (null if deterministic)
 * @param created ISO-8601 UTC time of the decision
 * @param output the pruned checkpoint (filled by {@link PrunedModels#save})
 * @param learned details of the learnable search (null for other methods)
 * @param details free-form details of other methods (null if none)
 * @param objective the training objective of the source, which the search and the calibration losses used, as
 *     the model files record it (e.g. {@code {"name":"ddpm","num_timesteps":1000}}); null in records written
 *     before objectives were recorded (those were all DDPM)
 */
public record DecisionRecord(
        String format,
        String method,
        Source source,
        int[] kept,
        int[] removed,
        int prunedDepth,
        String pattern,
        double[] layerScores,
        String layerScoreMeaning,
        Long seed,
        String created,
        Output output,
        Learned learned,
        JsonObject details,
        JsonObject objective) {

    public static final String FORMAT = "tinyfusion-decision/1";

    private static final Gson GSON = new GsonBuilder()
            .setPrettyPrinting()
            .disableHtmlEscaping()
            .serializeSpecialFloatingPointValues()
            .create();

    /**
     * The source model.
     *
     * @param path checkpoint path (null for a randomly initialised preset)
     * @param sha256 SHA-256 of the checkpoint file(s) (null without a file)
     * @param description human-readable origin, e.g. "DiT-F28 (random init, seed 0)"
     * @param depth source depth
     */
    public record Source(String path, String sha256, String description, int depth) {}

    /** The pruned checkpoint. */
    public record Output(String path, String sha256, long parameters) {}

    /**
     * One pattern block of a learnable search.
     *
     * @param probabilities softmax(scaling · g) of the EMA logits, per candidate (itertools order)
     * @param chosen index of the chosen candidate
     * @param keptLayers the chosen candidate's global layer indices
     * @param confidence the largest probability
     */
    public record BlockDecision(
            int block,
            int offset,
            int n,
            int m,
            int chosen,
            int[] keptLayers,
            double confidence,
            double[] probabilities) {}

    /**
     * The learnable search that made the decision.
     *
     * @param delta weight-update mode (lora, full, none)
     * @param trainableParameters trainable values during the search (ΔΦ + gates)
     * @param trainableShare trainable values / base-model values
     * @param scalingForProbabilities the scaling at which {@link BlockDecision#probabilities} were evaluated
     */
    public record Learned(
            long steps,
            int batchSize,
            double[] tau,
            double[] scaling,
            double scalingForProbabilities,
            String delta,
            Integer loraRank,
            Double loraAlpha,
            double lr,
            double gateLrScale,
            double emaDecay,
            double clipNorm,
            long trainableParameters,
            double trainableShare,
            double seconds,
            List<BlockDecision> blocks,
            String runDir) {}

    public DecisionRecord {
        if (method == null || method.isBlank()) {
            throw new IllegalArgumentException("a decision record needs a method");
        }
        if (source == null) {
            throw new IllegalArgumentException("a decision record needs a source");
        }
        if (kept == null || kept.length == 0) {
            throw new IllegalArgumentException("a decision record needs the kept layers");
        }
        ai.tinyfusion.model.dit.LayerSubset.validate(kept, source.depth());
        if (layerScores != null && layerScores.length != source.depth()) {
            throw new IllegalArgumentException(
                    "layer scores: " + layerScores.length + " values for " + source.depth() + " source layers");
        }
        int[] expectRemoved = complement(kept, source.depth());
        if (removed == null) {
            removed = expectRemoved;
        } else if (!Arrays.equals(removed, expectRemoved)) {
            throw new IllegalArgumentException("removed layers " + Arrays.toString(removed)
                    + " are not the complement of " + Arrays.toString(kept));
        }
        if (prunedDepth != kept.length) {
            throw new IllegalArgumentException("pruned depth " + prunedDepth + " but " + kept.length + " layers kept");
        }
        if (format == null) {
            format = FORMAT;
        }
    }

    /**
     * A record for any method, stamped now.
     *
     * @param pattern may be null
     * @param layerScores may be null (then {@code scoreMeaning} too)
     * @param seed may be null
     */
    public static DecisionRecord of(
            String method,
            Source source,
            int[] kept,
            String pattern,
            double[] layerScores,
            String scoreMeaning,
            Long seed,
            Learned learned,
            JsonObject details) {
        return new DecisionRecord(
                FORMAT,
                method,
                source,
                kept.clone(),
                null,
                kept.length,
                pattern,
                layerScores == null ? null : layerScores.clone(),
                scoreMeaning,
                seed,
                Instant.now().truncatedTo(ChronoUnit.SECONDS).toString(),
                null,
                learned,
                details,
                null);
    }

    /** The same record with the pruned checkpoint filled in. */
    public DecisionRecord withOutput(Output out) {
        return new DecisionRecord(
                format,
                method,
                source,
                kept,
                removed,
                prunedDepth,
                pattern,
                layerScores,
                layerScoreMeaning,
                seed,
                created,
                out,
                learned,
                details,
                objective);
    }

    /** The same record naming the source's objective. */
    public DecisionRecord withObjective(JsonObject o) {
        return new DecisionRecord(
                format,
                method,
                source,
                kept,
                removed,
                prunedDepth,
                pattern,
                layerScores,
                layerScoreMeaning,
                seed,
                created,
                output,
                learned,
                details,
                o);
    }

    private static int[] complement(int[] kept, int depth) {
        boolean[] k = new boolean[depth];
        for (int i : kept) {
            k[i] = true;
        }
        return java.util.stream.IntStream.range(0, depth).filter(i -> !k[i]).toArray();
    }

    public String toJson() {
        return GSON.toJson(this);
    }

    /**
     * The representation-distillation layer map of the pruned student this record describes:
     * with a pattern, {@link LayerMap#blockEnds} over its blocks; without, {@link LayerMap#segments}.
     */
    public LayerMap layerMap() {
        int depth = source().depth();
        return pattern() == null
                ? LayerMap.segments(kept(), depth)
                : LayerMap.blockEnds(Pattern.parse(pattern(), depth).blockEnds(), kept());
    }

    /** Parses and validates a record (the canonical constructor runs again). */
    public static DecisionRecord fromJson(String json) {
        DecisionRecord r;
        try {
            r = GSON.fromJson(json, DecisionRecord.class);
        } catch (JsonParseException e) {
            throw new IllegalArgumentException("not a decision record: " + e.getMessage(), e);
        } catch (RuntimeException e) {
            // Gson wraps the canonical constructor's validation errors.
            for (Throwable c = e; c != null; c = c.getCause()) {
                if (c instanceof IllegalArgumentException iae) {
                    throw new IllegalArgumentException("invalid decision record: " + iae.getMessage(), e);
                }
            }
            throw e;
        }
        if (r == null) {
            throw new IllegalArgumentException("not a decision record: empty");
        }
        if (!FORMAT.equals(r.format())) {
            throw new IllegalArgumentException(
                    "unsupported decision record format '" + r.format() + "' (expected " + FORMAT + ")");
        }
        return r;
    }

    /** The learnable search's block decisions in record form. */
    public static List<BlockDecision> blocks(Pattern pattern, GateDecision d) {
        return pattern.blocks().stream()
                .map(b -> new BlockDecision(
                        b.index(),
                        b.offset(),
                        b.n(),
                        b.m(),
                        d.choice()[b.index()],
                        Arrays.stream(b.candidates()[d.choice()[b.index()]])
                                .map(j -> j + b.offset())
                                .toArray(),
                        d.confidence()[b.index()],
                        d.probabilities()[b.index()].clone()))
                .toList();
    }
}
