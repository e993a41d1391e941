package ai.tinyfusion.diffusion;

import ai.djl.ndarray.NDArray;

/** A diagonal Gaussian, every field of the data's shape: q(x_t | x_0) or the posterior q(x_{t-1} | x_t, x_0). */
public record MeanVariance(NDArray mean, NDArray variance, NDArray logVariance) {}
