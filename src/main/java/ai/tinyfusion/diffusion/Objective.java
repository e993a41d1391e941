package ai.tinyfusion.diffusion;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import com.google.gson.JsonObject;
import java.util.LinkedHashMap;

/**
 * What a diffusion transformer is trained for: the one pluggable piece between the network (a {@code DiT}) and the
 * training loop, the learnable pruning search, distillation and sampling. Two implementations:
 * {@link DdpmObjective} (DiT's Gaussian diffusion: integer timesteps, ε and variance heads, MSE + VB) and
 * {@code transport.TransportObjective} (SiT's stochastic interpolants: continuous t ∈ [0, 1], velocity / noise /
 * score). Everything the loops do with the network goes through here, so no loop knows which objective it runs.
 */
public interface Objective {
    /** The metadata key of model files and the key inside training-task descriptions. */
    String METADATA_KEY = "objective";

    /**
     * The network as an objective sees it: the DiT's raw forward (with whatever options the caller applies: forced
     * label drops, layer gates, hidden-state capture). {@code t} is the objective's time input (DDPM: int64
     * timesteps 0..T−1; SiT: float32 in [0, 1]); the result is the DiT output, (N, C, H, W) or (N, 2C, H, W) with a
     * variance head.
     */
    @FunctionalInterface
    interface Network {
        NDArray apply(NDArray x, NDArray t, NDArray y);
    }

    /**
     * The random draws of one training step (times, noise, label-drop decisions), drawn from the engine generator in
     * the original's order. Distillation gives the same draw to teacher and student.
     */
    interface Draw {
        /** (N,) the times: int64 timesteps (DDPM) or float32 t (SiT). */
        NDArray t();

        /** Gaussian noise of the data's shape (DDPM's ε, SiT's x0). */
        NDArray noise();

        /** (N,) int64, 1 where the label is replaced by the null class. */
        NDArray dropIds();
    }

    /** The objective's short name: {@code ddpm} or {@code sit}. */
    String name();

    /** The draws of one step for a batch of shape {@code xShape} with label-drop probability {@code dropProb}. */
    Draw draw(NDManager m, Shape xShape, double dropProb);

    /**
     * A draw fixed on the host (calibration sets): sample i's time is chosen by {@code u[i]} ∈ [0, 1) (DDPM: timestep
     * ⌊u·T⌋; SiT: t0 + u·(t1 − t0) over the training interval), its noise is row i of {@code noise}, and no label is
     * dropped. The arrays are created in {@code m}.
     */
    Draw fixedDraw(NDManager m, double[] u, NDArray noise);

    /** What {@link #losses} feeds the network for data {@code x} under draw {@code d}: x_t, the data's shape. */
    NDArray networkInput(NDArray x, Draw d);

    /**
     * Per-sample (N,) training terms for data {@code x}, labels {@code y} and draw {@code d}, in a fixed order;
     * {@code "loss"} (first) is the one minimised, the others are its parts (logged). The network runs once.
     */
    LinkedHashMap<String, NDArray> losses(Network net, NDArray x, NDArray y, Draw d);

    /**
     * Per-sample (N,) output-distillation terms of a student against its (detached) teacher on the same draw; key
     * {@code "kd"} (first) is the KD loss, any others its parts.
     *
     * @param studentOut the student's DiT output on (x_t, t)
     * @param teacherOut the teacher's DiT output on the same (x_t, t)
     * @param x the data
     * @param xt what the networks saw
     * @param d the step's draw
     */
    LinkedHashMap<String, NDArray> kdLosses(NDArray studentOut, NDArray teacherOut, NDArray x, NDArray xt, Draw d);

    /** Fails with a clear message when this objective cannot drive distillation (default: it can). */
    default void checkDistillable() {}

    /**
     * The objective and every setting that changes its numbers, as stored in model files under
     * {@link #METADATA_KEY}; {@link Objectives#parse} reads it back.
     */
    JsonObject metadata();

    /**
     * Adds this objective to a training-task description (checked on resume). DDPM adds {@code num_timesteps} exactly
     * as descriptions written before objectives existed (so those checkpoints resume); others add
     * {@code "objective": metadata()}.
     */
    void describeInto(JsonObject task);

    /** One line for logs and errors, e.g. {@code ddpm (1000 steps)} or {@code sit (Linear, velocity, ...)}. */
    String summary();

    /** The same objective with the same settings (compared through {@link #metadata()}). */
    default boolean sameAs(Objective other) {
        return other != null && metadata().equals(other.metadata());
    }
}
