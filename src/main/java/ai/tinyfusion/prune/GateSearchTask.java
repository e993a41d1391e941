package ai.tinyfusion.prune;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.tinyfusion.data.Batcher;
import ai.tinyfusion.diffusion.Objective;
import ai.tinyfusion.model.dit.DiT;
import ai.tinyfusion.model.dit.Lora;
import ai.tinyfusion.nn.Module;
import ai.tinyfusion.nn.Parameter;
import ai.tinyfusion.train.DiffusionTask;
import ai.tinyfusion.train.TrainTask;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The learnable depth-pruning search as a {@link TrainTask} (the original prune_by_learning.py):
 * the model's objective loss (DDPM: MSE + VB with learned sigma; SiT: the transport loss; real labels, label
 * dropout with the model's class_dropout_prob; the same {@link DiffusionTask#stepLoss} as training) of the DiT
 * with Gumbel-sampled per-sample layer masks, optimised jointly over
 * the gate logits and the weight update ΔΦ (LoRA, all weights, or nothing). The loop provides the
 * rest: AdamW (weight decay 0; the gates get {@code gateLrScale}× the learning rate), clipping,
 * EMA of gates and ΔΦ, checkpoints and exact resume. τ and the logit scaling move linearly over the
 * run, per step. Every {@code decisionEvery} steps the EMA gates' decision is logged.
 */
public final class GateSearchTask implements TrainTask {
    private static final Logger LOG = LoggerFactory.getLogger(GateSearchTask.class);

    /**
     * Search settings.
     *
     * @param decisionEvery decision-log interval in steps (≤ 0: only the start and the end)
     * @param sourceSha256 the source checkpoint's SHA-256 (part of {@link #describe()}, so a resume
     *     against other base weights is refused); null for a randomly initialised source
     */
    public record Settings(
            Pattern pattern,
            DeltaMode delta,
            int loraRank,
            double loraAlpha,
            double tauStart,
            double tauEnd,
            double scalingStart,
            double scalingEnd,
            double gateLrScale,
            int decisionEvery,
            String sourceSha256) {
        public Settings {
            if (!(tauStart > 0) || !(tauEnd > 0)) {
                throw new IllegalArgumentException("temperatures must be positive, got " + tauStart + ":" + tauEnd);
            }
            if (!(scalingStart > 0) || !(scalingEnd > 0)) {
                throw new IllegalArgumentException("scalings must be positive, got " + scalingStart + ":" + scalingEnd);
            }
            if (!(gateLrScale > 0)) {
                throw new IllegalArgumentException("gate learning-rate scale must be positive, got " + gateLrScale);
            }
        }
    }

    private final DiT model;
    private final Objective objective;
    private final Settings settings;
    private final LearnableGates gates;
    private final Lora.Attached lora; // null unless delta == LORA
    private final LinkedHashMap<String, NDArray> delta = new LinkedHashMap<>();
    private final DecisionLog log;
    private double lossSum;
    private long lossCount;
    private GateDecision lastDecision;

    /**
     * Prepares {@code model} for the search: in LoRA mode adapters are attached to every Linear
     * (A from the engine RNG), and the base weights are frozen unless the mode is FULL. The gates
     * live in the model's manager. {@link #restoreModel()} removes the adapters again.
     *
     * @param decisions where the decision trace goes (null: not written)
     */
    public GateSearchTask(DiT model, Objective objective, Settings settings, Path decisions) {
        if (settings.pattern().depth() != model.depth()) {
            throw new IllegalArgumentException("pattern " + settings.pattern().expanded() + " covers "
                    + settings.pattern().depth() + " layers, the model has " + model.depth());
        }
        this.model = model;
        this.objective = objective;
        this.settings = settings;
        this.gates = new LearnableGates(model.manager(), settings.pattern());
        switch (settings.delta()) {
            case LORA -> {
                lora = Lora.attachAll(model, settings.loraRank(), settings.loraAlpha());
                delta.putAll(lora.parameters());
            }
            case FULL -> {
                lora = null;
                model.namedParameters().forEach((k, p) -> {
                    if (p.trainable()) {
                        delta.put(k, p.value());
                    }
                });
            }
            case NONE -> {
                lora = null;
                model.namedParameters().values().forEach(p -> p.setTrainable(false));
            }
            default -> throw new IllegalStateException();
        }
        model.attachGradients();
        this.log = decisions == null ? null : new DecisionLog(decisions, settings.pattern());
    }

    public LearnableGates gates() {
        return gates;
    }

    public DiT model() {
        return model;
    }

    public Settings settings() {
        return settings;
    }

    /** The attached LoRA adapters (null unless the mode is LORA). */
    public Lora.Attached lora() {
        return lora;
    }

    /** Trainable values: ΔΦ plus gate logits. */
    public long trainableCount() {
        long n = gates.logitCount();
        for (NDArray a : delta.values()) {
            n += a.getShape().size();
        }
        return n;
    }

    /** Base-model values (without adapters or gates). */
    public long baseCount() {
        return lora != null ? lora.baseParameters() : model.parameterCount();
    }

    /** Removes the LoRA adapters (the frozen base is the original model again in LORA/NONE mode). */
    public void restoreModel() {
        if (lora != null) {
            Lora.detachAll(model);
        }
        for (Parameter p : model.namedParameters().values()) {
            p.value().setRequiresGradient(false);
        }
    }

    @Override
    public LinkedHashMap<String, NDArray> trainable() {
        LinkedHashMap<String, NDArray> out = new LinkedHashMap<>(gates.logitArrays());
        out.putAll(delta);
        return out;
    }

    @Override
    public LinkedHashMap<String, NDArray> emaTracked() {
        return trainable();
    }

    @Override
    public LinkedHashMap<String, NDArray> state() {
        return trainable();
    }

    @Override
    public List<Module> modules() {
        return List.of(model, gates);
    }

    @Override
    public Map<String, Double> lrScale() {
        Map<String, Double> out = new LinkedHashMap<>();
        gates.logitArrays().keySet().forEach(k -> out.put(k, settings.gateLrScale()));
        return out;
    }

    /** τ at step {@code step} of {@code total}. */
    public double tauAt(long step, long total) {
        return LearnableGates.linear(settings.tauStart(), settings.tauEnd(), step, total);
    }

    /** The logit scaling at step {@code step} of {@code total}. */
    public double scalingAt(long step, long total) {
        return LearnableGates.linear(settings.scalingStart(), settings.scalingEnd(), step, total);
    }

    @Override
    public void beforeStep(long step, long totalSteps) {
        gates.setSchedule(tauAt(step, totalSteps), scalingAt(step, totalSteps));
    }

    @Override
    public StepLoss loss(Batcher.Batch batch, NDManager scope) {
        Objective.Draw d =
                objective.draw(scope, batch.images().getShape(), model.config().classDropoutProb());
        gates.resample(scope, batch.size());
        DiT.Options options = new DiT.Options().forceDrop(d.dropIds()).gate(gates);
        StepLoss l = DiffusionTask.stepLoss(objective, (x, t, y) -> model.forward(x, t, y, options), batch, d);
        gates.clear();
        return l;
    }

    /** The decision of the given gate logits (e.g. the EMA) at the given scaling. */
    public GateDecision decide(Map<String, NDArray> values, double scaling) {
        return GateDecision.of(settings.pattern(), gates.hostLogits(values), scaling);
    }

    @Override
    public void started(long step, long totalSteps, Map<String, NDArray> ema) throws IOException {
        lossSum = 0;
        lossCount = 0;
        if (log != null) {
            log.truncateAfter(step == 0 ? -1 : step); // a fresh run replaces an old trace
        }
        double s = scalingAt(step, totalSteps);
        lastDecision = decide(ema, s);
        if (step == 0) {
            record(0, tauAt(0, totalSteps), s, Double.NaN, lastDecision);
        }
    }

    @Override
    public void afterStep(long step, long totalSteps, Map<String, Double> logged, Map<String, NDArray> ema)
            throws IOException {
        Double loss = logged.get("loss");
        if (loss != null && Double.isFinite(loss)) {
            lossSum += loss;
            lossCount++;
        }
        int every = settings.decisionEvery();
        if ((every > 0 && step % every == 0) || step == totalSteps) {
            lastDecision = decide(ema, gates.scaling());
            record(step, gates.tau(), gates.scaling(), lossCount == 0 ? Double.NaN : lossSum / lossCount, lastDecision);
            lossSum = 0;
            lossCount = 0;
        }
    }

    private void record(long step, double tau, double scaling, double loss, GateDecision d) throws IOException {
        if (log != null) {
            log.append(step, tau, scaling, loss, d);
        }
        LOG.info(String.format(
                Locale.ROOT,
                "step %d: tau %.3f, scaling %.4g, loss %s; decision %s; confidence %s",
                step,
                tau,
                scaling,
                lossText(loss),
                Arrays.toString(d.kept()),
                confidences(d)));
    }

    /** The mean loss for the log line: "-" before any step has been averaged (step 0). */
    static String lossText(double loss) {
        return Double.isFinite(loss) ? String.format(Locale.ROOT, "%.4f", loss) : "-";
    }

    static String confidences(GateDecision d) {
        StringBuilder sb = new StringBuilder("[");
        for (double c : d.confidence()) {
            sb.append(sb.length() == 1 ? "" : ", ").append(String.format(Locale.ROOT, "%.3f", c));
        }
        return sb.append(']').toString();
    }

    @Override
    public String describe() {
        JsonObject o = new JsonObject();
        o.addProperty("task", "learned-prune");
        o.add("config", JsonParser.parseString(model.config().toJson()));
        objective.describeInto(o);
        o.addProperty("pattern", settings.pattern().expanded());
        o.addProperty("delta", settings.delta().label());
        if (settings.delta() == DeltaMode.LORA) {
            o.addProperty("lora_rank", settings.loraRank());
            o.addProperty("lora_alpha", settings.loraAlpha());
        }
        JsonArray tau = new JsonArray();
        tau.add(settings.tauStart());
        tau.add(settings.tauEnd());
        o.add("tau", tau);
        JsonArray sc = new JsonArray();
        sc.add(settings.scalingStart());
        sc.add(settings.scalingEnd());
        o.add("scaling", sc);
        o.addProperty("gate_lr_scale", settings.gateLrScale());
        o.addProperty("source_sha256", settings.sourceSha256());
        return o.toString();
    }

    /** The source SHA-256 a checkpoint's task description was written with (null if none). */
    public static String sourceShaOf(String describeJson) {
        JsonObject o = JsonParser.parseString(describeJson).getAsJsonObject();
        return o.has("source_sha256") && !o.get("source_sha256").isJsonNull()
                ? o.get("source_sha256").getAsString()
                : null;
    }
}
