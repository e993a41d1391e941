package ai.tinyfusion.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Exponential moving average of named arrays: {@code ema ← decay·ema + (1−decay)·value}, as the
 * original {@code update_ema}. The shadow copies live in their own manager.
 */
public final class Ema {
    private final NDManager manager;
    private final LinkedHashMap<String, NDArray> source;
    private final LinkedHashMap<String, NDArray> shadow = new LinkedHashMap<>();

    /** Starts the average at a copy of the current values (the original's {@code update_ema(ema, model, 0)}). */
    public Ema(NDManager parent, Map<String, NDArray> source) {
        this.manager = parent.newSubManager();
        this.source = new LinkedHashMap<>(source);
        source.forEach((k, v) -> {
            NDArray copy = ai.tinyfusion.nn.Tensors.copy(v, v.getDataType());
            copy.attach(manager);
            shadow.put(k, copy);
        });
    }

    /**
     * The decay to use at update number {@code updates} (0-based) when warming up:
     * {@code min(decay, (1 + n) / (10 + n))}, so early averages are not dominated by the initial
     * weights (with adaLN-Zero those are zeros). The original DiT uses a constant decay.
     */
    public static double warmedUp(double decay, long updates) {
        return Math.min(decay, (1.0 + updates) / (10.0 + updates));
    }

    public void update(double decay) {
        try (NDManager scope = manager.newSubManager()) {
            for (Map.Entry<String, NDArray> e : shadow.entrySet()) {
                NDArray s = e.getValue();
                NDArray v = source.get(e.getKey());
                scope.tempAttachAll(s, v);
                s.muli(decay).addi(v.mul(1 - decay));
            }
        }
    }

    /** The averaged values by name (live arrays). */
    public LinkedHashMap<String, NDArray> values() {
        return shadow;
    }

    /** Overwrites the averages (resume). */
    public void load(Map<String, NDArray> values) {
        for (Map.Entry<String, NDArray> e : shadow.entrySet()) {
            NDArray v = values.get(e.getKey());
            if (v == null) {
                throw new IllegalArgumentException("EMA state is missing " + e.getKey());
            }
            if (!v.getShape().equals(e.getValue().getShape())) {
                throw new IllegalArgumentException("EMA state " + e.getKey() + " has shape " + v.getShape());
            }
            ai.tinyfusion.nn.Tensors.copyInto(e.getValue(), v);
        }
    }

    public void close() {
        manager.close();
    }
}
