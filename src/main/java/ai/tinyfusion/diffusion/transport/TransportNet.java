package ai.tinyfusion.diffusion.transport;

import ai.djl.ndarray.NDArray;

/**
 * The network seen by the transport (SiT's {@code model(x, t, **model_kwargs)}).
 *
 * <p>{@code x} is the batch on the path (N, C, H, W); {@code t} is (N,) float32 continuous time in [0, 1] with
 * t = 0 noise and t = 1 data, passed to the network as it is (no rescaling to 0..999); {@code y} is the
 * conditioning passed through untouched (class labels (N,) int64, or {@code null}). The result has the shape of
 * {@code x} and is what the transport's {@link ModelType} says: a velocity, a noise or a score. Guidance (SiT's
 * {@code forward_with_cfg}) belongs inside the function, see {@link SiTNetwork}.
 */
@FunctionalInterface
public interface TransportNet {
    NDArray apply(NDArray x, NDArray t, NDArray y);
}
