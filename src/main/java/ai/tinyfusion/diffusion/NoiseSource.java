package ai.tinyfusion.diffusion;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;

/**
 * Where the samplers take their Gaussian noise from. The default draws from the engine's generator, so after
 * {@code Engine.getInstance().setRandomSeed(seed)} the draws follow {@code torch.manual_seed(seed); torch.randn(...)}.
 * Supplying another source replays recorded noise (exact resume, reference tests).
 */
@FunctionalInterface
public interface NoiseSource {
    /** A standard normal array of the given shape and type, owned by {@code manager}. */
    NDArray next(NDManager manager, Shape shape, DataType dataType);

    /** Standard normal noise from the engine's random generator. */
    static NoiseSource standardNormal() {
        return (manager, shape, dataType) -> manager.randomNormal(0f, 1f, shape, dataType);
    }
}
