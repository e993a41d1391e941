package ai.tinyfusion.diffusion.transport;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.tinyfusion.diffusion.DiffusionUtils;
import ai.tinyfusion.nn.Scalars;

/**
 * SiT's {@code Transport} ({@code transport/transport.py}): a path, what the network predicts and how its loss is
 * weighted, with the small epsilons that keep t away from the ends where a prediction type is singular.
 * Convention: x1 is data, x0 ~ N(0, I) is noise, t = 0 is noise and t = 1 data.
 *
 * @param trainEps   how far training times stay from the singular ends
 * @param sampleEps  how far sampling times stay from them; {@code null} only in the original's corner case (a VP or
 *                   non-velocity transport created with a train eps but no sample eps), where sampling fails
 */
public record Transport(
        PathType pathType, ModelType modelType, WeightType weightType, double trainEps, Double sampleEps) {

    /** A time interval [t0, t1] of training or sampling. */
    public record Interval(double t0, double t1) {}

    /** Per-sample loss (N,) and the network's output, as the original's {@code terms}. */
    public record Losses(NDArray loss, NDArray pred) {}

    /** The random draws of one training step: noise x0 first, then t (the order the original draws them in). */
    public record Draw(NDArray x0, NDArray t) {}

    /**
     * As the original {@code create_transport}: path "Linear" | "GVP" | "VP", prediction "velocity" | "noise" |
     * "score", loss weight null | "velocity" | "likelihood". Epsilons (null = default): VP trains with 1e-5 and
     * samples with 1e-3; Linear/GVP noise or score models use 1e-3 for both; Linear/GVP velocity models use 0 for
     * both whatever is given. As in the original, a given train eps makes the sample eps the given one (even null).
     */
    public static Transport create(
            String path, String prediction, String lossWeight, Double trainEps, Double sampleEps) {
        PathType p = PathType.parse(path);
        ModelType m = ModelType.parse(prediction);
        WeightType w = WeightType.parse(lossWeight);
        if (p == PathType.VP || m != ModelType.VELOCITY) {
            double train = trainEps != null ? trainEps : p == PathType.VP ? 1e-5 : 1e-3;
            Double sample = trainEps != null ? sampleEps : Double.valueOf(1e-3);
            return new Transport(p, m, w, train, sample);
        }
        return new Transport(p, m, w, 0, 0.0);
    }

    /** {@link #create} with default epsilons. */
    public static Transport create(String path, String prediction, String lossWeight) {
        return create(path, prediction, lossWeight, null, null);
    }

    public CouplingPlan plan() {
        return pathType.plan();
    }

    /** The training interval (uniform t is drawn from it). */
    public Interval trainInterval() {
        return interval(trainEps, false, DiffusionForm.SBDM, 0);
    }

    /** The interval of the probability-flow ODE. */
    public Interval odeInterval() {
        return interval(requireSampleEps(), false, DiffusionForm.SBDM, 0);
    }

    /** The interval of the SDE's stochastic steps; a last step of {@code lastStepSize} then ends at t1 + size. */
    public Interval sdeInterval(DiffusionForm form, double lastStepSize) {
        return interval(requireSampleEps(), true, form, lastStepSize);
    }

    private double requireSampleEps() {
        if (sampleEps == null) {
            throw new IllegalStateException("no sample eps: a train eps was given without one (as the original)");
        }
        return sampleEps;
    }

    /** The original's {@code check_interval} (forward time). */
    private Interval interval(double eps, boolean sde, DiffusionForm form, double lastStepSize) {
        double t0 = 0;
        double t1 = 1;
        double end = !sde || lastStepSize == 0 ? 1 - eps : 1 - lastStepSize;
        if (pathType == PathType.VP) {
            t1 = end;
        } else if (modelType != ModelType.VELOCITY || sde) {
            t0 = (form == DiffusionForm.SBDM && sde) || modelType != ModelType.VELOCITY ? eps : 0;
            t1 = end;
        }
        return new Interval(t0, t1);
    }

    /**
     * The training draws from the engine's generator: x0 = randn_like(x1), then t = rand(N)·(t1 − t0) + t0, so
     * after {@code Engine.setRandomSeed(s)} they equal the original's after {@code torch.manual_seed(s)}.
     */
    public Draw draw(NDManager m, Shape x1Shape) {
        NDArray x0 = m.randomNormal(0f, 1f, x1Shape, DataType.FLOAT32);
        Interval iv = trainInterval();
        NDArray u = m.randomUniform(0f, 1f, new Shape(x1Shape.get(0)), DataType.FLOAT32);
        NDArray t = Scalars.mul(u, iv.t1() - iv.t0()).add(iv.t0());
        return new Draw(x0, t);
    }

    /**
     * The training loss for given noise {@code x0} and times {@code t} (N,): the network sees x_t and t; velocity
     * models regress u_t, noise models x0 and score models −x0/σ_t (as σ_t·pred + x0), the latter two weighted.
     */
    public Losses trainingLosses(TransportNet model, NDArray x1, NDArray x0, NDArray t, NDArray y) {
        CouplingPlan plan = plan();
        NDArray xt = plan.xt(t, x0, x1);
        NDArray pred = model.apply(xt, t, y);
        if (!pred.getShape().equals(xt.getShape())) {
            throw new IllegalArgumentException("network output " + pred.getShape() + " != input " + xt.getShape());
        }
        if (modelType == ModelType.VELOCITY) {
            return new Losses(
                    DiffusionUtils.meanFlat(pred.sub(plan.ut(t, x0, x1)).square()), pred);
        }
        NDArray driftVar = plan.drift(xt, t).variance();
        NDArray sigma = plan.sigma(CouplingPlan.expandLike(t, xt)).value();
        NDArray weight =
                switch (weightType) {
                    case VELOCITY -> driftVar.div(sigma).square();
                    case LIKELIHOOD -> driftVar.div(sigma.square());
                    case NONE -> null;
                };
        NDArray err = modelType == ModelType.NOISE
                ? pred.sub(x0).square()
                : pred.mul(sigma).add(x0).square();
        return new Losses(DiffusionUtils.meanFlat(weight == null ? err : weight.mul(err)), pred);
    }

    /** The loss with x0 and t drawn as the original ({@link #draw}). */
    public Losses trainingLosses(TransportNet model, NDArray x1, NDArray y) {
        Draw d = draw(x1.getManager(), x1.getShape());
        return trainingLosses(model, x1, d.x0(), d.t(), y);
    }

    /** The probability-flow ODE drift: the velocity, from whatever the network predicts. */
    public TransportNet drift(TransportNet model) {
        CouplingPlan plan = plan();
        return switch (modelType) {
            case VELOCITY -> model;
            case SCORE -> (x, t, y) -> {
                CouplingPlan.Drift d = plan.drift(x, t);
                return d.mean().neg().add(d.variance().mul(model.apply(x, t, y)));
            };
            case NOISE -> (x, t, y) -> {
                CouplingPlan.Drift d = plan.drift(x, t);
                NDArray sigma = plan.sigma(CouplingPlan.expandLike(t, x)).value();
                NDArray score = model.apply(x, t, y).div(sigma.neg());
                return d.mean().neg().add(d.variance().mul(score));
            };
        };
    }

    /** The score ∇log p_t(x), from whatever the network predicts. */
    public TransportNet score(TransportNet model) {
        CouplingPlan plan = plan();
        return switch (modelType) {
            case SCORE -> model;
            case NOISE -> (x, t, y) -> model.apply(x, t, y)
                    .div(plan.sigma(CouplingPlan.expandLike(t, x)).value().neg());
            case VELOCITY -> (x, t, y) -> plan.scoreFromVelocity(model.apply(x, t, y), x, t);
        };
    }

    /**
     * The ODE drift and the score from ONE network evaluation (what the SDE needs at a point). The original calls
     * the network once for each; for a deterministic network the numbers are the same.
     */
    record DriftAndScore(NDArray drift, NDArray score) {}

    DriftAndScore driftAndScore(TransportNet model, NDArray x, NDArray t, NDArray y) {
        NDArray out = model.apply(x, t, y);
        TransportNet once = (xx, tt, yy) -> out;
        return new DriftAndScore(drift(once).apply(x, t, y), score(once).apply(x, t, y));
    }
}
