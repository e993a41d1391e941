package ai.tinyfusion.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * AdamW exactly as {@code torch.optim.AdamW} (decoupled decay applied first, bias-corrected
 * moments, epsilon added after the bias-corrected square root), with a weight decay per parameter.
 * Written by hand because DJL's AdamW places epsilon differently (djl-notes). Runs outside
 * autograd; state lives in the optimizer's own manager and is saved by name for exact resume.
 */
public final class AdamW {
    private final NDManager manager;
    private final LinkedHashMap<String, NDArray> params;
    private final Map<String, Double> weightDecay;
    private final double beta1;
    private final double beta2;
    private final double eps;
    private final LinkedHashMap<String, NDArray> expAvg = new LinkedHashMap<>();
    private final LinkedHashMap<String, NDArray> expAvgSq = new LinkedHashMap<>();
    private long step;

    /**
     * @param params trainable parameters by name (their arrays are updated in place)
     * @param weightDecay decay per parameter name (missing names get 0)
     */
    public AdamW(
            NDManager parent,
            Map<String, NDArray> params,
            Map<String, Double> weightDecay,
            double beta1,
            double beta2,
            double eps) {
        this.manager = parent.newSubManager();
        this.params = new LinkedHashMap<>(params);
        this.weightDecay = weightDecay;
        this.beta1 = beta1;
        this.beta2 = beta2;
        this.eps = eps;
        params.forEach((k, p) -> {
            expAvg.put(k, manager.zeros(p.getShape(), p.getDataType()));
            expAvgSq.put(k, manager.zeros(p.getShape(), p.getDataType()));
        });
    }

    /** PyTorch defaults: betas (0.9, 0.999), eps 1e-8. */
    public static AdamW standard(NDManager parent, Map<String, NDArray> params, Map<String, Double> weightDecay) {
        return new AdamW(parent, params, weightDecay, 0.9, 0.999, 1e-8);
    }

    public long stepCount() {
        return step;
    }

    /** One update with learning rate {@code lr} (or {@code lr·scale} per parameter via {@code lrScale}). */
    public void step(double lr) {
        step(lr, Map.of());
    }

    /** One update; {@code lrScale} multiplies the learning rate of the named parameters (e.g. gates ×10). */
    public void step(double lr, Map<String, Double> lrScale) {
        step++;
        double bc1 = 1 - Math.pow(beta1, step);
        double bc2Sqrt = Math.sqrt(1 - Math.pow(beta2, step));
        try (NDManager scope = manager.newSubManager()) {
            List<NDArray> all = new ArrayList<>(params.values());
            all.addAll(expAvg.values());
            all.addAll(expAvgSq.values());
            scope.tempAttachAll(all.toArray(new NDArray[0]));
            for (Map.Entry<String, NDArray> e : params.entrySet()) {
                String name = e.getKey();
                NDArray p = e.getValue();
                double plr = lr * lrScale.getOrDefault(name, 1.0);
                NDArray g = p.getGradient();
                double wd = weightDecay.getOrDefault(name, 0.0);
                if (wd != 0) {
                    p.muli(1 - plr * wd);
                }
                NDArray m = expAvg.get(name);
                NDArray v = expAvgSq.get(name);
                m.muli(beta1).addi(g.mul(1 - beta1));
                v.muli(beta2).addi(g.square().muli(1 - beta2));
                NDArray denom = v.sqrt().divi(bc2Sqrt).addi(eps);
                p.subi(m.div(denom).muli(plr / bc1));
                g.close();
            }
        }
    }

    /** State for a checkpoint: "exp_avg.<name>", "exp_avg_sq.<name>" (the step is saved separately). */
    public LinkedHashMap<String, NDArray> state() {
        LinkedHashMap<String, NDArray> out = new LinkedHashMap<>();
        expAvg.forEach((k, v) -> out.put("exp_avg." + k, v));
        expAvgSq.forEach((k, v) -> out.put("exp_avg_sq." + k, v));
        return out;
    }

    /** Restores {@link #state()} and the step count; every moment must be present with the right shape. */
    public void load(Map<String, NDArray> state, long stepCount) {
        for (String k : params.keySet()) {
            copyInto(expAvg.get(k), state.get("exp_avg." + k), "exp_avg." + k);
            copyInto(expAvgSq.get(k), state.get("exp_avg_sq." + k), "exp_avg_sq." + k);
        }
        this.step = stepCount;
    }

    private static void copyInto(NDArray dst, NDArray src, String name) {
        if (src == null) {
            throw new IllegalArgumentException("optimizer state is missing " + name);
        }
        if (!src.getShape().equals(dst.getShape())) {
            throw new IllegalArgumentException(
                    "optimizer state " + name + " has shape " + src.getShape() + ", expected " + dst.getShape());
        }
        ai.tinyfusion.nn.Tensors.copyInto(dst, src);
    }

    public void close() {
        manager.close();
    }
}
