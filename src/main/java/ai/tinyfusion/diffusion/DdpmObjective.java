package ai.tinyfusion.diffusion;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.tinyfusion.model.dit.DiT;
import com.google.gson.JsonObject;
import java.util.LinkedHashMap;
import java.util.Locale;

/**
 * DiT's objective (train.py with {@code create_diffusion}): Gaussian diffusion over integer timesteps drawn
 * uniformly ({@code timestep_sampler.py}'s UniformSampler), ε prediction with a learned-range variance, loss
 * MSE + VB; distillation as train_masked_kd.py (ε MSE plus the variance-head term); DDPM / DDIM sampling with
 * classifier-free guidance as sample.py ({@link #sampling}).
 */
public final class DdpmObjective implements Objective {
    public static final String NAME = "ddpm";

    private final GaussianDiffusion diffusion;

    public DdpmObjective(GaussianDiffusion diffusion) {
        this.diffusion = diffusion;
    }

    /** DiT's training process: the {@link DiffusionFactory} defaults over all 1000 steps. */
    public static DdpmObjective standard() {
        return new DdpmObjective(DiffusionFactory.create(""));
    }

    public GaussianDiffusion diffusion() {
        return diffusion;
    }

    @Override
    public String name() {
        return NAME;
    }

    /** The draws of one DDPM step, in this order from the engine RNG: timesteps, noise, label drops. */
    public record Draws(NDArray t, NDArray noise, NDArray dropIds) implements Draw {}

    @Override
    public Draws draw(NDManager m, Shape xShape, double dropProb) {
        long n = xShape.get(0);
        NDArray t = m.randomInteger(0, diffusion.numTimesteps(), new Shape(n), DataType.INT64);
        NDArray noise = m.randomNormal(xShape);
        NDArray drop = m.randomUniform(0f, 1f, new Shape(n)).lt(dropProb).toType(DataType.INT64, false);
        return new Draws(t, noise, drop);
    }

    /** Timestep ⌊u·T⌋ per sample (clamped to T − 1), the given ε, no label drops. */
    @Override
    public Draws fixedDraw(NDManager m, double[] u, NDArray noise) {
        int steps = diffusion.numTimesteps();
        long[] t = new long[u.length];
        for (int i = 0; i < u.length; i++) {
            t[i] = Math.min(steps - 1, (long) Math.floor(u[i] * steps));
        }
        return new Draws(
                HostArrays.ownedLongs(m, t, new Shape(u.length), DataType.INT64),
                noise,
                m.zeros(new Shape(u.length), DataType.INT64));
    }

    /** q(x_t | x_0, t, ε). */
    @Override
    public NDArray networkInput(NDArray x, Draw d) {
        return diffusion.qSample(x, d.t(), d.noise());
    }

    /** {@code loss} (MSE + VB, or the KL loss), then {@code mse} and {@code vb} where the loss type has them. */
    @Override
    public LinkedHashMap<String, NDArray> losses(Network net, NDArray x, NDArray y, Draw d) {
        TrainingLosses l = diffusion.trainingLosses(net::apply, x, d.t(), y, d.noise());
        LinkedHashMap<String, NDArray> out = new LinkedHashMap<>();
        out.put("loss", l.loss());
        if (l.mse() != null) {
            out.put("mse", l.mse());
        }
        if (l.vb() != null) {
            out.put("vb", l.vb());
        }
        return out;
    }

    @Override
    public void checkDistillable() {
        if (diffusion.lossType().isVb()) {
            throw new IllegalArgumentException("distillation needs an MSE diffusion loss, got " + diffusion.lossType());
        }
    }

    /**
     * {@code kd} = ε MSE, plus with a variance head ({@code 2C} output channels) the variance-head term, the student's
     * ε detached in it ({@code kd = kd_mse + kd_vb}).
     */
    @Override
    public LinkedHashMap<String, NDArray> kdLosses(
            NDArray studentOut, NDArray teacherOut, NDArray x, NDArray xt, Draw d) {
        long c = xt.getShape().get(1);
        LinkedHashMap<String, NDArray> terms = new LinkedHashMap<>();
        if (studentOut.getShape().get(1) == 2 * c) {
            NDList s = studentOut.split(new long[] {c}, 1); // ε_s (N,C,H,W), v_s (N,C,H,W)
            NDList t = teacherOut.split(new long[] {c}, 1);
            NDArray kdMse = KdTerms.outputMse(s.get(0), t.get(0)); // (N,)
            NDArray frozen = s.get(0).stopGradient().concat(s.get(1), 1); // (N, 2C, H, W)
            NDArray kdVb = KdTerms.varianceKd(diffusion, frozen, teacherOut, x, xt, d.t()); // (N,)
            terms.put("kd", kdMse.add(kdVb));
            terms.put("kd_mse", kdMse);
            terms.put("kd_vb", kdVb);
        } else {
            terms.put("kd", KdTerms.outputMse(studentOut, teacherOut));
        }
        return terms;
    }

    @Override
    public JsonObject metadata() {
        JsonObject o = new JsonObject();
        o.addProperty("name", NAME);
        o.addProperty("num_timesteps", diffusion.numTimesteps());
        return o;
    }

    /** {@code "num_timesteps": T}: the form of every description written before objectives existed. */
    @Override
    public void describeInto(JsonObject task) {
        task.addProperty("num_timesteps", diffusion.numTimesteps());
    }

    @Override
    public String summary() {
        return String.format(Locale.ROOT, "%s (%d steps)", NAME, diffusion.numTimesteps());
    }

    /** DDPM / DDIM sampling with {@code settings} (the 1000-step process respaced), as sample.py. */
    public static Sampler.Method sampling(Sampler.Settings settings) {
        SpacedDiffusion spaced = DiffusionFactory.create(settings.respacing());
        return new Sampler.Method() {
            @Override
            public NDArray sample(
                    NDManager m,
                    DiT model,
                    NDArray z,
                    NDArray y,
                    NoiseSource noise,
                    java.util.function.IntConsumer onStep) {
                int n = (int) z.getShape().get(0);
                boolean cfg = settings.cfgScale() > 1;
                DenoiserFn fn;
                NDArray zz = z;
                NDArray yy = y;
                if (cfg) {
                    zz = z.concat(z, 0);
                    yy = y.concat(m.full(new Shape(n), model.config().numClasses(), DataType.INT64), 0);
                    fn = (x, t, l) -> model.forwardWithCfg(x, t, l, settings.cfgScale(), settings.guidedChannels());
                } else {
                    fn = model::forward;
                }
                int[] done = {0};
                SamplingOptions opts = SamplingOptions.defaults()
                        .initialNoise(zz)
                        .clipDenoised(settings.clipDenoised())
                        .eta(settings.eta());
                if (noise != null) {
                    opts = opts.noiseSource(noise);
                }
                if (onStep != null) {
                    opts = opts.listener((i, x, x0) -> onStep.accept(++done[0]));
                }
                NDArray out = settings.method().equals("ddim")
                        ? spaced.ddimSampleLoop(fn, m, zz.getShape(), yy, opts)
                        : spaced.pSampleLoop(fn, m, zz.getShape(), yy, opts);
                return cfg ? out.get("0:" + n) : out;
            }

            @Override
            public String describe() {
                return String.format(
                        Locale.ROOT, "%s %d steps, cfg %.2f", settings.method(), settings.steps(), settings.cfgScale());
            }

            @Override
            public SpacedDiffusion diffusion() {
                return spaced;
            }
        };
    }
}
