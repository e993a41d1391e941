package ai.tinyfusion.prune;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import ai.tinyfusion.OneThread;
import ai.tinyfusion.model.dit.DiT;
import ai.tinyfusion.model.dit.LayerSubset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(OneThread.class)
class GumbelGatesTest {
    private static final Pattern MIXED = Pattern.parse("2:4,1:2,1:3", 9);

    private static float[] randomLogits(java.util.Random r, int n, double scale) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) (r.nextGaussian() * scale);
        }
        return v;
    }

    /** (N × C) Gumbel noise from a Java generator, as libtorch-owned arrays, and the host copy. */
    private static List<NDArray> noise(NDManager s, Pattern p, int n, java.util.Random r, List<double[][]> host) {
        List<NDArray> out = new ArrayList<>();
        for (Pattern.Block b : p.blocks()) {
            int c = b.candidateCount();
            float[] g = new float[n * c];
            double[][] h = new double[n][c];
            for (int i = 0; i < n; i++) {
                for (int j = 0; j < c; j++) {
                    g[i * c + j] = (float) -Math.log(-Math.log(r.nextDouble()));
                    h[i][j] = g[i * c + j];
                }
            }
            host.add(h);
            try (NDArray javaOwned = s.create(g, new Shape(n, c))) {
                out.add(javaOwned.duplicate());
            }
        }
        return out;
    }

    @Test
    void logitsStartAtTheOriginalConstantAndScheduleIsLinear() {
        try (NDManager m = NDManager.newBaseManager()) {
            LearnableGates g = new LearnableGates(m, MIXED);
            assertEquals(
                    List.of("gumbel_gates.0", "gumbel_gates.1", "gumbel_gates.2"),
                    List.copyOf(g.logitArrays().keySet()));
            assertEquals(new Shape(1, 6), g.logitArrays().get("gumbel_gates.0").getShape());
            for (float[] l : g.hostLogits()) {
                for (float v : l) {
                    assertEquals(0.02f, v);
                }
            }
            assertEquals(6 + 2 + 3, g.logitCount());
            assertEquals(4.0, LearnableGates.linear(4, 0.1, 0, 101), 0);
            assertEquals(2.05, LearnableGates.linear(4, 0.1, 50, 101), 1e-12);
            assertEquals(0.1, LearnableGates.linear(4, 0.1, 100, 101), 1e-15);
            assertThrows(IllegalStateException.class, () -> g.mask(0));
            assertThrows(IllegalArgumentException.class, () -> g.setSchedule(0, 1));
        }
    }

    @Test
    void forwardIsExactlyOneHotAndTheArgmaxOfTheNoisyLogits() {
        java.util.Random r = new java.util.Random(1);
        int n = 257;
        double scaling = 7.5;
        double tau = 0.35;
        try (NDManager m = NDManager.newBaseManager();
                NDManager s = m.newSubManager()) {
            LearnableGates g = new LearnableGates(m, MIXED);
            for (Pattern.Block b : MIXED.blocks()) {
                g.setLogits(b.index(), randomLogits(r, b.candidateCount(), 0.3));
            }
            g.useIn(s);
            g.setSchedule(tau, scaling);
            List<double[][]> host = new ArrayList<>();
            LearnableGates.Draw d = g.resample(noise(s, MIXED, n, r, host));
            for (Pattern.Block b : MIXED.blocks()) {
                float[] logits = g.hostLogits().get(b.index());
                float[] y = d.onehot().get(b.index()).toFloatArray();
                float[] mask = d.masks().get(b.index()).toFloatArray();
                int c = b.candidateCount();
                int[][] cands = b.candidates();
                for (int i = 0; i < n; i++) {
                    int best = 0;
                    for (int j = 1; j < c; j++) {
                        if (scaling * logits[j] + host.get(b.index())[i][j]
                                > scaling * logits[best] + host.get(b.index())[i][best]) {
                            best = j;
                        }
                    }
                    for (int j = 0; j < c; j++) {
                        assertEquals(j == best ? 1f : 0f, y[i * c + j], "block " + b.index() + " sample " + i);
                    }
                    float[] expect = new float[b.m()];
                    for (int k : cands[best]) {
                        expect[k] = 1f;
                    }
                    assertArrayEquals(expect, Arrays.copyOfRange(mask, i * b.m(), (i + 1) * b.m()));
                }
            }
            // The LayerGate view: layer 5 is local layer 1 of the 1:2 block.
            assertArrayEquals(
                    Arrays.copyOfRange(columnOf(d.masks().get(1), 1), 0, n),
                    g.mask(5).toFloatArray());
        }
    }

    private static float[] columnOf(NDArray mask, int col) {
        long n = mask.getShape().get(0);
        long mm = mask.getShape().get(1);
        float[] all = mask.toFloatArray();
        float[] out = new float[(int) n];
        for (int i = 0; i < n; i++) {
            out[i] = all[(int) (i * mm + col)];
        }
        return out;
    }

    @Test
    void gradientIsThatOfTheSoftSurrogate() {
        java.util.Random r = new java.util.Random(2);
        int n = 5;
        double scaling = 3.0;
        double tau = 0.7;
        try (NDManager m = NDManager.newBaseManager();
                NDManager s = m.newSubManager()) {
            LearnableGates g = new LearnableGates(m, MIXED);
            List<float[]> logits = new ArrayList<>();
            for (Pattern.Block b : MIXED.blocks()) {
                float[] l = randomLogits(r, b.candidateCount(), 0.2);
                g.setLogits(b.index(), l);
                logits.add(l);
            }
            g.setSchedule(tau, scaling);
            // Loss: Σ_b Σ_{i,j} w_b[i][j] · mask_b[i][j], with fixed random weights.
            List<double[][]> w = new ArrayList<>();
            for (Pattern.Block b : MIXED.blocks()) {
                double[][] wb = new double[n][b.m()];
                for (double[] row : wb) {
                    for (int j = 0; j < row.length; j++) {
                        row[j] = r.nextGaussian();
                    }
                }
                w.add(wb);
            }
            List<double[][]> host = new ArrayList<>();
            List<NDArray> gumbel = noise(s, MIXED, n, r, host);
            g.useIn(s);
            for (NDArray a : g.logitArrays().values()) {
                a.setRequiresGradient(true);
            }
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                LearnableGates.Draw d = g.resample(gumbel);
                NDArray loss = null;
                for (Pattern.Block b : MIXED.blocks()) {
                    float[] flat = new float[n * b.m()];
                    for (int i = 0; i < n; i++) {
                        for (int j = 0; j < b.m(); j++) {
                            flat[i * b.m() + j] = (float) w.get(b.index())[i][j];
                        }
                    }
                    NDArray wb;
                    try (NDArray javaOwned = s.create(flat, new Shape(n, b.m()))) {
                        wb = javaOwned.duplicate();
                    }
                    NDArray term = d.masks().get(b.index()).mul(wb).sum();
                    loss = loss == null ? term : loss.add(term);
                }
                gc.backward(loss);
            }
            for (Pattern.Block b : MIXED.blocks()) {
                float[] grad;
                try (NDArray gr =
                        g.logitArrays().get(LearnableGates.key(b.index())).getGradient()) {
                    grad = gr.toFloatArray();
                }
                double[] base = toDouble(logits.get(b.index()));
                double maxAbs = 0;
                for (int c = 0; c < base.length; c++) {
                    double h = 1e-5;
                    double[] up = base.clone();
                    double[] down = base.clone();
                    up[c] += h;
                    down[c] -= h;
                    double fd = (soft(b, up, host.get(b.index()), w.get(b.index()), scaling, tau)
                                    - soft(b, down, host.get(b.index()), w.get(b.index()), scaling, tau))
                            / (2 * h);
                    assertEquals(fd, grad[c], 1e-4 + 1e-3 * Math.abs(fd), "block " + b.index() + " logit " + c);
                    maxAbs = Math.max(maxAbs, Math.abs(fd));
                }
                assertTrue(maxAbs > 0.05, "a non-trivial gradient for block " + b.index());
            }
        }
    }

    private static double[] toDouble(float[] f) {
        double[] d = new double[f.length];
        for (int i = 0; i < f.length; i++) {
            d[i] = f[i];
        }
        return d;
    }

    /** Σ_{i,j} w[i][j] · (softmax((s·g + G_i)/τ) @ candidates)[j], in double. */
    private static double soft(Pattern.Block b, double[] g, double[][] gumbel, double[][] w, double s, double tau) {
        int[][] cands = b.candidates();
        double total = 0;
        for (int i = 0; i < gumbel.length; i++) {
            double[] z = new double[g.length];
            double max = Double.NEGATIVE_INFINITY;
            for (int c = 0; c < g.length; c++) {
                z[c] = (s * g[c] + gumbel[i][c]) / tau;
                max = Math.max(max, z[c]);
            }
            double sum = 0;
            for (int c = 0; c < g.length; c++) {
                z[c] = Math.exp(z[c] - max);
                sum += z[c];
            }
            for (int c = 0; c < g.length; c++) {
                for (int j : cands[c]) {
                    total += w[i][j] * z[c] / sum;
                }
            }
        }
        return total;
    }

    @Test
    void samplesDifferPerElementWithTheGumbelMaxFrequencies() {
        int n = 4000;
        try (NDManager m = NDManager.newBaseManager();
                NDManager s = m.newSubManager()) {
            LearnableGates g = new LearnableGates(m, MIXED);
            float[] l0 = {0.3f, -0.2f, 0.1f, 0.0f, 0.5f, -0.4f};
            g.setLogits(0, l0);
            g.setLogits(1, new float[] {0.0f, 0.0f});
            g.setSchedule(1.0, 2.0); // moderate: p = softmax(2 · g)
            g.useIn(s);
            Engine.getInstance().setRandomSeed(42);
            LearnableGates.Draw d = g.resample(s, n);
            // Per-sample: within the first 16 samples both choices of the 1:2 block occur.
            float[] small = d.masks().get(1).get("0:16").toFloatArray();
            Set<String> rows = new HashSet<>();
            for (int i = 0; i < 16; i++) {
                rows.add(small[2 * i] + "," + small[2 * i + 1]);
            }
            assertEquals(Set.of("1.0,0.0", "0.0,1.0"), rows);
            // Frequencies follow softmax(scaling · g) (the Gumbel-max trick; τ does not change the argmax).
            float[] y = d.onehot().get(0).toFloatArray();
            double[] p = GateDecision.softmax(l0, 2.0);
            for (int c = 0; c < 6; c++) {
                int count = 0;
                for (int i = 0; i < n; i++) {
                    count += (int) y[i * 6 + c];
                }
                double sd = Math.sqrt(n * p[c] * (1 - p[c]));
                assertEquals(n * p[c], count, 4 * sd, "candidate " + c);
            }
            // A second draw differs from the first.
            LearnableGates.Draw d2 = g.resample(s, n);
            assertNotEquals(
                    Arrays.toString(d.onehot().get(0).toFloatArray()),
                    Arrays.toString(d2.onehot().get(0).toFloatArray()));
        }
    }

    @Test
    void maskedBlocksPassTheirInputThroughAndSamplesMatchTheirPrunedModels() {
        int n = 12;
        try (NDManager m = NDManager.newBaseManager();
                NDManager s = m.newSubManager()) {
            DiT model = Tiny.randomModel(m, 4, 3);
            Pattern p = Pattern.parse("1:2", 4);
            LearnableGates g = new LearnableGates(m, p);
            g.setSchedule(1.0, 1.0);
            model.useIn(s);
            g.useIn(s);
            Engine.getInstance().setRandomSeed(9);
            NDArray x = s.randomNormal(new Shape(n, 1, 8, 8));
            NDArray t = s.randomInteger(0, 1000, new Shape(n), ai.djl.ndarray.types.DataType.INT64);
            NDArray y = s.randomInteger(0, 4, new Shape(n), ai.djl.ndarray.types.DataType.INT64);
            g.resample(s, n);
            float[][] masks = new float[4][];
            for (int l = 0; l < 4; l++) {
                masks[l] = g.mask(l).toFloatArray();
            }
            DiT.Options o = new DiT.Options().gate(g).capture(0, 1, 2, 3);
            NDArray out = model.forward(x, t, y, o);
            Set<String> patterns = new HashSet<>();
            int identityChecks = 0;
            for (int i = 0; i < n; i++) {
                List<Integer> kept = new ArrayList<>();
                for (int l = 0; l < 4; l++) {
                    if (masks[l][i] == 1f) {
                        kept.add(l);
                    }
                    if (l > 0) {
                        NDArray before = o.hidden.get(l - 1).get(i);
                        NDArray after = o.hidden.get(l).get(i);
                        if (masks[l][i] == 0f) {
                            assertEquals(before, after, "sample " + i + ": masked layer " + l + " changed its input");
                            identityChecks++;
                        } else {
                            assertTrue(after.sub(before).abs().max().getFloat() > 1e-4, "layer " + l + " ran");
                        }
                    }
                }
                assertEquals(2, kept.size());
                patterns.add(kept.toString());
                // The sample's output equals that of the model built from its kept layers.
                int[] k = kept.stream().mapToInt(Integer::intValue).toArray();
                try (NDManager pm = m.newSubManager()) {
                    DiT pruned = LayerSubset.keep(model, k, pm);
                    pruned.useIn(s);
                    NDArray ref = pruned.forward(
                            x.get(i + ":" + (i + 1)), t.get(i + ":" + (i + 1)), y.get(i + ":" + (i + 1)));
                    float diff = ref.sub(out.get(i + ":" + (i + 1))).abs().max().getFloat();
                    assertTrue(diff < 1e-5, "sample " + i + " kept " + kept + ": max diff " + diff);
                }
            }
            assertTrue(identityChecks >= 3, "some masked layers were checked");
            assertTrue(patterns.size() >= 3, "samples drew different layer sets: " + patterns);
        }
    }

    @Test
    void theLogLineShowsNoLossBeforeTheFirstAverage() {
        assertEquals("-", GateSearchTask.lossText(Double.NaN));
        assertEquals("0.1235", GateSearchTask.lossText(0.123456));
    }
}
