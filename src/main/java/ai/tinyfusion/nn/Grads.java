package ai.tinyfusion.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import java.util.List;

/** Gradient housekeeping the DJL collector does not do for us (see djl-notes, sharp edge 3). */
public final class Grads {
    private Grads() {}

    /** Sets every parameter's accumulated gradient to zero (gradients accumulate across backward calls). */
    public static void zero(List<NDArray> params) {
        for (NDArray p : params) {
            if (p.hasGradient()) {
                JniUtils.zeroGrad((PtNDArray) p);
            }
        }
    }

    /**
     * Clips the global gradient norm to {@code maxNorm} as {@code torch.nn.utils.clip_grad_norm_}
     * (scale by maxNorm / (norm + 1e-6) when that is below 1) and returns the norm before clipping.
     */
    public static double clipGlobalNorm(List<NDArray> params, double maxNorm) {
        double norm = globalNorm(params);
        double coef = maxNorm / (norm + 1e-6);
        if (coef < 1) {
            for (NDArray p : params) {
                try (NDArray g = p.getGradient()) {
                    g.muli(coef);
                }
            }
        }
        return norm;
    }

    /** The global L2 norm of all gradients (the arrays returned by getGradient are closed here). */
    public static double globalNorm(List<NDArray> params) {
        double sq = 0;
        for (NDArray p : params) {
            try (NDArray g = p.getGradient();
                    NDArray g2 = g.square();
                    NDArray s = g2.sum()) {
                sq += s.getFloat();
            }
        }
        return Math.sqrt(sq);
    }
}
