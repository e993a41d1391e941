package ai.tinyfusion.diffusion;

import ai.djl.ndarray.NDArray;

/** Timesteps drawn for a batch, (N,) int64, and the importance weights (N,) float32 to scale the losses by. */
public record TimestepSample(NDArray timesteps, NDArray weights) {}
