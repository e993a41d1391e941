package ai.tinyfusion.diffusion.transport;

import ai.djl.ndarray.NDArray;
import ai.tinyfusion.nn.Scalars;

/**
 * A coupling plan of SiT's {@code transport/path.py}: the path x_t = α_t·x1 + σ_t·x0 between noise x0 (t = 0) and
 * data x1 (t = 1), its velocity u_t = α̇_t·x1 + σ̇_t·x0, and the conversions between velocity, score and noise
 * that the samplers use. Every method evaluates the same float32 operations in the same order as the original,
 * with autograd-safe constants ({@link Scalars}), so it may run inside a training step.
 *
 * <p>Times {@code t} are (N,) or already shaped like x; methods that combine t with a batch reshape it to
 * (N, 1, ..., 1) first, as the original's {@code expand_t_like_x}.
 */
public abstract sealed class CouplingPlan permits CouplingPlan.Linear, CouplingPlan.Gvp, CouplingPlan.Vp {

    /** A coefficient and its time derivative, both broadcastable against the time array they came from. */
    public record Coef(NDArray value, NDArray derivative) {}

    /** The drift of the plan's forward SDE in score parametrisation: {@code mean} = −f(x, t), {@code variance}. */
    public record Drift(NDArray mean, NDArray variance) {}

    /** (α_t, α̇_t). */
    public abstract Coef alpha(NDArray t);

    /** (σ_t, σ̇_t). */
    public abstract Coef sigma(NDArray t);

    /** α̇_t / α_t, in a numerically stable form where the plan has one. */
    public abstract NDArray dAlphaOverAlpha(NDArray t);

    /** The plan's drift (−α̇/α·x) and drift variance (α̇/α·σ² − σ·σ̇); VP overrides it with β_t. */
    public Drift drift(NDArray x, NDArray t) {
        NDArray te = expandLike(t, x);
        NDArray ratio = dAlphaOverAlpha(te);
        Coef s = sigma(te);
        NDArray drift = ratio.mul(x);
        NDArray variance = ratio.mul(s.value().square()).sub(s.value().mul(s.derivative()));
        return new Drift(drift.neg(), variance);
    }

    /** The SDE diffusion coefficient w(t) of {@code form} scaled by {@code norm}, shaped (N, 1, ..., 1). */
    public NDArray diffusion(NDArray x, NDArray t, DiffusionForm form, double norm) {
        NDArray te = expandLike(t, x);
        return switch (form) {
            case CONSTANT -> Scalars.of(te, norm);
            case SBDM -> Scalars.mul(drift(x, te).variance(), norm);
            case SIGMA -> Scalars.mul(sigma(te).value(), norm);
            case LINEAR -> Scalars.mul(Scalars.rsub(1, te), norm);
            case DECREASING -> Scalars.mul(
                    Scalars.mul(Scalars.mul(te, Math.PI).cos(), norm).add(1).square(), 0.25);
            case INCREASING_DECREASING -> Scalars.mul(
                    Scalars.mul(te, Math.PI).sin().square(), norm);
        };
    }

    /** The score ∇log p_t(x) implied by a velocity prediction. */
    public NDArray scoreFromVelocity(NDArray velocity, NDArray x, NDArray t) {
        NDArray te = expandLike(t, x);
        Coef a = alpha(te);
        Coef s = sigma(te);
        NDArray reverseRatio = a.value().div(a.derivative());
        NDArray variance =
                s.value().square().sub(reverseRatio.mul(s.derivative()).mul(s.value()));
        return reverseRatio.mul(velocity).sub(x).div(variance);
    }

    /** The noise x0 implied by a velocity prediction. */
    public NDArray noiseFromVelocity(NDArray velocity, NDArray x, NDArray t) {
        NDArray te = expandLike(t, x);
        Coef a = alpha(te);
        Coef s = sigma(te);
        NDArray reverseRatio = a.value().div(a.derivative());
        NDArray variance = reverseRatio.mul(s.derivative()).sub(s.value());
        return reverseRatio.mul(velocity).sub(x).div(variance);
    }

    /** The velocity implied by a score prediction. */
    public NDArray velocityFromScore(NDArray score, NDArray x, NDArray t) {
        Drift d = drift(x, expandLike(t, x));
        return d.variance().mul(score).sub(d.mean());
    }

    /** x_t = α_t·x1 + σ_t·x0. */
    public NDArray xt(NDArray t, NDArray x0, NDArray x1) {
        NDArray te = expandLike(t, x1);
        return alpha(te).value().mul(x1).add(sigma(te).value().mul(x0));
    }

    /** u_t = α̇_t·x1 + σ̇_t·x0, the velocity of the path (the regression target of a velocity model). */
    public NDArray ut(NDArray t, NDArray x0, NDArray x1) {
        NDArray te = expandLike(t, x1);
        return alpha(te).derivative().mul(x1).add(sigma(te).derivative().mul(x0));
    }

    /** t (N,) reshaped to (N, 1, ..., 1) with x's rank; unchanged when it already has that rank. */
    public static NDArray expandLike(NDArray t, NDArray x) {
        int rank = x.getShape().dimension();
        if (t.getShape().dimension() == rank) {
            return t;
        }
        long[] dims = new long[rank];
        java.util.Arrays.fill(dims, 1);
        dims[0] = t.getShape().get(0);
        return t.reshape(dims);
    }

    /** SiT's ICPlan: α = t, σ = 1 − t. */
    public static final class Linear extends CouplingPlan {
        @Override
        public Coef alpha(NDArray t) {
            return new Coef(t, Scalars.of(t, 1));
        }

        @Override
        public Coef sigma(NDArray t) {
            return new Coef(Scalars.rsub(1, t), Scalars.of(t, -1));
        }

        @Override
        public NDArray dAlphaOverAlpha(NDArray t) {
            return Scalars.of(t, 1).div(t);
        }
    }

    /** SiT's GVPCPlan: α = sin(πt/2), σ = cos(πt/2). */
    public static final class Gvp extends CouplingPlan {
        private static NDArray angle(NDArray t) {
            return Scalars.div(Scalars.mul(t, Math.PI), 2);
        }

        @Override
        public Coef alpha(NDArray t) {
            NDArray a = angle(t);
            return new Coef(a.sin(), Scalars.mul(a.cos(), Math.PI / 2));
        }

        @Override
        public Coef sigma(NDArray t) {
            NDArray a = angle(t);
            return new Coef(a.cos(), Scalars.mul(a.sin(), -Math.PI / 2));
        }

        @Override
        public NDArray dAlphaOverAlpha(NDArray t) {
            return Scalars.of(t, Math.PI).div(Scalars.mul(angle(t).tan(), 2));
        }
    }

    /**
     * SiT's VPCPlan: log α_t = −¼(1−t)²(σmax − σmin) − ½(1−t)σmin, σ_t = sqrt(1 − α_t²), drift with
     * β_t = σmin + (1−t)(σmax − σmin).
     */
    public static final class Vp extends CouplingPlan {
        private final double sigmaMin;
        private final double sigmaMax;

        public Vp(double sigmaMin, double sigmaMax) {
            this.sigmaMin = sigmaMin;
            this.sigmaMax = sigmaMax;
        }

        public double sigmaMin() {
            return sigmaMin;
        }

        public double sigmaMax() {
            return sigmaMax;
        }

        private NDArray logMeanCoeff(NDArray t) {
            NDArray u = Scalars.rsub(1, t);
            NDArray quadratic = Scalars.mul(Scalars.mul(u.square(), -0.25), sigmaMax - sigmaMin);
            return quadratic.sub(Scalars.mul(Scalars.mul(u, 0.5), sigmaMin));
        }

        private NDArray dLogMeanCoeff(NDArray t) {
            return Scalars.mul(Scalars.mul(Scalars.rsub(1, t), 0.5), sigmaMax - sigmaMin)
                    .add(0.5 * sigmaMin);
        }

        @Override
        public Coef alpha(NDArray t) {
            NDArray a = logMeanCoeff(t).exp();
            return new Coef(a, a.mul(dLogMeanCoeff(t)));
        }

        @Override
        public Coef sigma(NDArray t) {
            NDArray e = Scalars.mul(logMeanCoeff(t), 2).exp();
            NDArray s = Scalars.rsub(1, e).sqrt();
            NDArray ds = e.mul(Scalars.mul(dLogMeanCoeff(t), 2)).div(Scalars.mul(s, -2));
            return new Coef(s, ds);
        }

        @Override
        public NDArray dAlphaOverAlpha(NDArray t) {
            return dLogMeanCoeff(t);
        }

        @Override
        public Drift drift(NDArray x, NDArray t) {
            NDArray te = expandLike(t, x);
            NDArray beta = Scalars.mul(Scalars.rsub(1, te), sigmaMax - sigmaMin).add(sigmaMin);
            return new Drift(Scalars.mul(beta, -0.5).mul(x), Scalars.div(beta, 2));
        }
    }
}
