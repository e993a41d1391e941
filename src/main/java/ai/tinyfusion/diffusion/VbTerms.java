package ai.tinyfusion.diffusion;

import ai.djl.ndarray.NDArray;

/**
 * One variational-bound term per sample, (N,), in bits per dimension: the decoder NLL where t == 0, otherwise
 * KL(q(x_{t-1} | x_t, x_0) || p(x_{t-1} | x_t)); and the model's x_0 prediction.
 */
public record VbTerms(NDArray output, NDArray predXstart) {}
