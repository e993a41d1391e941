package ai.tinyfusion.train;

import ai.djl.ndarray.NDArray;
import ai.tinyfusion.nn.Scalars;

/**
 * The Masked-KD outlier mask of a block output: M = |h − μ| < k·σ, where μ and σ are the mean and
 * the standard deviation of each sample's hidden state over all its tokens and channels (σ with
 * Bessel's correction, as {@code torch.var_mean}, the original's choice). Massive activations beyond
 * k·σ are left out of the representation loss. The mask carries no gradient.
 */
public final class HiddenMask {
    private HiddenMask() {}

    /**
     * @param h (N, T, D) hidden states
     * @param k the width of the kept band in standard deviations (2 in the paper)
     * @return (N, T, D), 1 where kept and 0 where masked, in h's dtype
     */
    public static NDArray of(NDArray h, double k) {
        if (h.getShape().dimension() != 3) {
            throw new IllegalArgumentException("expected (N, T, D) hidden states, got " + h.getShape());
        }
        NDArray x = h.stopGradient(); // (N, T, D)
        long n = x.getShape().get(0);
        long count = x.getShape().get(1) * x.getShape().get(2);
        if (count < 2) {
            throw new IllegalArgumentException(
                    "a standard deviation needs at least two values per sample, got " + h.getShape());
        }
        NDArray flat = x.reshape(n, count); // (N, T·D)
        NDArray mu = flat.mean(new int[] {1}, true); // (N, 1)
        NDArray centred = flat.sub(mu); // (N, T·D)
        NDArray var = Scalars.div(centred.square().sum(new int[] {1}, true), count - 1.0); // (N, 1), unbiased
        NDArray bound = Scalars.mul(var.sqrt(), k); // (N, 1)
        return centred.abs().lt(bound).toType(h.getDataType(), false).reshape(h.getShape()); // (N, T, D)
    }
}
