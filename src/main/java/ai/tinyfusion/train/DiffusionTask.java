package ai.tinyfusion.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.tinyfusion.data.Batcher;
import ai.tinyfusion.diffusion.DdpmObjective;
import ai.tinyfusion.diffusion.GaussianDiffusion;
import ai.tinyfusion.diffusion.Objective;
import ai.tinyfusion.model.dit.DiT;
import ai.tinyfusion.nn.Module;
import ai.tinyfusion.nn.Parameter;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Plain training of a DiT under an {@link Objective}: DiT's train.py (t uniform over the diffusion steps,
 * Gaussian noise, loss = mean of (MSE + VB)) or SiT's (the transport loss), label dropout with the model's
 * {@code class_dropout_prob} in both.
 */
public final class DiffusionTask implements TrainTask {
    private final DiT model;
    private final Objective objective;
    private final double weightDecay;

    public DiffusionTask(DiT model, Objective objective, double weightDecay) {
        this.model = model;
        this.objective = objective;
        this.weightDecay = weightDecay;
    }

    /** DDPM training with {@code diffusion} (DiT's train.py). */
    public DiffusionTask(DiT model, GaussianDiffusion diffusion, double weightDecay) {
        this(model, new DdpmObjective(diffusion), weightDecay);
    }

    public DiT model() {
        return model;
    }

    public Objective objective() {
        return objective;
    }

    @Override
    public LinkedHashMap<String, NDArray> trainable() {
        return trainableOf(model);
    }

    /** The trainable parameters of {@code model} by name. */
    static LinkedHashMap<String, NDArray> trainableOf(DiT model) {
        LinkedHashMap<String, NDArray> out = new LinkedHashMap<>();
        model.namedParameters().forEach((k, p) -> {
            if (p.trainable()) {
                out.put(k, p.value());
            }
        });
        return out;
    }

    @Override
    public LinkedHashMap<String, NDArray> emaTracked() {
        return model.stateDict();
    }

    @Override
    public LinkedHashMap<String, NDArray> state() {
        return model.stateDict();
    }

    @Override
    public List<Module> modules() {
        return List.of(model);
    }

    /** Decay on matrices only (not biases, embeddings' bias-like vectors), when a decay is set. */
    @Override
    public Map<String, Double> weightDecay() {
        return matrixDecay(model, weightDecay);
    }

    /** {@code decay} for every trainable parameter of {@code model} with two or more axes (none when decay is 0). */
    static Map<String, Double> matrixDecay(DiT model, double weightDecay) {
        Map<String, Double> out = new LinkedHashMap<>();
        if (weightDecay > 0) {
            for (Map.Entry<String, Parameter> e : model.namedParameters().entrySet()) {
                if (e.getValue().trainable() && e.getValue().value().getShape().dimension() >= 2) {
                    out.put(e.getKey(), weightDecay);
                }
            }
        }
        return out;
    }

    @Override
    public StepLoss loss(Batcher.Batch batch, NDManager scope) {
        Objective.Draw d =
                objective.draw(scope, batch.images().getShape(), model.config().classDropoutProb());
        DiT.Options options = new DiT.Options().forceDrop(d.dropIds());
        return stepLoss(objective, (x, t, y) -> model.forward(x, t, y, options), batch, d);
    }

    /**
     * The step loss of {@code net} under {@code objective} for one batch and draw: the mean of the per-sample
     * {@code "loss"}, and the means of its parts as the logged terms, in the objective's order (the metrics CSV
     * columns). Shared by training and the learnable pruning search.
     */
    public static StepLoss stepLoss(Objective objective, Objective.Network net, Batcher.Batch batch, Objective.Draw d) {
        Map<String, NDArray> l = objective.losses(net, batch.images(), batch.labels(), d);
        Map<String, NDArray> terms = new LinkedHashMap<>(); // fixed order: the metrics CSV columns
        l.forEach((k, v) -> {
            if (!k.equals("loss")) {
                terms.put(k, v.mean());
            }
        });
        return new StepLoss(l.get("loss").mean(), terms);
    }

    /**
     * The DDPM draws of one training step under their name from before {@link Objective} (what
     * {@link DdpmObjective#draw} draws, in the same order: timesteps, noise, label-drop decisions).
     */
    public record Draw(NDArray t, NDArray noise, NDArray dropIds) implements Objective.Draw {
        public static Draw of(NDManager m, GaussianDiffusion diffusion, Shape xShape, int n, double dropProb) {
            if (xShape.get(0) != n) {
                throw new IllegalArgumentException("batch of " + n + " for data of shape " + xShape);
            }
            Objective.Draw d = new DdpmObjective(diffusion).draw(m, xShape, dropProb);
            return new Draw(d.t(), d.noise(), d.dropIds());
        }
    }

    @Override
    public String describe() {
        JsonObject o = new JsonObject();
        o.addProperty("task", "diffusion");
        o.add("config", JsonParser.parseString(model.config().toJson()));
        objective.describeInto(o);
        o.addProperty("weight_decay", weightDecay);
        return o.toString();
    }
}
