package ai.tinyfusion.diffusion.transport;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.tinyfusion.model.DiT;

/**
 * A DiT seen as SiT's network. SiT's {@code models.py} is DiT's except that its forward keeps only the first half
 * of the output channels when the variance head exists ({@code learn_sigma}), and that t is continuous in [0, 1].
 * SiT's {@code forward_with_cfg} guides output channels 0..2 of that chunked output; guiding channels 0..2 of the
 * full DiT output and then chunking gives the same numbers, so the DiT's own guided forward is reused.
 */
public final class SiTNetwork {
    private SiTNetwork() {}

    /** SiT's forward: (N, C, H, W) of the velocity / noise / score. */
    public static TransportNet of(DiT dit) {
        return (x, t, y) -> firstHalf(dit, dit.forward(x, t, y));
    }

    /**
     * SiT's {@code forward_with_cfg}: x holds the batch twice and y [labels | null labels]; both halves get
     * {@code uncond + s·(cond − uncond)} in the first 3 channels and keep their own values in the rest.
     */
    public static TransportNet withCfg(DiT dit, double cfgScale) {
        return (x, t, y) -> firstHalf(dit, dit.forwardWithCfg(x, t, y, cfgScale, 3));
    }

    private static NDArray firstHalf(DiT dit, NDArray out) {
        return dit.config().learnSigma() ? out.get(":, 0:" + dit.config().inChannels()) : out;
    }

    /**
     * Class-conditional sampling as SiT's sample.py: with guidance (scale > 1) the noise is doubled, the labels are
     * followed by the null class and the conditional half of the result is kept; otherwise the plain forward.
     */
    public static NDArray sample(TransportSampler sampler, NDManager m, DiT dit, NDArray z, long[] labels,
            double cfgScale) {
        int n = labels.length;
        NDArray y;
        try (NDArray javaOwned = m.create(labels)) {
            y = javaOwned.duplicate();
        }
        if (cfgScale <= 1) {
            return sampler.sample(m, z, of(dit), y);
        }
        NDArray zz = z.concat(z, 0);
        NDArray yy = y.concat(m.full(new Shape(n), dit.config().numClasses(), DataType.INT64), 0);
        return sampler.sample(m, zz, withCfg(dit, cfgScale), yy).get("0:" + n);
    }
}
