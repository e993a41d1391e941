package ai.tinyfusion.diffusion;

import ai.djl.ndarray.NDArray;

/**
 * The reverse step p(x_{t-1} | x_t) given by the model, plus its prediction of x_0; every field has the data's
 * shape.
 */
public record PMeanVariance(NDArray mean, NDArray variance, NDArray logVariance, NDArray predXstart) {}
