package ai.tinyfusion.model.dit;

import ai.djl.ndarray.NDArray;

/**
 * Per-sample layer masks for the block stack. For block {@code i}, {@link #mask} returns an (N)
 * float array m with values in [0, 1] (or null to run the block normally), and the block is applied
 * as {@code x ← m·block(x, c) + (1−m)·x}: a zero masks the block into the identity for that sample.
 */
public interface LayerGate {
    NDArray mask(int layer);
}
