package ai.tinyfusion.diffusion.transport;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.tinyfusion.diffusion.NoiseSource;
import ai.tinyfusion.nn.Scalars;
import java.util.Locale;
import java.util.Objects;

/**
 * SiT's {@code Sampler.sample_sde} with {@code integrators.sde}: the SDE dx = [drift + w(t)·score] dt + sqrt(2w) dW
 * on {@code linspace(t0, t1, numSteps)} of the transport's SDE interval, numSteps − 1 stochastic steps (Euler–Maruyama,
 * or Heun: noise first, then the trapezoid of the drift), then one deterministic {@link LastStep} of
 * {@code lastStepSize} from t1. One standard normal draw of x's full shape per stochastic step, from
 * {@code noise}; with the default source after {@code Engine.setRandomSeed(s)} the draws are the original's after
 * {@code torch.manual_seed(s)}.
 *
 * <p>The original evaluates the network twice for every SDE drift (once for the drift, once for the score); this
 * evaluates it once and derives both, so {@link Result#nfe()} is half the original's count.
 */
public record SdeSampler(
        Transport transport,
        Method method,
        DiffusionForm form,
        double diffusionNorm,
        LastStep lastStep,
        double lastStepSize,
        int numSteps,
        NoiseSource noise)
        implements TransportSampler {

    /** The stochastic step ({@code --sampling-method} of SiT's SDE mode). */
    public enum Method {
        EULER,
        HEUN;

        public static Method parse(String name) {
            return switch (name.toLowerCase(Locale.ROOT)) {
                case "euler" -> EULER;
                case "heun" -> HEUN;
                default -> throw new IllegalArgumentException("unknown SDE method '" + name + "' (Euler, Heun)");
            };
        }
    }

    /** The final state and the network evaluations it took. */
    public record Result(NDArray x, int nfe) {}

    public SdeSampler {
        Objects.requireNonNull(noise, "noise source");
        if (numSteps < 2) {
            throw new IllegalArgumentException("an SDE grid needs at least 2 points, got " + numSteps);
        }
    }

    /** SiT's sample.py SDE defaults. */
    public static final String DEFAULT_METHOD = "Euler";

    public static final String DEFAULT_FORM = "sigma";
    public static final double DEFAULT_NORM = 1.0;
    public static final String DEFAULT_LAST_STEP = "Mean";
    public static final double DEFAULT_LAST_STEP_SIZE = 0.04;
    public static final int DEFAULT_STEPS = 250;

    /** SiT's sampling CLI: Euler, sigma form, norm 1, last step Mean of 0.04, 250 steps. */
    public static SdeSampler cliDefaults(Transport transport) {
        return new SdeSampler(
                transport,
                Method.parse(DEFAULT_METHOD),
                DiffusionForm.parse(DEFAULT_FORM),
                DEFAULT_NORM,
                LastStep.parse(DEFAULT_LAST_STEP),
                DEFAULT_LAST_STEP_SIZE,
                DEFAULT_STEPS,
                NoiseSource.standardNormal());
    }

    @Override
    public SdeSampler withNoise(NoiseSource other) {
        return new SdeSampler(transport, method, form, diffusionNorm, lastStep, lastStepSize, numSteps, other);
    }

    /** The step size of the last step: 0 when there is none (as the original). */
    public double effectiveLastStepSize() {
        return lastStep == LastStep.NONE ? 0.0 : lastStepSize;
    }

    public float[] grid() {
        Transport.Interval iv = transport.sdeInterval(form, effectiveLastStepSize());
        return TimeGrid.linspace(iv.t0(), iv.t1(), numSteps);
    }

    @Override
    public NDArray sample(NDManager m, NDArray init, TransportNet net, NDArray y) {
        return run(m, init, net, y).x();
    }

    public Result run(NDManager m, NDArray init, TransportNet net, NDArray y) {
        int[] nfe = {0};
        TransportNet counted = (x, t, yy) -> {
            nfe[0]++;
            return net.apply(x, t, yy);
        };
        float[] grid = grid();
        float dt = grid[1] - grid[0];
        NDArray x = init.duplicate();
        x.attach(m);
        for (int i = 0; i + 1 < grid.length; i++) {
            try (NDManager s = m.newSubManager()) {
                x.attach(s);
                if (y != null) {
                    y.tempAttach(s);
                }
                x = step(counted, x, grid[i], dt, y);
                x.attach(m);
            }
        }
        try (NDManager s = m.newSubManager()) {
            x.attach(s);
            if (y != null) {
                y.tempAttach(s);
            }
            x = last(
                    counted,
                    x,
                    (float) transport.sdeInterval(form, effectiveLastStepSize()).t1(),
                    y);
            x.attach(m);
        }
        return new Result(x, nfe[0]);
    }

    private NDArray times(NDArray x, float t) {
        return x.getManager().full(new Shape(x.getShape().get(0)), t);
    }

    /** drift + w·score at (x, t). */
    private NDArray sdeDrift(TransportNet net, NDArray x, NDArray t, NDArray y) {
        Transport.DriftAndScore ds = transport.driftAndScore(net, x, t, y);
        return ds.drift()
                .add(transport.plan().diffusion(x, t, form, diffusionNorm).mul(ds.score()));
    }

    private NDArray step(TransportNet net, NDArray x, float ti, float dt, NDArray y) {
        NDManager s = x.getManager();
        NDArray w = noise.next(s, x.getShape(), DataType.FLOAT32);
        NDArray dw = w.mul(Scalars.of(w, (float) Math.sqrt(dt)));
        NDArray dtA = Scalars.of(x, dt);
        NDArray t = times(x, ti);
        NDArray diffusion = transport.plan().diffusion(x, t, form, diffusionNorm);
        NDArray kick = Scalars.mul(diffusion, 2).sqrt().mul(dw);
        if (method == Method.EULER) {
            NDArray mean = x.add(sdeDrift(net, x, t, y).mul(dtA));
            return mean.add(kick);
        }
        NDArray xhat = x.add(kick);
        NDArray k1 = sdeDrift(net, xhat, t, y);
        NDArray xp = xhat.add(k1.mul(dtA));
        NDArray k2 = sdeDrift(net, xp, t.add(dtA), y);
        return xhat.add(k1.add(k2).mul(Scalars.of(x, 0.5f * dt)));
    }

    private NDArray last(TransportNet net, NDArray x, float t1, NDArray y) {
        NDArray t = times(x, t1);
        NDArray size = Scalars.of(x, effectiveLastStepSize());
        return switch (lastStep) {
            case NONE -> x;
            case MEAN -> x.add(sdeDrift(net, x, t, y).mul(size));
            case EULER -> x.add(transport.drift(net).apply(x, t, y).mul(size));
            case TWEEDIE -> {
                CouplingPlan plan = transport.plan();
                NDArray alpha = plan.alpha(t).value().get(0);
                NDArray sigma = plan.sigma(t).value().get(0);
                NDArray score = transport.score(net).apply(x, t, y);
                yield x.div(alpha).add(sigma.square().div(alpha).mul(score));
            }
        };
    }
}
