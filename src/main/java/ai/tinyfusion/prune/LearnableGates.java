package ai.tinyfusion.prune;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.tinyfusion.model.dit.LayerGate;
import ai.tinyfusion.nn.Module;
import ai.tinyfusion.nn.Parameter;
import ai.tinyfusion.nn.Scalars;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The learnable layer masks of TinyFusion: one logit vector g (1 × C(M,N)) per pattern block,
 * initialised to the constant 0.02 (so every candidate starts equally likely), registered as
 * {@code gumbel_gates.<block>} like the original.
 *
 * <p>Each forward pass, every sample draws its own candidate per block with the hard
 * straight-through Gumbel-softmax of {@code torch.nn.functional.gumbel_softmax(g·s, tau=τ,
 * hard=True)}: y_soft = softmax((s·g + G)/τ) with Gumbel noise G from the engine RNG (seeded per
 * step by the training loop), y_hard = one-hot(argmax y_soft), and the returned sample
 * {@code y_hard + (y_soft − stopgrad(y_soft))}, which is exactly one-hot in the forward pass and
 * has the gradient of y_soft. (The original writes {@code y_hard − stopgrad(y_soft) + y_soft}: same
 * gradient, but its forward value can be off by an ulp, e.g. 1 − 0.3 + 0.3.) The block's layer mask
 * is {@code one-hot @ candidates} (N × M), and layer j of the block runs as
 * {@code x ← m_j·block(x) + (1 − m_j)·x} (see {@link ai.tinyfusion.model.dit.DiT.Options#gate}).
 *
 * <p>Use: {@link #resample} before each gated forward pass, then pass this object as the DiT's
 * {@link LayerGate}. τ (temperature) and s (scaling) are set per step by the search task.
 */
public final class LearnableGates extends Module implements LayerGate {
    /** The original's initial logit value. */
    public static final float INIT = 0.02f;
    /** State-dict prefix of the logits. */
    public static final String PREFIX = "gumbel_gates.";

    private final Pattern pattern;
    private final List<Parameter> logits = new ArrayList<>();
    private final List<NDArray> candidates = new ArrayList<>(); // (C, M) float32 per block
    private final int[] blockOfLayer;
    private final int[] localOfLayer;
    private double tau = 1.0;
    private double scaling = 1.0;
    private Draw current;

    public LearnableGates(NDManager manager, Pattern pattern) {
        super(manager);
        this.pattern = pattern;
        blockOfLayer = new int[pattern.depth()];
        localOfLayer = new int[pattern.depth()];
        for (Pattern.Block b : pattern.blocks()) {
            int c = b.candidateCount();
            logits.add(param(PREFIX + b.index(), manager.full(new Shape(1, c), INIT, DataType.FLOAT32), true));
            float[][] rows = b.candidateMasks();
            float[] flat = new float[c * b.m()];
            for (int i = 0; i < c; i++) {
                System.arraycopy(rows[i], 0, flat, i * b.m(), b.m());
            }
            try (NDArray javaOwned = manager.create(flat, new Shape(c, b.m()))) {
                candidates.add(buffer(javaOwned.duplicate()));
            }
            for (int j = 0; j < b.m(); j++) {
                blockOfLayer[b.offset() + j] = b.index();
                localOfLayer[b.offset() + j] = j;
            }
        }
    }

    public Pattern pattern() {
        return pattern;
    }

    /** The state-dict key of block {@code b}'s logits. */
    public static String key(int block) {
        return PREFIX + block;
    }

    /** The live logit arrays by key (trainable). */
    public LinkedHashMap<String, NDArray> logitArrays() {
        LinkedHashMap<String, NDArray> out = new LinkedHashMap<>();
        for (int b = 0; b < logits.size(); b++) {
            out.put(key(b), logits.get(b).value());
        }
        return out;
    }

    /** The current logits, one vector per block, copied to the host. */
    public List<float[]> hostLogits() {
        return hostLogits(logitArrays());
    }

    /** Logit vectors read from a map keyed like {@link #logitArrays()} (e.g. the EMA values). */
    public List<float[]> hostLogits(Map<String, NDArray> values) {
        List<float[]> out = new ArrayList<>();
        for (int b = 0; b < logits.size(); b++) {
            NDArray v = values.get(key(b));
            if (v == null) {
                throw new IllegalArgumentException("no gate logits '" + key(b) + "'");
            }
            out.add(v.toFloatArray());
        }
        return out;
    }

    /** Overwrites block {@code b}'s logits (tests, or restoring a decision). */
    public void setLogits(int block, float[] values) {
        Parameter p = logits.get(block);
        try (NDManager tmp = manager.newSubManager();
                NDArray javaOwned = tmp.create(values, p.value().getShape())) {
            p.set(javaOwned);
        }
    }

    public double tau() {
        return tau;
    }

    public double scaling() {
        return scaling;
    }

    /** Sets the Gumbel-softmax temperature τ (> 0) and the logit scaling s (> 0) for the next draws. */
    public void setSchedule(double tau, double scaling) {
        if (!(tau > 0) || !(scaling > 0)) {
            throw new IllegalArgumentException("temperature and scaling must be positive, got " + tau + ", " + scaling);
        }
        this.tau = tau;
        this.scaling = scaling;
    }

    /** {@code from + (to − from)·step/max(total − 1, 1)}: the original's per-step linear schedule. */
    public static double linear(double from, double to, long step, long total) {
        return from + (to - from) * step / (double) Math.max(total - 1, 1);
    }

    /**
     * One sample of every block's mask per batch element, drawn in {@code scope}.
     *
     * @param onehot per block, the straight-through one-hot samples (N × C)
     * @param masks per block, the layer masks (N × M) = onehot @ candidates
     */
    public record Draw(List<NDArray> onehot, List<NDArray> masks) {}

    /** Draws fresh Gumbel noise from the engine RNG (blocks in order) and samples every block. */
    public Draw resample(NDManager scope, int n) {
        List<NDArray> gumbel = new ArrayList<>();
        for (Pattern.Block b : pattern.blocks()) {
            gumbel.add(gumbelNoise(scope, n, b.candidateCount()));
        }
        return resample(gumbel);
    }

    /** Samples every block with the given Gumbel noise (N × C per block). */
    public Draw resample(List<NDArray> gumbel) {
        if (gumbel.size() != logits.size()) {
            throw new IllegalArgumentException(
                    "expected Gumbel noise for " + logits.size() + " blocks, got " + gumbel.size());
        }
        List<NDArray> hard = new ArrayList<>();
        List<NDArray> masks = new ArrayList<>();
        for (int b = 0; b < logits.size(); b++) {
            NDArray y = straightThrough(logits.get(b).value(), gumbel.get(b), scaling, tau);
            hard.add(y);
            masks.add(y.matMul(candidates.get(b)));
        }
        current = new Draw(hard, masks);
        return current;
    }

    /** The draw used by {@link #mask} (null before the first {@link #resample}). */
    public Draw current() {
        return current;
    }

    /** Forgets the current draw: {@link #mask} then fails until the next {@link #resample}. */
    public void clear() {
        current = null;
    }

    @Override
    public NDArray mask(int layer) {
        if (current == null) {
            throw new IllegalStateException(
                    "LearnableGates.resample(...) must be called before each gated forward pass");
        }
        return current.masks().get(blockOfLayer[layer]).get(new NDIndex(":, {}", localOfLayer[layer]));
    }

    /** Standard Gumbel noise −log(−log U), U uniform in (0, 1), from the engine RNG. */
    public static NDArray gumbelNoise(NDManager scope, int n, int c) {
        // Keep U away from 0 and 1 so the noise stays finite (about −4.0 ... 16.6 in float32).
        try (NDArray u = scope.randomUniform(0f, 1f, new Shape(n, c));
                NDArray uc = u.clip(1e-30f, 1f - 1e-7f);
                NDArray e = uc.log().neg()) {
            return e.log().neg();
        }
    }

    /**
     * Hard straight-through Gumbel-softmax of logits g (1 × C) with noise G (N × C):
     * forward one-hot(argmax softmax((s·g + G)/τ)), gradient of softmax((s·g + G)/τ).
     */
    public static NDArray straightThrough(NDArray g, NDArray gumbel, double scaling, double tau) {
        NDArray z = Scalars.div(Scalars.mul(g, scaling).add(gumbel), tau);
        NDArray soft = z.softmax(1);
        int c = (int) soft.getShape().get(1);
        NDArray hard = soft.argMax(1).oneHot(c, DataType.FLOAT32);
        return hard.add(soft.sub(soft.stopGradient()));
    }

    /** Number of logits (the gates' share of the trainable values). */
    public long logitCount() {
        return logits.stream().mapToLong(Parameter::numel).sum();
    }
}
