package ai.tinyfusion.diffusion;

import ai.tinyfusion.diffusion.transport.TransportObjective;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import java.util.Locale;
import java.util.Map;

/** Naming, reading and comparing objectives: model-file metadata and training-task descriptions. */
public final class Objectives {
    private Objectives() {}

    /** The objective names the command line takes. */
    public static final String NAMES = DdpmObjective.NAME + ", " + TransportObjective.NAME;

    /**
     * The objective of a name with its settings; SiT settings are null for the defaults and must all be null for
     * DDPM (which has none to set).
     */
    public static Objective of(
            String name, String path, String prediction, String lossWeight, Double trainEps, Double sampleEps) {
        String n = name == null ? DdpmObjective.NAME : name.trim().toLowerCase(Locale.ROOT);
        switch (n) {
            case DdpmObjective.NAME:
                if (path != null || prediction != null || lossWeight != null || trainEps != null || sampleEps != null) {
                    throw new IllegalArgumentException("--path-type, --prediction, --loss-weight, --train-eps and "
                            + "--sample-eps set the SiT objective: they need --objective sit");
                }
                return DdpmObjective.standard();
            case TransportObjective.NAME:
                return TransportObjective.create(path, prediction, lossWeight, trainEps, sampleEps);
            default:
                throw new IllegalArgumentException("unknown objective '" + name + "' (" + NAMES + ")");
        }
    }

    /** Reads {@link Objective#metadata()} back. */
    public static Objective parse(String json) {
        JsonObject o;
        try {
            o = JsonParser.parseString(json).getAsJsonObject();
        } catch (JsonParseException | IllegalStateException e) {
            throw new IllegalArgumentException("unreadable objective '" + json + "'", e);
        }
        String name =
                o.has("name") && !o.get("name").isJsonNull() ? o.get("name").getAsString() : "";
        switch (name) {
            case DdpmObjective.NAME:
                int steps = o.has("num_timesteps") ? o.get("num_timesteps").getAsInt() : 1000;
                if (steps != 1000) {
                    throw new IllegalArgumentException("DDPM objective with " + steps + " steps: only DiT's 1000");
                }
                return DdpmObjective.standard();
            case TransportObjective.NAME:
                return TransportObjective.fromMetadata(o);
            default:
                throw new IllegalArgumentException("unknown objective '" + name + "' in " + json + " (" + NAMES + ")");
        }
    }

    /** The objective a model file records under {@link Objective#METADATA_KEY}, or null when it records none. */
    public static Objective ofModel(Map<String, String> metadata) {
        String v = metadata.get(Objective.METADATA_KEY);
        return v == null ? null : parse(v);
    }

    /** {@link Objective#METADATA_KEY} → the objective's metadata, for a model file. */
    public static Map<String, String> modelMetadata(Objective objective) {
        return Map.of(Objective.METADATA_KEY, objective.metadata().toString());
    }

    /**
     * The objective summary in a training-task description: its {@code "objective"}, else DDPM when it has
     * {@code num_timesteps} (descriptions of diffusion tasks written before objectives existed), else null (a task
     * without an objective, e.g. the classifier).
     */
    public static String summaryOfTask(String taskJson) {
        JsonObject o;
        try {
            o = JsonParser.parseString(taskJson).getAsJsonObject();
        } catch (JsonParseException | IllegalStateException e) {
            return null;
        }
        if (o.has(Objective.METADATA_KEY)) {
            try {
                return parse(o.get(Objective.METADATA_KEY).toString()).summary();
            } catch (IllegalArgumentException e) {
                return o.get(Objective.METADATA_KEY).toString();
            }
        }
        if (o.has("num_timesteps")) {
            return new DdpmObjective(DiffusionFactory.create("")).summary();
        }
        return null;
    }
}
