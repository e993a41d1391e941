package ai.tinyfusion.diffusion.transport;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.tinyfusion.diffusion.KdTerms;
import ai.tinyfusion.diffusion.NoiseSource;
import ai.tinyfusion.diffusion.Objective;
import ai.tinyfusion.diffusion.Sampler;
import ai.tinyfusion.model.dit.DiT;
import com.google.gson.JsonElement;
import com.google.gson.JsonNull;
import com.google.gson.JsonObject;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.function.IntConsumer;

/**
 * SiT's objective (train.py + sample.py of willisma/SiT) as the pluggable {@link Objective}: the random draws of one
 * step, the per-sample transport loss, distillation of the prediction, and class-conditional sampling with SiT's
 * classifier-free guidance. The network is a DiT seen through {@link SiTNetwork} (continuous t, the first half of
 * the output channels when it has a variance head).
 */
public record TransportObjective(Transport transport) implements Objective {
    public static final String NAME = "sit";

    /** SiT's train.py / sample.py defaults: the Linear path, velocity prediction, no loss weighting. */
    public static final String DEFAULT_PATH = "Linear";

    public static final String DEFAULT_PREDICTION = "velocity";
    public static final String DEFAULT_LOSS_WEIGHT = "none";

    /** The sampler used unless told otherwise: the probability-flow ODE ({@link OdeSampler}); else "sde". */
    public static final String DEFAULT_SAMPLER = "ode";

    /**
     * A SiT objective from its command-line settings; null takes the default ({@link #DEFAULT_PATH},
     * {@link #DEFAULT_PREDICTION}, {@link #DEFAULT_LOSS_WEIGHT}, epsilons as {@link Transport#create}). Unlike the
     * original's lenient parsing, an unknown prediction or loss weight is an error.
     */
    public static TransportObjective create(
            String path, String prediction, String lossWeight, Double trainEps, Double sampleEps) {
        String p = path == null ? DEFAULT_PATH : path;
        String m = prediction == null ? DEFAULT_PREDICTION : prediction.toLowerCase(Locale.ROOT);
        String w = lossWeight == null ? DEFAULT_LOSS_WEIGHT : lossWeight.toLowerCase(Locale.ROOT);
        if (!m.equals("velocity") && !m.equals("noise") && !m.equals("score")) {
            throw new IllegalArgumentException("unknown prediction '" + prediction + "' (velocity, noise, score)");
        }
        if (!w.equals("none") && !w.equals("velocity") && !w.equals("likelihood")) {
            throw new IllegalArgumentException("unknown loss weight '" + lossWeight + "' (none, velocity, likelihood)");
        }
        for (Double eps : new Double[] {trainEps, sampleEps}) {
            if (eps != null && !(eps >= 0 && eps < 0.5)) {
                throw new IllegalArgumentException("--train-eps / --sample-eps must be in [0, 0.5), got " + eps);
            }
        }
        return new TransportObjective(Transport.create(p, m, w, trainEps, sampleEps));
    }

    /** SiT's defaults. */
    public static TransportObjective standard() {
        return create(null, null, null, null, null);
    }

    @Override
    public String name() {
        return NAME;
    }

    /**
     * The random draws of one training step: x0 (the noise), t, and the label drops SiT's label embedder draws
     * inside the training forward.
     */
    public record Draw(NDArray x0, NDArray t, NDArray dropIds) implements Objective.Draw {
        @Override
        public NDArray noise() {
            return x0;
        }
    }

    /**
     * The random draws of one training step from the engine generator, in the original's order: noise x0
     * ({@code randn_like(x1)}), times t ({@code rand(N)} scaled to the training interval), then the label drops
     * ({@code rand(N) < p}). Distillation gives the same draw to teacher and student.
     */
    @Override
    public Draw draw(NDManager m, Shape x1Shape, double dropProb) {
        Transport.Draw d = transport.draw(m, x1Shape);
        NDArray drop =
                m.randomUniform(0f, 1f, new Shape(x1Shape.get(0))).lt(dropProb).toType(DataType.INT64, false);
        return new Draw(d.x0(), d.t(), drop);
    }

    /** t = t0 + u·(t1 − t0) over the training interval (float32), x0 = {@code noise}, no label drops. */
    @Override
    public Draw fixedDraw(NDManager m, double[] u, NDArray noise) {
        Transport.Interval iv = transport.trainInterval();
        float[] t = new float[u.length];
        for (int i = 0; i < u.length; i++) {
            t[i] = (float) (iv.t0() + u[i] * (iv.t1() - iv.t0()));
        }
        NDArray times;
        try (NDArray javaOwned = m.create(t)) { // Java memory: clone into libtorch (djl-notes)
            times = javaOwned.duplicate();
        }
        return new Draw(noise, times, m.zeros(new Shape(u.length), DataType.INT64));
    }

    /** x_t of the coupling plan for data x1, noise x0 and t. */
    @Override
    public NDArray networkInput(NDArray x1, Objective.Draw d) {
        return transport.plan().xt(d.t(), d.noise(), x1);
    }

    /** Per-sample (N,) terms by name; "loss" is the one to minimise (its mean over the batch). */
    public LinkedHashMap<String, NDArray> losses(TransportNet net, NDArray x1, NDArray y, Draw d) {
        return losses(net, x1, y, d.x0(), d.t());
    }

    /** The transport loss of a DiT's raw forward: the network SiT sees is its prediction half. */
    @Override
    public LinkedHashMap<String, NDArray> losses(Network net, NDArray x1, NDArray y, Objective.Draw d) {
        TransportNet sit =
                (x, t, yy) -> prediction(net.apply(x, t, yy), x.getShape().get(1));
        return losses(sit, x1, y, d.noise(), d.t());
    }

    private LinkedHashMap<String, NDArray> losses(TransportNet net, NDArray x1, NDArray y, NDArray x0, NDArray t) {
        LinkedHashMap<String, NDArray> terms = new LinkedHashMap<>();
        terms.put("loss", transport.trainingLosses(net, x1, x0, t, y).loss());
        return terms;
    }

    /**
     * {@code kd}: the MSE between student and teacher predictions (velocity, noise or score) on the shared draw.
     * There is no variance head to distil: SiT's forward drops it.
     */
    @Override
    public LinkedHashMap<String, NDArray> kdLosses(
            NDArray studentOut, NDArray teacherOut, NDArray x, NDArray xt, Objective.Draw d) {
        long c = xt.getShape().get(1);
        LinkedHashMap<String, NDArray> terms = new LinkedHashMap<>();
        terms.put("kd", KdTerms.outputMse(prediction(studentOut, c), prediction(teacherOut, c)));
        return terms;
    }

    /** SiT's {@code x.chunk(2, dim=1)[0]} for an output with a variance head (2C channels), else the output. */
    static NDArray prediction(NDArray out, long channels) {
        long oc = out.getShape().get(1);
        if (oc == channels) {
            return out;
        }
        if (oc != 2 * channels) {
            throw new IllegalArgumentException("network output " + out.getShape() + " has neither " + channels + " nor "
                    + 2 * channels + " channels");
        }
        return out.get(":, 0:" + channels);
    }

    @Override
    public JsonObject metadata() {
        JsonObject o = new JsonObject();
        o.addProperty("name", NAME);
        o.addProperty("path_type", transport.pathType().cliName());
        o.addProperty("prediction", transport.modelType().name().toLowerCase(Locale.ROOT));
        o.addProperty("loss_weight", transport.weightType().name().toLowerCase(Locale.ROOT));
        o.addProperty("train_eps", transport.trainEps());
        if (transport.sampleEps() == null) {
            o.add("sample_eps", JsonNull.INSTANCE);
        } else {
            o.addProperty("sample_eps", transport.sampleEps());
        }
        return o;
    }

    /** Reads {@link #metadata()} back (the resolved epsilons as stored, not re-defaulted). */
    public static TransportObjective fromMetadata(JsonObject o) {
        for (String k : new String[] {"path_type", "prediction", "loss_weight", "train_eps"}) {
            if (!o.has(k) || o.get(k).isJsonNull()) {
                throw new IllegalArgumentException("SiT objective without '" + k + "': " + o);
            }
        }
        TransportObjective parsed = create(
                o.get("path_type").getAsString(),
                o.get("prediction").getAsString(),
                o.get("loss_weight").getAsString(),
                null,
                null);
        JsonElement se = o.get("sample_eps");
        Transport t = parsed.transport();
        return new TransportObjective(new Transport(
                t.pathType(),
                t.modelType(),
                t.weightType(),
                o.get("train_eps").getAsDouble(),
                se == null || se.isJsonNull() ? null : se.getAsDouble()));
    }

    @Override
    public void describeInto(JsonObject task) {
        task.add(METADATA_KEY, metadata());
    }

    @Override
    public String summary() {
        return String.format(
                Locale.ROOT,
                "%s (path %s, prediction %s, loss weight %s, train eps %s, sample eps %s)",
                NAME,
                transport.pathType().cliName(),
                transport.modelType().name().toLowerCase(Locale.ROOT),
                transport.weightType().name().toLowerCase(Locale.ROOT),
                transport.trainEps(),
                transport.sampleEps());
    }

    /**
     * Sampling a DiT as SiT's sample.py with {@code sampler} (an {@link OdeSampler} or {@link SdeSampler} of this
     * transport) and guidance {@code cfgScale} (≤ 1: none). The sampler has no per-step callback.
     */
    public Sampler.Method sampling(TransportSampler sampler, double cfgScale, String description) {
        return new Sampler.Method() {
            @Override
            public NDArray sample(NDManager m, DiT model, NDArray z, NDArray y, NoiseSource noise, IntConsumer onStep) {
                return TransportObjective.sample(
                        noise == null ? sampler : sampler.withNoise(noise),
                        m,
                        z,
                        y,
                        model.config().numClasses(),
                        cfgScale,
                        SiTNetwork.of(model),
                        SiTNetwork.withCfg(model, cfgScale));
            }

            @Override
            public String describe() {
                return description;
            }
        };
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
