package ai.tinyfusion.diffusion.transport;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.LinkedHashMap;

/**
 * SiT's objective in the shape a training loop consumes, beside the DDPM {@code GaussianDiffusion}: the random
 * draws of one step, the per-sample loss terms for given draws, and class-conditional sampling with SiT's
 * classifier-free guidance. Nothing here knows the network's type: it sees a {@link TransportNet}.
 */
public record TransportObjective(Transport transport) {

    /**
     * The random draws of one training step from the engine generator, in the original's order: noise x0
     * ({@code randn_like(x1)}), times t ({@code rand(N)} scaled to the training interval), then the label drops
     * ({@code rand(N) < p}) that SiT's label embedder draws inside the training forward. Distillation gives the
     * same draw to teacher and student.
     */
    public record Draw(NDArray x0, NDArray t, NDArray dropIds) {}

    public Draw draw(NDManager m, Shape x1Shape, double dropProb) {
        Transport.Draw d = transport.draw(m, x1Shape);
        NDArray drop =
                m.randomUniform(0f, 1f, new Shape(x1Shape.get(0))).lt(dropProb).toType(DataType.INT64, false);
        return new Draw(d.x0(), d.t(), drop);
    }

    /** Per-sample (N,) terms by name; "loss" is the one to minimise (its mean over the batch). */
    public LinkedHashMap<String, NDArray> losses(TransportNet net, NDArray x1, NDArray y, Draw d) {
        LinkedHashMap<String, NDArray> terms = new LinkedHashMap<>();
        terms.put("loss", transport.trainingLosses(net, x1, d.x0(), d.t(), y).loss());
        return terms;
    }

    /**
     * Class-conditional samples as SiT's sample.py: without guidance (scale ≤ 1) the plain network; with it the
     * noise is doubled, the labels are followed by {@code nullClass}, {@code guided} (SiT's forward_with_cfg at
     * the scale) drives the sampler and the conditional half is returned.
     */
    public static NDArray sample(
            TransportSampler sampler,
            NDManager m,
            NDArray noise,
            NDArray labels,
            long nullClass,
            double cfgScale,
            TransportNet plain,
            TransportNet guided) {
        if (cfgScale <= 1) {
            return sampler.sample(m, noise, plain, labels);
        }
        long n = labels.getShape().get(0);
        NDArray zz = noise.concat(noise, 0);
        NDArray yy = labels.concat(m.full(new Shape(n), nullClass, DataType.INT64), 0);
        return sampler.sample(m, zz, guided, yy).get("0:" + n);
    }
}
