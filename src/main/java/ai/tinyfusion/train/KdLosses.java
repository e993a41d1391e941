package ai.tinyfusion.train;

import ai.djl.ndarray.NDArray;
import ai.tinyfusion.diffusion.DiffusionUtils;
import ai.tinyfusion.diffusion.GaussianDiffusion;
import ai.tinyfusion.diffusion.KdTerms;
import ai.tinyfusion.nn.Scalars;
import java.util.List;

/**
 * The distillation terms of TinyFusion's recovery (Masked KD), per sample, each (N,): the output terms live with
 * the objectives ({@link KdTerms}), the representation term here. The teacher's arrays are always detached here; every constant goes through {@link Scalars}, so all of it may run
 * under a {@code GradientCollector}.
 */
public final class KdLosses {
    private KdLosses() {}

    /** Output distillation: {@link KdTerms#outputMse} (mean over all but the batch axis of (p_s − p_t)²). */
    public static NDArray outputMse(NDArray student, NDArray teacher) {
        return KdTerms.outputMse(student, teacher);
    }

    /** The DDPM variance-head distillation term: {@link KdTerms#varianceKd}. */
    public static NDArray vbKd(
            GaussianDiffusion diffusion,
            NDArray studentFrozen,
            NDArray teacherOutput,
            NDArray xStart,
            NDArray xT,
            NDArray t) {
        return KdTerms.varianceKd(diffusion, studentFrozen, teacherOutput, xStart, xT, t);
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
            KdTerms.requireSameShape(hs, ht);
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
}
