package ai.tinyfusion.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.tinyfusion.diffusion.DiffusionUtils;
import ai.tinyfusion.diffusion.GaussianDiffusion;
import ai.tinyfusion.diffusion.LossType;
import ai.tinyfusion.diffusion.PMeanVariance;
import ai.tinyfusion.nn.Scalars;
import java.util.List;

/**
 * The distillation terms of TinyFusion's recovery (Masked KD), per sample, each (N,). The teacher's
 * arrays are always detached here; every constant goes through {@link Scalars}, so all of it may run
 * under a {@code GradientCollector}.
 */
public final class KdLosses {
    private static final double LN2 = Math.log(2.0);

    private KdLosses() {}

    /**
     * Output distillation: mean over all but the batch axis of (ε_s − ε_t)².
     *
     * @param student (N, C, H, W) the student's mean (epsilon) channels
     * @param teacher (N, C, H, W) the teacher's
     */
    public static NDArray outputMse(NDArray student, NDArray teacher) {
        requireSameShape(student, teacher);
        NDArray diff = student.sub(teacher.stopGradient()); // (N, C, H, W)
        return DiffusionUtils.meanFlat(diff.mul(diff)); // (N,)
    }

    /**
     * The variance-head distillation term, in bits per dimension: the original's VB term with the
     * teacher's reverse step as the target instead of the true posterior, i.e.
     * KL(p_teacher(x_{t−1} | x_t) || p_student(x_{t−1} | x_t)) where t > 0, and the student's
     * discretised-Gaussian decoder NLL of x_0 where t = 0. Scaled by T/1000 for
     * {@link LossType#RESCALED_MSE}, as the VB term.
     *
     * @param studentFrozen (N, 2C, H, W) the student's output with its mean channels detached, so that
     *     only the variance channels learn from this term
     * @param teacherOutput (N, 2C, H, W) the teacher's output
     * @param xStart (N, C, H, W) x_0
     * @param xT (N, C, H, W) x_t
     * @param t (N,) timesteps of {@code diffusion}
     */
    public static NDArray vbKd(
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

    /**
     * The representation loss: over matched layer pairs i, the mean of mean_flat((M_s⊙h_s − M_t⊙h_t)²),
     * with the masks of {@link HiddenMask} computed separately for student and teacher; without masks
     * (maskK null) mean_flat((h_s − h_t)²).
     *
     * @param student block outputs of the student, each (N, T, D)
     * @param teacher the matched teacher block outputs, each (N, T, D)
     * @param maskK the mask width k in standard deviations, or null for no mask
     */
    public static NDArray representation(List<NDArray> student, List<NDArray> teacher, Double maskK) {
        if (student.size() != teacher.size() || student.isEmpty()) {
            throw new IllegalArgumentException("representation loss: " + student.size() + " student and "
                    + teacher.size() + " teacher hidden states");
        }
        NDArray sum = null;
        for (int i = 0; i < student.size(); i++) {
            NDArray hs = student.get(i); // (N, T, D)
            NDArray ht = teacher.get(i).stopGradient(); // (N, T, D)
            requireSameShape(hs, ht);
            NDArray diff = maskK == null
                    ? hs.sub(ht)
                    : HiddenMask.of(hs, maskK)
                            .mul(hs)
                            .sub(HiddenMask.of(ht, maskK).mul(ht)); // (N, T, D)
            NDArray term = DiffusionUtils.meanFlat(diff.mul(diff)); // (N,)
            sum = sum == null ? term : sum.add(term);
        }
        return Scalars.div(sum, student.size());
    }

    private static void requireSameShape(NDArray a, NDArray b) {
        if (!a.getShape().equals(b.getShape())) {
            throw new IllegalArgumentException(
                    "student " + a.getShape() + " and teacher " + b.getShape() + " differ in shape");
        }
    }
}
