package ai.tinyfusion.diffusion.transport;

import ai.djl.ndarray.NDArray;

/** The right-hand side f(t, x) of dx/dt = f(t, x); {@code t} in float32 as the original hands it to its drift. */
@FunctionalInterface
public interface OdeFunction {
    NDArray apply(float t, NDArray x);
}
