package ai.tinyfusion.eval;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.tinyfusion.data.Batcher;
import ai.tinyfusion.nn.Module;
import ai.tinyfusion.nn.Parameter;
import ai.tinyfusion.train.TrainTask;
import com.google.gson.JsonObject;
import java.nio.FloatBuffer;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Trains a {@link FeatureNet} as a classifier: mean cross-entropy of the logits against the labels,
 * {@code −mean(Σ_k onehot(y)_k · log_softmax(logits)_k)}.
 *
 * <p>Augmentation (optional): each image is shifted by a random whole number of pixels in
 * [−maxShift, maxShift] along each axis, the uncovered border filled with the background value −1
 * (pad-and-crop). The offsets are drawn from the engine RNG, which the {@link
 * ai.tinyfusion.train.TrainLoop} seeds per step, so a run and its resumption see the same shifts.
 * Horizontal flips, if wanted, come from the {@link Batcher}.
 */
public final class ClassifierTask implements TrainTask {
    private final FeatureNet net;
    private final double weightDecay;
    private final int maxShift;

    public ClassifierTask(FeatureNet net, double weightDecay, int maxShift) {
        if (maxShift < 0 || maxShift >= FeatureNet.IMAGE_SIZE) {
            throw new IllegalArgumentException("max shift must be in [0, 27], got " + maxShift);
        }
        this.net = net;
        this.weightDecay = weightDecay;
        this.maxShift = maxShift;
    }

    public FeatureNet net() {
        return net;
    }

    @Override
    public LinkedHashMap<String, NDArray> trainable() {
        LinkedHashMap<String, NDArray> out = new LinkedHashMap<>();
        net.namedParameters().forEach((k, p) -> {
            if (p.trainable()) {
                out.put(k, p.value());
            }
        });
        return out;
    }

    @Override
    public LinkedHashMap<String, NDArray> emaTracked() {
        return net.stateDict();
    }

    @Override
    public LinkedHashMap<String, NDArray> state() {
        return net.stateDict();
    }

    @Override
    public List<Module> modules() {
        return List.of(net);
    }

    /** Decay on convolution kernels and the classifier matrix, not on biases. */
    @Override
    public Map<String, Double> weightDecay() {
        Map<String, Double> out = new LinkedHashMap<>();
        if (weightDecay > 0) {
            for (Map.Entry<String, Parameter> e : net.namedParameters().entrySet()) {
                if (e.getValue().trainable() && e.getValue().value().getShape().dimension() >= 2) {
                    out.put(e.getKey(), weightDecay);
                }
            }
        }
        return out;
    }

    @Override
    public StepLoss loss(Batcher.Batch batch, NDManager scope) {
        NDArray x = maxShift > 0 ? shift(batch.images(), scope) : batch.images();
        NDArray logits = net.logits(x);
        NDArray y = batch.labels();
        NDArray loss = crossEntropy(logits, y);
        NDArray accuracy =
                logits.argMax(1).eq(y).toType(DataType.FLOAT32, false).mean();
        return new StepLoss(loss, Map.of("accuracy", accuracy));
    }

    /** Mean cross-entropy of (N, K) logits against (N,) int64 labels; autograd-safe (no Java scalars). */
    public static NDArray crossEntropy(NDArray logits, NDArray labels) {
        int k = (int) logits.getShape().get(1);
        NDArray oneHot = labels.oneHot(k, DataType.FLOAT32);
        return logits.logSoftmax(1).mul(oneHot).sum(new int[] {1}).mean().neg();
    }

    /** Shifts every image of (N, 1, H, W) by its own random offset (engine RNG), filling with −1. */
    NDArray shift(NDArray images, NDManager scope) {
        Shape s = images.getShape();
        int n = (int) s.get(0);
        int h = (int) s.get(2);
        int w = (int) s.get(3);
        long[] offsets;
        try (NDArray r = scope.randomInteger(-maxShift, maxShift + 1, new Shape(n, 2), DataType.INT64)) {
            offsets = r.toLongArray();
        }
        float[] src = images.toFloatArray();
        float[] dst = new float[src.length];
        java.util.Arrays.fill(dst, -1f);
        for (int i = 0; i < n; i++) {
            int dy = (int) offsets[2 * i];
            int dx = (int) offsets[2 * i + 1];
            int base = i * h * w;
            for (int y = Math.max(0, dy); y < Math.min(h, h + dy); y++) {
                int sy = y - dy;
                int x0 = Math.max(0, dx);
                int x1 = Math.min(w, w + dx);
                System.arraycopy(src, base + sy * w + x0 - dx, dst, base + y * w + x0, x1 - x0);
            }
        }
        try (NDArray tmp = scope.create(FloatBuffer.wrap(dst), s)) {
            return tmp.duplicate();
        }
    }

    @Override
    public String describe() {
        JsonObject o = new JsonObject();
        o.addProperty("task", "classifier");
        o.addProperty("architecture", FeatureNet.ARCHITECTURE);
        o.addProperty("weight_decay", weightDecay);
        o.addProperty("max_shift", maxShift);
        return o.toString();
    }
}
