package ai.tinyfusion.prune;

import ai.djl.ndarray.NDManager;
import ai.tinyfusion.diffusion.Objective;
import ai.tinyfusion.io.AtomicFiles;
import ai.tinyfusion.io.FileHashes;
import ai.tinyfusion.model.dit.DiT;
import ai.tinyfusion.model.dit.LayerSubset;
import ai.tinyfusion.model.dit.ModelFiles;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * The one way every pruning method turns a decision into files: keep the decided layers of the
 * ORIGINAL source weights through {@link LayerSubset#keep} (blocks renumbered, every other key
 * unchanged), write the pruned DiT with {@link ModelFiles#save} (original key names, config with the
 * new depth in the metadata, loadable again for iterative pruning 28 → 14 → 7), and write the
 * {@link DecisionRecord} next to it as {@code <out>.decision.json}.
 */
public final class PrunedModels {
    private PrunedModels() {}

    /** What was written. */
    public record Saved(Path model, Path record, DecisionRecord decision) {}

    /** {@code <out>.decision.json}. */
    public static Path recordPath(Path out) {
        return out.resolveSibling(out.getFileName() + ".decision.json");
    }

    /**
     * Loads the source checkpoint {@code rec.source().path()} afresh (so nothing a search changed
     * can leak in), checks its SHA-256 against the record when the record has one, and saves.
     *
     * @param heads attention heads for checkpoints without a stored config (null: by width)
     */
    public static Saved save(DecisionRecord rec, Path out, Integer heads) throws IOException {
        return save(rec, out, heads, Map.of());
    }

    /**
     * {@link #save(DecisionRecord, Path, Integer)} with extra metadata for the pruned file (e.g. the objective the
     * source was trained with).
     */
    public static Saved save(DecisionRecord rec, Path out, Integer heads, Map<String, String> extraMetadata)
            throws IOException {
        if (rec.source().path() == null) {
            throw new IllegalArgumentException("the decision's source has no checkpoint path; pass the source model");
        }
        Path src = Path.of(rec.source().path());
        if (rec.source().sha256() != null) {
            String sha = FileHashes.sha256(src);
            if (!sha.equals(rec.source().sha256())) {
                throw new IOException(src + " has changed since the decision was made (SHA-256 " + sha
                        + ", decision made on " + rec.source().sha256() + ")");
            }
        }
        try (NDManager m = NDManager.newBaseManager()) {
            DiT source = ModelFiles.load(src, m, heads);
            return save(source, rec, out, extraMetadata);
        }
    }

    /**
     * Saves the layers {@code rec.kept()} of {@code original}, which must hold the source's original
     * weights (no adapters attached).
     */
    public static Saved save(DiT original, DecisionRecord rec, Path out) throws IOException {
        return save(original, rec, out, Map.of());
    }

    /** {@link #save(DiT, DecisionRecord, Path)} with extra metadata for the pruned file. */
    public static Saved save(DiT original, DecisionRecord rec, Path out, Map<String, String> extraMetadata)
            throws IOException {
        if (original.depth() != rec.source().depth()) {
            throw new IllegalArgumentException("the decision is for a "
                    + rec.source().depth() + "-layer source, the model has " + original.depth());
        }
        boolean adapters = original.stateDict().keySet().stream().anyMatch(k -> k.contains(".lora."));
        if (adapters) {
            throw new IllegalArgumentException("the source model still carries LoRA adapters; detach them first");
        }
        Map<String, String> meta = new LinkedHashMap<>(extraMetadata);
        meta.put("prune_method", rec.method());
        meta.put(
                "kept_layers",
                Arrays.stream(rec.kept()).mapToObj(Integer::toString).collect(Collectors.joining(",")));
        meta.put("source_depth", Integer.toString(rec.source().depth()));
        if (rec.source().path() != null) {
            meta.put("pruned_from", rec.source().path());
        }
        if (rec.source().sha256() != null) {
            meta.put("source_sha256", rec.source().sha256());
        }
        if (rec.pattern() != null) {
            meta.put("pattern", rec.pattern());
        }
        long params;
        try (NDManager m = original.manager().newSubManager()) {
            DiT pruned = LayerSubset.keep(original, rec.kept(), m);
            params = pruned.parameterCount();
            ModelFiles.save(pruned, out, meta);
        }
        DecisionRecord done = rec.withOutput(new DecisionRecord.Output(out.toString(), FileHashes.sha256(out), params));
        String objective = meta.get(Objective.METADATA_KEY);
        if (objective != null) {
            done = done.withObjective(JsonParser.parseString(objective).getAsJsonObject());
        }
        Path json = recordPath(out);
        writeRecord(done, json);
        return new Saved(out, json, done);
    }

    /** Writes a record atomically. */
    public static void writeRecord(DecisionRecord rec, Path json) throws IOException {
        byte[] bytes = (rec.toJson() + "\n").getBytes(StandardCharsets.UTF_8);
        AtomicFiles.write(json, ch -> AtomicFiles.writeFully(ch, ByteBuffer.wrap(bytes)));
    }

    /** Reads {@code <model>.decision.json} (or a record file given directly). */
    public static DecisionRecord readRecord(Path modelOrRecord) throws IOException {
        Path p = modelOrRecord.getFileName().toString().endsWith(".decision.json")
                ? modelOrRecord
                : recordPath(modelOrRecord);
        if (!Files.exists(p)) {
            throw new IOException("no decision record at " + p);
        }
        try {
            return DecisionRecord.fromJson(Files.readString(p, StandardCharsets.UTF_8));
        } catch (IllegalArgumentException e) {
            throw new IOException(p + ": " + e.getMessage(), e);
        }
    }
}
