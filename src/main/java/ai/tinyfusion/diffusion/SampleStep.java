package ai.tinyfusion.diffusion;

import ai.djl.ndarray.NDArray;

/** One sampler step: the new sample and the x_0 prediction it was built from. */
public record SampleStep(NDArray sample, NDArray predXstart) {}
