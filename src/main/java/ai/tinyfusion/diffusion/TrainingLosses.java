package ai.tinyfusion.diffusion;

import ai.djl.ndarray.NDArray;

/**
 * Per-sample (N,) training terms. {@code loss} is always present. For the MSE losses {@code mse} is present and
 * {@code vb} is present when the variance is learned ({@code loss = mse + vb}); for the KL losses both are
 * {@code null}.
 */
public record TrainingLosses(NDArray loss, NDArray mse, NDArray vb) {}
