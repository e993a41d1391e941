package ai.tinyfusion.diffusion.transport;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.tinyfusion.model.dit.DiT;

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

    /** SiT's {@code x.chunk(2, dim=1)[0]} when the DiT has a variance head: a DiT output seen as SiT's. */
    public static NDArray firstHalf(DiT dit, NDArray out) {
        return dit.config().learnSigma() ? out.get(":, 0:" + dit.config().inChannels()) : out;
    }

    /** SiT's sample.py on a DiT: {@link TransportObjective#sample} with the null class of the DiT's label table. */
    public static NDArray sample(
            TransportSampler sampler, NDManager m, DiT dit, NDArray z, long[] labels, double cfgScale) {
        NDArray y;
        try (NDArray javaOwned = m.create(labels)) {
            y = javaOwned.duplicate();
        }
        return TransportObjective.sample(
                sampler, m, z, y, dit.config().numClasses(), cfgScale, of(dit), withCfg(dit, cfgScale));
    }
}
