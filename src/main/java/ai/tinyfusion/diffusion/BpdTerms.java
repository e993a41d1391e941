package ai.tinyfusion.diffusion;

import ai.djl.ndarray.NDArray;

/**
 * The full variational bound of a batch, in bits per dimension: {@code totalBpd} and {@code priorBpd} are (N,);
 * {@code vb}, {@code xstartMse} and {@code mse} (epsilon MSE) are (N, T) with column k for timestep k.
 */
public record BpdTerms(NDArray totalBpd, NDArray priorBpd, NDArray vb, NDArray xstartMse, NDArray mse) {}
