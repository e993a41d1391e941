package ai.tinyfusion.cli;

import ai.tinyfusion.diffusion.DdpmObjective;
import ai.tinyfusion.diffusion.Objective;
import ai.tinyfusion.diffusion.Objectives;
import ai.tinyfusion.diffusion.transport.TransportObjective;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Option;

/**
 * The training objective of train / prune / finetune / sample: DiT's DDPM or SiT's interpolants with their settings.
 * Unset options take the objective the model file records, else the library's defaults ({@link DdpmObjective},
 * {@link TransportObjective#create}); nothing is defaulted here.
 */
public final class ObjectiveOptions {
    private static final Logger LOG = LoggerFactory.getLogger(ObjectiveOptions.class);

    @Option(
            names = "--objective",
            description = "ddpm (DiT's Gaussian diffusion) or sit (SiT's stochastic interpolants). Default: the "
                    + "objective the model file records, else ddpm.")
    String objective;

    @Option(
            names = "--path-type",
            description = "--objective sit: the interpolant path, Linear, GVP or VP (default: the model file's, else "
                    + TransportObjective.DEFAULT_PATH + ").")
    String pathType;

    @Option(
            names = "--prediction",
            description = "--objective sit: what the network predicts, velocity, noise or score (default: the model "
                    + "file's, else " + TransportObjective.DEFAULT_PREDICTION + ").")
    String prediction;

    @Option(
            names = "--loss-weight",
            description = "--objective sit: loss weighting of noise/score models, none, velocity or likelihood "
                    + "(default: the model file's, else " + TransportObjective.DEFAULT_LOSS_WEIGHT + ").")
    String lossWeight;

    @Option(
            names = "--train-eps",
            description = "--objective sit: distance of training times from the singular ends (default: the model "
                    + "file's, else SiT's for the path and prediction).")
    Double trainEps;

    @Option(
            names = "--sample-eps",
            description = "--objective sit: distance of sampling times from the ends (default: the model file's, "
                    + "else SiT's for the path and prediction).")
    Double sampleEps;

    /** Whether any objective option was given. */
    boolean given() {
        return objective != null
                || pathType != null
                || prediction != null
                || lossWeight != null
                || trainEps != null
                || sampleEps != null;
    }

    /**
     * The objective of this run for a model whose file metadata is {@code modelMetadata} (empty for presets and
     * official checkpoints). With no option given it is the recorded one, else DDPM; SiT settings not given come
     * from a recorded SiT objective. When the options ask for another objective than the recorded one,
     * {@code retrain} decides: training may start from weights trained otherwise (logged), every other command
     * refuses, since it would use the model with the wrong objective.
     *
     * @param what the model's name for messages
     */
    Objective resolve(Map<String, String> modelMetadata, String what, boolean retrain) {
        Objective recorded;
        try {
            recorded = Objectives.ofModel(modelMetadata);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(what + ": " + e.getMessage(), e);
        }
        if (!given()) {
            return recorded != null ? recorded : DdpmObjective.standard();
        }
        String name = objective != null ? objective : recorded != null ? recorded.name() : DdpmObjective.NAME;
        Objective run;
        if (recorded instanceof TransportObjective r && name.equalsIgnoreCase(TransportObjective.NAME)) {
            var m = r.metadata();
            run = Objectives.of(
                    name,
                    pathType != null ? pathType : m.get("path_type").getAsString(),
                    prediction != null ? prediction : m.get("prediction").getAsString(),
                    lossWeight != null ? lossWeight : m.get("loss_weight").getAsString(),
                    trainEps != null ? trainEps : Double.valueOf(r.transport().trainEps()),
                    sampleEps != null ? sampleEps : r.transport().sampleEps());
        } else {
            run = Objectives.of(name, pathType, prediction, lossWeight, trainEps, sampleEps);
        }
        if (recorded != null && !run.sameAs(recorded)) {
            if (!retrain) {
                throw new IllegalArgumentException(what + " was trained with the objective " + recorded.summary()
                        + "; this command would use it with " + run.summary()
                        + ". Drop the objective options (the model's own is used) or give a model trained with it.");
            }
            LOG.warn("{} records the objective {}; training it under {}", what, recorded.summary(), run.summary());
        }
        return run;
    }
}
