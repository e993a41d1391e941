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

    /**
     * Called once when a run starts, after a resume has restored everything, with the number of
     * steps already done and the EMA values (e.g. to log the initial state or trim a task log).
     */
    default void started(long step, long totalSteps, Map<String, NDArray> ema) throws java.io.IOException {}

    /**
     * Called after every step, before a checkpoint of that step is written: {@code step} steps are
     * done, {@code logged} holds the step's logged values (loss, terms, grad_norm, lr), {@code ema}
     * the EMA values after the update.
     */
    default void afterStep(long step, long totalSteps, Map<String, Double> logged, Map<String, NDArray> ema)
            throws java.io.IOException {}

    /** Computes the loss of {@code batch}; every array it makes belongs to {@code scope}. */
    StepLoss loss(Batcher.Batch batch, NDManager scope);

    /** A JSON description stored in checkpoints (config, options) and checked on resume. */
    String describe();
}
