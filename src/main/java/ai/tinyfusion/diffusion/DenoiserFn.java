package ai.tinyfusion.diffusion;

import ai.djl.ndarray.NDArray;

/**
 * The network seen by the diffusion process.
 *
 * <p>{@code x} is the noisy batch (N, C, H, W); {@code t} holds one timestep per sample, (N,), always expressed in
 * the ORIGINAL (un-respaced) step index space: a {@link SpacedDiffusion} maps its own indices back before calling.
 * {@code y} is the conditioning passed through untouched from the caller (class labels (N,) int64 for DiT), or
 * {@code null} for an unconditional model. The result is (N, C, H, W), or (N, 2C, H, W) when the variance is
 * learned. Guidance, such as DiT's {@code forward_with_cfg}, belongs inside the function.
 */
@FunctionalInterface
public interface DenoiserFn {
    NDArray apply(NDArray x, NDArray t, NDArray y);
}
