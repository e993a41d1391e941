package ai.tinyfusion.diffusion.transport;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.tinyfusion.diffusion.NoiseSource;

/** A sampler of a transport: from noise {@code init} at the start of its interval to data. */
@FunctionalInterface
public interface TransportSampler {
    /** The final state (what SiT keeps as {@code samples[-1]}), owned by {@code m}; {@code init} is left open. */
    NDArray sample(NDManager m, NDArray init, TransportNet net, NDArray y);

    /** This sampler with stochastic steps drawing from {@code noise}; a deterministic sampler returns itself. */
    default TransportSampler withNoise(NoiseSource noise) {
        return this;
    }
}
