package ai.tinyfusion.model.inception;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;

/**
 * What {@link FidInceptionV3#extract} returns for a batch of N images (float32 arrays in the
 * manager of the input images):
 * <ul>
 *   <li>{@code pool} (N, 2048): the global average pool after Mixed_7c, pytorch-fid's default
 *       ({@code dims=2048}) and the ADM evaluator's {@code pool_3:0}; for FID and precision/recall.</li>
 *   <li>{@code spatial} (N, 2023): the ADM evaluator's sFID features, {@code mixed_6/conv:0}[..., :7]
 *       flattened per image in NHWC order (17·17·7); {@code mixed_6/conv} is Mixed_6d.branch1x1
 *       after its BN and ReLU (see {@link FidInceptionV3}).</li>
 *   <li>{@code logits} (N, 1008): {@code pool · fc.weightᵀ} without the fc bias, the logits whose
 *       softmax the ADM evaluator's Inception Score uses ({@code softmax/logits/MatMul}'s weight
 *       only; torch-fidelity's {@code logits_unbiased} is the same).</li>
 * </ul>
 */
public record InceptionFeatures(NDArray pool, NDArray spatial, NDArray logits) {
    public static final int POOL_DIM = 2048;
    public static final int SPATIAL_SIZE = 17;
    public static final int SPATIAL_CHANNELS = 7;
    public static final int SPATIAL_DIM = SPATIAL_SIZE * SPATIAL_SIZE * SPATIAL_CHANNELS;
    public static final int NUM_LOGITS = 1008;

    public int count() {
        return (int) pool.getShape().get(0);
    }

    /** The rows of a (N, D) feature array as doubles, e.g. for {@code FeatureStats.update}. */
    public static double[][] rows(NDArray features) {
        if (features.getShape().dimension() != 2) {
            throw new IllegalArgumentException("expected (N, D) features, got " + features.getShape());
        }
        int n = (int) features.getShape().get(0);
        int d = (int) features.getShape().get(1);
        double[] flat;
        try (NDArray wide = features.toType(DataType.FLOAT64, false)) {
            flat = wide.toDoubleArray();
        }
        double[][] out = new double[n][d];
        for (int i = 0; i < n; i++) {
            System.arraycopy(flat, i * d, out[i], 0, d);
        }
        return out;
    }
}
