package ai.tinyfusion.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.tinyfusion.data.Batcher;
import ai.tinyfusion.diffusion.DenoiserFn;
import ai.tinyfusion.diffusion.GaussianDiffusion;
import ai.tinyfusion.diffusion.TrainingLosses;
import ai.tinyfusion.model.dit.DiT;
import ai.tinyfusion.nn.Module;
import ai.tinyfusion.nn.Parameter;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Plain DiT training, as the original train.py: t uniform over the diffusion steps, Gaussian noise,
 * label dropout with the model's {@code class_dropout_prob}, loss = mean of (MSE + VB).
 */
public final class DiffusionTask implements TrainTask {
    private final DiT model;
    private final GaussianDiffusion diffusion;
    private final double weightDecay;

    public DiffusionTask(DiT model, GaussianDiffusion diffusion, double weightDecay) {
        this.model = model;
        this.diffusion = diffusion;
        this.weightDecay = weightDecay;
    }

    public DiT model() {
        return model;
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
        NDArray x0 = batch.images();
        NDArray y = batch.labels();
        int n = batch.size();
        Draw d = Draw.of(scope, diffusion, x0.getShape(), n, model.config().classDropoutProb());
        DenoiserFn fn = (x, t, yy) -> model.forward(x, t, yy, new DiT.Options().forceDrop(d.dropIds()));
        TrainingLosses l = diffusion.trainingLosses(fn, x0, d.t(), y, d.noise());
        Map<String, NDArray> terms = new LinkedHashMap<>(); // fixed order: the metrics CSV columns
        terms.put("mse", l.mse().mean());
        terms.put("vb", l.vb().mean());
        return new StepLoss(l.loss().mean(), terms);
    }

    /**
     * The random draws of one training step, in a fixed order from the engine RNG: timesteps,
     * noise, label-drop decisions. Distillation gives the same draws to teacher and student.
     */
    public record Draw(NDArray t, NDArray noise, NDArray dropIds) {
        public static Draw of(NDManager m, GaussianDiffusion diffusion, Shape xShape, int n, double dropProb) {
            NDArray t = m.randomInteger(0, diffusion.numTimesteps(), new Shape(n), DataType.INT64);
            NDArray noise = m.randomNormal(xShape);
            NDArray drop = m.randomUniform(0f, 1f, new Shape(n)).lt(dropProb).toType(DataType.INT64, false);
            return new Draw(t, noise, drop);
        }
    }

    @Override
    public String describe() {
        JsonObject o = new JsonObject();
        o.addProperty("task", "diffusion");
        o.add("config", JsonParser.parseString(model.config().toJson()));
        o.addProperty("num_timesteps", diffusion.numTimesteps());
        o.addProperty("weight_decay", weightDecay);
        return o.toString();
    }
}
