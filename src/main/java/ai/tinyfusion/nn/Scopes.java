package ai.tinyfusion.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.util.function.Function;

/**
 * Short-lived sub-managers for inference work (djl-notes, rule 2): the inputs and the module's arrays
 * are attached to a fresh sub-manager of {@code owner} for the duration of one computation, so every
 * intermediate lands there and is freed when it closes; only the result survives. The inputs must be
 * owned by {@code owner} (or another manager), not temporarily attached elsewhere.
 */
public final class Scopes {
    private Scopes() {}

    /** Runs {@code f} in a sub-manager and keeps its array result, attached to {@code owner}. */
    public static NDArray keep(NDManager owner, Module module, Function<NDManager, NDArray> f, NDArray... inputs) {
        try (NDManager op = owner.newSubManager()) {
            op.tempAttachAll(inputs);
            module.useIn(op);
            NDArray out = f.apply(op);
            out.attach(owner);
            return out;
        }
    }

    /** Runs {@code f} in a sub-manager and returns its Java result; every array made is freed. */
    public static <T> T host(NDManager owner, Module module, Function<NDManager, T> f, NDArray... inputs) {
        try (NDManager op = owner.newSubManager()) {
            op.tempAttachAll(inputs);
            module.useIn(op);
            return f.apply(op);
        }
    }
}
