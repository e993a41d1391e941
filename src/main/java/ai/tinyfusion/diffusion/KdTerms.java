package ai.tinyfusion.diffusion;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.tinyfusion.nn.Scalars;

/**
 * The output-distillation terms of TinyFusion's recovery (train_masked_kd.py), per sample, each (N,), for every
 * objective: the prediction MSE, and for DDPM with a learned variance the variance-head term. The teacher's arrays
 * are detached here; constants go through {@link Scalars}, so all of it may run under a {@code GradientCollector}.
 */
public final class KdTerms {
    private static final double LN2 = Math.log(2.0);

    private KdTerms() {}

    /**
     * Output distillation: mean over all but the batch axis of (p_s − p_t)², p the prediction (ε, velocity, ...).
     *
     * @param student (N, C, H, W) the student's prediction channels
     * @param teacher (N, C, H, W) the teacher's
     */
    public static NDArray outputMse(NDArray student, NDArray teacher) {
        requireSameShape(student, teacher);
        NDArray diff = student.sub(teacher.stopGradient()); // (N, C, H, W)
        return DiffusionUtils.meanFlat(diff.mul(diff)); // (N,)
    }

    /**
     * The variance-head distillation term, in bits per dimension: the original's VB term with the teacher's reverse
     * step as the target instead of the true posterior, i.e. KL(p_teacher(x_{t−1} | x_t) || p_student(x_{t−1} | x_t))
     * where t > 0, and the student's discretised-Gaussian decoder NLL of x_0 where t = 0. Scaled by T/1000 for
     * {@link LossType#RESCALED_MSE}, as the VB term.
     *
     * @param studentFrozen (N, 2C, H, W) the student's output with its mean channels detached
     * @param teacherOutput (N, 2C, H, W) the teacher's output
     * @param xStart (N, C, H, W) x_0
     * @param xT (N, C, H, W) x_t
     * @param t (N,) timesteps of {@code diffusion}
     */
    public static NDArray varianceKd(
            GaussianDiffusion diffusion,
            NDArray studentFrozen,
            NDArray teacherOutput,
            NDArray xStart,
            NDArray xT,
            NDArray t) {
        if (!diffusion.modelVarType().isLearned()) {
            throw new IllegalArgumentException("the variance-head KD term needs a learned variance");
        }
        PMeanVariance s = diffusion.pMeanVarianceFromOutput(studentFrozen, xT, t, false, null);
        PMeanVariance p = diffusion.pMeanVarianceFromOutput(teacherOutput.stopGradient(), xT, t, false, null);
        NDArray kl = DiffusionUtils.normalKl(p.mean(), p.logVariance(), s.mean(), s.logVariance()); // (N, C, H, W)
        NDArray klBits = Scalars.div(DiffusionUtils.meanFlat(kl), LN2); // (N,)
        NDArray ll =
                DiffusionUtils.discretizedGaussianLogLikelihood(xStart, s.mean(), Scalars.mul(s.logVariance(), 0.5));
        NDArray nllBits = Scalars.div(DiffusionUtils.meanFlat(ll.neg()), LN2); // (N,)
        NDArray out = NDArrays.where(t.eq(0), nllBits, klBits); // (N,)
        return diffusion.lossType() == LossType.RESCALED_MSE
                ? Scalars.mul(out, diffusion.numTimesteps() / 1000.0)
                : out;
    }

    /** Fails unless student and teacher arrays have the same shape. */
    public static void requireSameShape(NDArray a, NDArray b) {
        if (!a.getShape().equals(b.getShape())) {
            throw new IllegalArgumentException(
                    "student " + a.getShape() + " and teacher " + b.getShape() + " differ in shape");
        }
    }
}
