package ai.tinyfusion.diffusion.mar;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.tinyfusion.diffusion.NoiseSource;
import ai.tinyfusion.model.mar.Mar;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * MAR's generation loop ({@code MAR.sample_tokens}): all tokens start masked; each of {@code numIter} steps
 * runs encoder and decoder on the current tokens, keeps {@code floor(L·cos(π/2·(k+1)/numIter))} tokens masked
 * for the next step (at least 1, at most the masked count − 1; the last step predicts all that remain), and
 * samples the tokens leaving the mask, in each sample's random order, with the diffusion head. Classifier-free
 * guidance doubles the batch with the fake class embedding; its scale follows the {@code linear} schedule
 * {@code 1 + (cfg − 1)·(L − maskLen)/L} or stays {@code constant}.
 */
public final class MarSampler {
    /** How the guidance scale moves over the steps. */
    public enum CfgSchedule {
        LINEAR,
        CONSTANT
    }

    /** Settings of one generation (the original's defaults: 64 steps, no guidance, temperature 1). */
    public static final class Options {
        int numIter = 64;
        double cfg = 1.0;
        CfgSchedule schedule = CfgSchedule.LINEAR;
        double temperature = 1.0;
        Listener listener;

        public Options numIter(int n) {
            if (n < 1) {
                throw new IllegalArgumentException("num_iter must be >= 1, got " + n);
            }
            this.numIter = n;
            return this;
        }

        public Options cfg(double scale) {
            this.cfg = scale;
            return this;
        }

        public Options schedule(CfgSchedule s) {
            this.schedule = s;
            return this;
        }

        public Options temperature(double t) {
            this.temperature = t;
            return this;
        }

        /** Called after each step with the conditions fed to the head, the sampled tokens and the scale used. */
        public Options listener(Listener l) {
            this.listener = l;
            return this;
        }
    }

    /** Observes each generation step (arrays valid during the call). */
    @FunctionalInterface
    public interface Listener {
        void onStep(int step, NDArray z, NDArray sampled, float cfgScale);
    }

    private final MarDiffusion diffusion;

    public MarSampler(MarDiffusion diffusion) {
        this.diffusion = diffusion;
    }

    /** Generation with random orders from {@code rng} and noise from the engine's generator. */
    public NDArray sample(NDManager manager, int n, NDArray labels, Options o, Random rng) {
        long[][] orders = Mar.sampleOrders(n, diffusion.model().config().seqLen(), rng);
        return sample(manager, n, labels, o, orders, NoiseSource.standardNormal());
    }

    /**
     * Generates VAE latents (N, c, h, w) (divide by the latent scale, 0.2325 for KL-16, before decoding).
     *
     * @param labels (N) class labels, or null for unconditional generation (the fake class embedding)
     * @param orders one permutation of the L positions per sample: the order tokens are revealed in
     * @param noise the head's Gaussian noise, drawn in the original's order
     */
    public NDArray sample(NDManager manager, int n, NDArray labels, Options o, long[][] orders, NoiseSource noise) {
        Mar model = diffusion.model();
        int seq = model.config().seqLen(), c = model.config().tokenEmbedDim();
        boolean guided = o.cfg != 1.0;
        boolean[][] mask = new boolean[n][seq];
        for (boolean[] row : mask) {
            java.util.Arrays.fill(row, true);
        }
        float[] tokens = new float[n * seq * c];
        for (int step = 0; step < o.numIter; step++) {
            try (NDManager scope = manager.newSubManager()) {
                model.useIn(scope);
                NDArray cur = create(scope, tokens, new Shape(n, seq, c));
                NDArray classEmb = labels == null ? model.fakeLatent(n) : model.classEmbedding(labels);
                NDArray maskNd = maskArray(scope, mask);
                if (guided) {
                    cur = cur.concat(cur, 0);
                    classEmb = classEmb.concat(model.fakeLatent(n), 0);
                    maskNd = maskNd.concat(maskNd, 0);
                }
                NDArray z = model.forwardDecoder(model.forwardEncoder(cur, maskNd, classEmb, false), maskNd, false);

                // masked count for the next step: floor(L·cos(π/2·(k+1)/T)), kept within [1, masked − 1]
                double ratio = Math.cos(Math.PI / 2.0 * (step + 1) / o.numIter);
                int masked = count(mask[0]);
                int maskLen = (int) Math.max(1, Math.min(masked - 1, Math.floor(seq * ratio)));
                boolean[][] next = new boolean[n][seq];
                for (int i = 0; i < n; i++) {
                    for (int j = 0; j < maskLen; j++) {
                        next[i][(int) orders[i][j]] = true;
                    }
                }
                boolean last = step >= o.numIter - 1;
                List<Long> rows = new ArrayList<>(); // (sample, position) rows of z to predict, row-major
                for (int i = 0; i < n; i++) {
                    for (int j = 0; j < seq; j++) {
                        if (last ? mask[i][j] : mask[i][j] ^ next[i][j]) {
                            rows.add((long) i * seq + j);
                        }
                    }
                }
                mask = next;
                int predicted = rows.size();
                if (guided) {
                    for (int r = 0; r < predicted; r++) {
                        rows.add(rows.get(r) + (long) n * seq);
                    }
                }
                NDArray zRows = selectRows(z.reshape(-1, z.getShape().get(2)), rows);
                float scale = cfgScale(o, seq, maskLen);
                NDArray sampled = diffusion.sample(zRows, o.temperature, guided ? scale : 1.0f, noise);
                if (o.listener != null) {
                    o.listener.onStep(step, zRows, sampled, scale);
                }
                float[] values = sampled.toType(DataType.FLOAT32, false).toFloatArray();
                for (int r = 0; r < predicted; r++) {
                    System.arraycopy(values, r * c, tokens, (int) (rows.get(r) * c), c);
                }
            }
        }
        try (NDManager scope = manager.newSubManager()) {
            NDArray out = model.unpatchify(create(scope, tokens, new Shape(n, seq, c)));
            out.attach(manager);
            return out;
        }
    }

    /**
     * The guidance scale of a step, in float32 as the original computes it: {@code 1 + (cfg − 1)·(L − maskLen)/L}
     * (linear) or {@code cfg} (constant).
     */
    static float cfgScale(Options o, int seq, int maskLen) {
        if (o.schedule == CfgSchedule.CONSTANT) {
            return (float) o.cfg;
        }
        float remaining = (float) seq - (float) maskLen;
        float scaled = (float) (o.cfg - 1) * remaining / (float) seq;
        return 1f + scaled;
    }

    private static int count(boolean[] row) {
        int c = 0;
        for (boolean b : row) {
            c += b ? 1 : 0;
        }
        return c;
    }

    private static NDArray maskArray(NDManager m, boolean[][] mask) {
        int n = mask.length, l = mask[0].length;
        float[] v = new float[n * l];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < l; j++) {
                v[i * l + j] = mask[i][j] ? 1f : 0f;
            }
        }
        return create(m, v, new Shape(n, l));
    }

    private static NDArray create(NDManager m, float[] v, Shape shape) {
        try (NDArray javaOwned = m.create(v, shape)) {
            return javaOwned.duplicate();
        }
    }

    /** Rows of x (R, D) at the given indices, in order: (len, D). */
    private static NDArray selectRows(NDArray x, List<Long> rows) {
        long[] idx = rows.stream().mapToLong(Long::longValue).toArray();
        NDArray index;
        try (NDArray javaOwned = x.getManager().create(idx, new Shape(idx.length))) {
            index = javaOwned.duplicate();
        }
        return x.get(index);
    }
}
