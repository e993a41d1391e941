package ai.tinyfusion.diffusion.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.tinyfusion.diffusion.NoiseSource;
import ai.tinyfusion.nn.Scalars;
import java.util.Locale;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The transport against closed forms: path derivatives, the conversions between velocity, score and noise, and
 * the samplers on Gaussian data, whose Linear-path velocity field and flow are known exactly. For x1 ~ N(μ, s²):
 * x_t has mean tμ and variance v_t = t²s² + (1−t)², v(x, t) = μ + (t s² − (1−t))/v_t · (x − tμ), and the flow
 * carries x0 to tμ + sqrt(v_t)·x0, so x0 ↦ μ + s·x0 at t = 1.
 */
class TransportMathTest {
    private static final double MU = 0.7;
    private static final double S = 0.4;
    private static NDManager m;

    @BeforeAll
    static void open() {
        m = NDManager.newBaseManager();
    }

    @AfterAll
    static void close() {
        m.close();
    }

    /** The exact velocity field of Gaussian data on the Linear path. */
    static final TransportNet GAUSSIAN_VELOCITY = (x, t, y) -> {
        NDArray te = CouplingPlan.expandLike(t, x);
        NDArray u = Scalars.rsub(1, te);
        NDArray vt = Scalars.mul(te.square(), S * S).add(u.square());
        NDArray gain = Scalars.mul(te, S * S).sub(u).div(vt);
        return gain.mul(x.sub(Scalars.mul(te, MU))).add(MU);
    };

    private static NDArray exactEnd(NDArray x0) {
        return Scalars.mul(x0, S).add(MU);
    }

    private static double maxAbs(NDArray a, NDArray b) {
        return a.toType(DataType.FLOAT64, false)
                .sub(b.toType(DataType.FLOAT64, false))
                .abs()
                .max()
                .getDouble();
    }

    @Test
    void pathDerivativesAndRatiosAreConsistent() {
        for (PathType p : PathType.values()) {
            CouplingPlan plan = p.plan();
            double[] ts = {0.1, 0.35, 0.6, 0.9};
            NDArray t = m.create(ts);
            double h = 1e-6;
            NDArray tp = t.add(h);
            NDArray tm = t.sub(h);
            CouplingPlan.Coef a = plan.alpha(t);
            CouplingPlan.Coef s = plan.sigma(t);
            NDArray da = plan.alpha(tp).value().sub(plan.alpha(tm).value()).div(2 * h);
            NDArray ds = plan.sigma(tp).value().sub(plan.sigma(tm).value()).div(2 * h);
            assertTrue(maxAbs(da, a.derivative().broadcast(t.getShape())) < 1e-6, p + " dα");
            assertTrue(maxAbs(ds, s.derivative().broadcast(t.getShape())) < 1e-6, p + " dσ");
            assertTrue(maxAbs(plan.dAlphaOverAlpha(t), a.derivative().div(a.value())) < 1e-9, p + " α̇/α");
            if (p != PathType.LINEAR) { // GVP and VP preserve variance
                assertTrue(maxAbs(a.value().square().add(s.value().square()), t.onesLike()) < 1e-12, p + " α²+σ²");
            }
            // VP's drift variance β/2 is the generic α̇/α·σ² − σ·σ̇
            NDArray x = m.ones(new Shape(4, 1));
            NDArray generic = plan.dAlphaOverAlpha(t)
                    .mul(s.value().square())
                    .sub(s.value().mul(s.derivative()));
            assertTrue(
                    maxAbs(plan.drift(x, t).variance().reshape(4), generic.broadcast(t.getShape())) < 1e-9,
                    p + " drift variance");
        }
    }

    @Test
    void velocityScoreAndNoiseConversionsAgreeWithTheGaussianClosedForm() {
        CouplingPlan plan = PathType.LINEAR.plan();
        NDArray x = m.create(new double[] {-1.3, 0.2, 0.9, 2.1}).reshape(4, 1);
        NDArray t = m.create(new double[] {0.1, 0.4, 0.7, 0.95});
        NDArray te = t.reshape(4, 1);
        NDArray v = GAUSSIAN_VELOCITY.apply(x, t, null);
        NDArray vt = Scalars.mul(te.square(), S * S).add(Scalars.rsub(1, te).square());
        NDArray centred = x.sub(Scalars.mul(te, MU));
        NDArray score = centred.neg().div(vt);
        assertTrue(maxAbs(plan.scoreFromVelocity(v, x, t), score) < 1e-12, "score from velocity");
        assertTrue(maxAbs(plan.velocityFromScore(score, x, t), v) < 1e-12, "velocity from score");
        // E[x0 | x_t] = (1 − t)/v_t · (x − tμ)
        NDArray noise = Scalars.rsub(1, te).mul(centred).div(vt);
        assertTrue(maxAbs(plan.noiseFromVelocity(v, x, t), noise) < 1e-12, "noise from velocity");
        // the ODE drift of a score (and of a noise) model gives back the velocity
        assertTrue(maxAbs(
                        Transport.create("Linear", "score", null)
                                .drift((xx, tt, yy) -> score)
                                .apply(x, t, null),
                        v)
                < 1e-12);
        assertTrue(maxAbs(
                        Transport.create("Linear", "noise", null)
                                .drift((xx, tt, yy) -> noise)
                                .apply(x, t, null),
                        v)
                < 1e-12);
    }

    @Test
    void odeSolversReachTheExactFlowAtTheirOrder() {
        Transport tr = Transport.create("Linear", "velocity", null);
        Engine.getInstance().setRandomSeed(7);
        try (NDManager s = m.newSubManager()) {
            NDArray x0 = s.randomNormal(new Shape(256));
            NDArray exact = exactEnd(x0);
            double euler10 = maxAbs(
                    exact, new OdeSampler(tr, OdeIntegrator.EULER, 11, 0, 0).sample(s, x0, GAUSSIAN_VELOCITY, null));
            double euler20 = maxAbs(
                    exact, new OdeSampler(tr, OdeIntegrator.EULER, 21, 0, 0).sample(s, x0, GAUSSIAN_VELOCITY, null));
            double heun10 = maxAbs(
                    exact, new OdeSampler(tr, OdeIntegrator.HEUN, 11, 0, 0).sample(s, x0, GAUSSIAN_VELOCITY, null));
            double heun20 = maxAbs(
                    exact, new OdeSampler(tr, OdeIntegrator.HEUN, 21, 0, 0).sample(s, x0, GAUSSIAN_VELOCITY, null));
            OdeIntegrator.Result dopri = OdeSampler.cliDefaults(tr).run(s, x0, GAUSSIAN_VELOCITY, null);
            OdeIntegrator.Result tight =
                    new OdeSampler(tr, OdeIntegrator.DOPRI5, 2, 1e-8, 1e-7).run(s, x0, GAUSSIAN_VELOCITY, null);
            double dopriErr = maxAbs(exact, dopri.x());
            double tightErr = maxAbs(exact, tight.x());
            System.out.printf(
                    Locale.ROOT,
                    "Gaussian flow: Euler 10/20 steps %.2e/%.2e (ratio %.2f), Heun %.2e/%.2e"
                            + " (ratio %.2f), dopri5 rtol 1e-3: %.2e with NFE %d (%d accepted, %d rejected), rtol 1e-7: %.2e"
                            + " with NFE %d%n",
                    euler10,
                    euler20,
                    euler10 / euler20,
                    heun10,
                    heun20,
                    heun10 / heun20,
                    dopriErr,
                    dopri.nfe(),
                    dopri.accepted(),
                    dopri.rejected(),
                    tightErr,
                    tight.nfe());
            assertEquals(2.0, euler10 / euler20, 0.3, "Euler is first order");
            assertEquals(4.0, heun10 / heun20, 0.8, "Heun is second order");
            // the global error of a few steps each held to atol + rtol·|x|
            double scale = exact.abs().max().getFloat();
            assertTrue(dopriErr < 10 * (1e-6 + 1e-3 * scale), "dopri5 within its tolerance: " + dopriErr);
            assertTrue(tightErr < dopriErr && tightErr < 1e-5, "tighter tolerance, smaller error: " + tightErr);
            assertTrue(tight.nfe() > dopri.nfe());
            assertEquals(2 + 6 * (dopri.accepted() + dopri.rejected()), dopri.nfe(), "FSAL: 6 evaluations a step");
        }
    }

    @Test
    void everySdeSettingSamplesTheGaussian() {
        Transport tr = Transport.create("Linear", "velocity", null);
        for (DiffusionForm form :
                new DiffusionForm[] {DiffusionForm.CONSTANT, DiffusionForm.SIGMA, DiffusionForm.DECREASING}) {
            for (SdeSampler.Method method : SdeSampler.Method.values()) {
                // the stochastic steps keep the marginal N(tμ, v_t) up to t1 = 0.96; a last probability-flow step
                // carries it on to t = 1 (a last Mean step would shrink it: it applies the SDE drift without noise)
                SdeSampler sampler =
                        new SdeSampler(tr, method, form, 1.0, LastStep.EULER, 0.04, 101, NoiseSource.standardNormal());
                Engine.getInstance().setRandomSeed(11);
                try (NDManager s = m.newSubManager()) {
                    NDArray x = sampler.sample(s, s.randomNormal(new Shape(20000)), GAUSSIAN_VELOCITY, null)
                            .toType(DataType.FLOAT64, false);
                    double mean = x.mean().getDouble();
                    double std = Math.sqrt(x.sub(mean).square().mean().getDouble());
                    assertEquals(MU, mean, 0.02, form + " " + method + " mean");
                    assertEquals(S, std, 0.04, form + " " + method + " std");
                }
            }
        }
    }
}
