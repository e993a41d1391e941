package ai.tinyfusion.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.tinyfusion.data.Batcher;
import ai.tinyfusion.nn.Module;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What a {@link TrainLoop} optimises: plain diffusion training, the learnable pruning search and
 * recovery with distillation are all tasks over the same loop (optimizer, EMA, clipping, NaN
 * skipping, checkpoints and exact resume live in the loop, once).
 */
public interface TrainTask {
    /** The loss of one batch (a scalar to differentiate) and named scalar terms to log. */
    record StepLoss(NDArray loss, Map<String, NDArray> terms) {}

    /** Arrays the optimizer updates, by name (gradients are attached to them by the loop). */
    LinkedHashMap<String, NDArray> trainable();

    /** Arrays whose exponential moving average is kept (may be empty). */
    LinkedHashMap<String, NDArray> emaTracked();

    /** Everything besides EMA and optimizer state needed to resume (usually ⊇ {@link #trainable()}). */
    LinkedHashMap<String, NDArray> state();

    /** Modules whose arrays are scoped into each step's manager. */
    List<Module> modules();

    /** Weight decay per trainable name (missing: 0). */
    default Map<String, Double> weightDecay() {
        return Map.of();
    }

    /** Learning-rate multiplier per trainable name (missing: 1). */
    default Map<String, Double> lrScale() {
        return Map.of();
    }

    /** Called before every step with the global step index (e.g. to anneal a temperature). */
    default void beforeStep(long step, long totalSteps) {}

    /** Computes the loss of {@code batch}; every array it makes belongs to {@code scope}. */
    StepLoss loss(Batcher.Batch batch, NDManager scope);

    /** A JSON description stored in checkpoints (config, options) and checked on resume. */
    String describe();
}
