package ai.tinyfusion.prune;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import ai.tinyfusion.OneThread;
import ai.tinyfusion.model.dit.DiT;
import ai.tinyfusion.model.dit.DiTConfig;
import ai.tinyfusion.model.dit.Flops;
import ai.tinyfusion.model.dit.Lora;
import ai.tinyfusion.nn.Linear;
import ai.tinyfusion.nn.Parameter;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(OneThread.class)
class LoraTest {
    private static NDArray[] inputs(NDManager s, int n) {
        Engine.getInstance().setRandomSeed(21);
        return new NDArray[] {
            s.randomNormal(new Shape(n, 1, 8, 8)),
            s.randomInteger(0, 1000, new Shape(n), DataType.INT64),
            s.randomInteger(0, 4, new Shape(n), DataType.INT64)
        };
    }

    @Test
    void zeroBLeavesTheModelUnchangedAndDetachRestoresIt() {
        try (NDManager m = NDManager.newBaseManager();
                NDManager s = m.newSubManager()) {
            DiT model = Tiny.randomModel(m, 3, 4);
            Set<String> keys = Set.copyOf(model.stateDict().keySet());
            long base = model.parameterCount();
            model.useIn(s);
            NDArray[] in = inputs(s, 6);
            NDArray before = model.forward(in[0], in[1], in[2]);

            Lora.Attached att = Lora.attachAll(model, 8, 16);
            assertEquals(2.0, att.adapters().values().iterator().next().scale());
            // 3 blocks × (qkv, proj, fc1, fc2, adaLN) + t_embedder.mlp.{0,2} + final linear + final adaLN.
            assertEquals(3 * 5 + 4, att.adapters().size());
            assertTrue(att.adapters().containsKey("t_embedder.mlp.0"));
            assertTrue(att.adapters().containsKey("final_layer.adaLN_modulation.1"));
            assertTrue(att.adapters().containsKey("blocks.2.attn.qkv"));
            model.useIn(s);
            NDArray same = model.forward(in[0], in[1], in[2]);
            assertEquals(before, same, "B = 0: the adapted model computes exactly the base model");

            // Counts: each Linear in → out gets r·(in + out); all base weights frozen.
            long expect = 0;
            for (Map.Entry<String, Linear> e : model.linears().entrySet()) {
                expect += 8 * (e.getValue().inFeatures() + e.getValue().outFeatures());
            }
            assertEquals(expect, att.adapterParameters());
            assertEquals(expect, model.trainableParameterCount());
            assertEquals(expect, Lora.parameterCount(model.config(), 8));
            assertEquals(base, att.baseParameters());
            assertEquals(base + expect, model.parameterCount());
            for (Map.Entry<String, Parameter> e : model.namedParameters().entrySet()) {
                assertEquals(e.getKey().contains(".lora."), e.getValue().trainable(), e.getKey());
            }
            Lora qkv = att.adapters().get("blocks.0.attn.qkv");
            assertEquals(new Shape(8, 32), qkv.a().value().getShape());
            assertEquals(new Shape(96, 8), qkv.b().value().getShape());
            // A ~ U(-1/√in, 1/√in) (nn.Linear's kaiming_uniform_(a=√5)); B = 0.
            float[] a = qkv.a().value().toFloatArray();
            double bound = 1 / Math.sqrt(32);
            double maxAbs = 0;
            for (float v : a) {
                maxAbs = Math.max(maxAbs, Math.abs(v));
            }
            assertTrue(maxAbs <= bound && maxAbs > 0.8 * bound, "A range " + maxAbs + " vs " + bound);
            assertEquals(0f, qkv.b().value().abs().max().getFloat());
            assertThrows(IllegalStateException.class, () -> Lora.attachAll(model, 4, 8));

            // A non-zero B changes the output by exactly (α/r)·B·A·x on that Linear.
            try (NDManager tmp = m.newSubManager()) {
                qkv.b().set(tmp.randomNormal(0f, 0.1f, new Shape(96, 8), DataType.FLOAT32));
            }
            model.useIn(s);
            Linear lin = model.linears().get("blocks.0.attn.qkv");
            NDArray xin = s.randomNormal(new Shape(5, 32));
            NDArray withLora = lin.forward(xin);
            NDArray manual = ai.djl.nn.core.Linear.linear(
                            xin, lin.weight().value(), lin.bias().value())
                    .singletonOrThrow()
                    .add(xin.matMul(qkv.a().value().transpose())
                            .matMul(qkv.b().value().transpose())
                            .mul(2));
            assertTrue(withLora.sub(manual).abs().max().getFloat() < 1e-5);
            assertNotEquals(before, model.forward(in[0], in[1], in[2]));

            assertEquals(19, Lora.detachAll(model));
            assertEquals(keys, Set.copyOf(model.stateDict().keySet()), "detaching restores the original key set");
            assertEquals(base, model.parameterCount());
            model.useIn(s);
            assertEquals(before, model.forward(in[0], in[1], in[2]), "the base weights were never touched");
        }
    }

    @Test
    void onlyAdaptersReceiveGradients() {
        try (NDManager m = NDManager.newBaseManager();
                NDManager s = m.newSubManager()) {
            DiT model = Tiny.randomModel(m, 2, 5);
            Lora.Attached att = Lora.attachAll(model, 4, 8);
            model.attachGradients();
            model.useIn(s);
            NDArray[] in = inputs(s, 4);
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                gc.backward(model.forward(in[0], in[1], in[2]).square().sum());
            }
            List<String> withGrad = new ArrayList<>();
            model.namedParameters().forEach((k, p) -> {
                if (p.value().hasGradient()) {
                    withGrad.add(k);
                }
            });
            assertEquals(
                    List.copyOf(att.parameters().keySet()).stream().sorted().toList(),
                    withGrad.stream().sorted().toList());
            // With B = 0 the gradient reaches B (not A): dL/dB = g·(A x)ᵀ ≠ 0, dL/dA = Bᵀ g xᵀ = 0.
            try (NDArray gb =
                            att.adapters().get("final_layer.linear").b().value().getGradient();
                    NDArray ga =
                            att.adapters().get("final_layer.linear").a().value().getGradient()) {
                assertTrue(gb.abs().max().getFloat() > 0);
                assertEquals(0f, ga.abs().max().getFloat());
            }
            assertFalse(model.linears().get("blocks.0.mlp.fc1").weight().value().hasGradient());
        }
    }

    @Test
    void trainableShareOfDitXl2AtRank8IsAboutNineTenthsOfAPercent() {
        DiTConfig xl = DiTConfig.preset("DiT-XL/2");
        long lora = Lora.parameterCount(xl, 8);
        // 28 blocks × 8·(4608 + 2304 + 5760 + 5760 + 8064) + 8·(1408 + 2304 + 1184 + 3456)
        assertEquals(6_001_920L, lora);
        double share = (double) lora / Flops.parameters(xl);
        assertEquals(0.00889, share, 0.00001); // the paper: "~0.9%"
        DiTConfig f28 = DiTConfig.preset("DiT-F28");
        assertEquals(
                8L * (28 * (256 + 128 + 320 + 320 + 448) + (320 + 128) + (64 + 32) + (64 + 128)),
                Lora.parameterCount(f28, 8));
    }

    @Test
    void foldedAndFactoredFormsAgreeInValueAndGradient() {
        try (NDManager m = NDManager.newBaseManager()) {
            Engine.getInstance().setRandomSeed(5);
            Lora lora = new Lora(m, 12, 7, 4, 8);
            lora.b().set(m.randomNormal(new Shape(7, 4)));
            NDArray w = m.randomNormal(new Shape(7, 12));
            NDArray bias = m.randomNormal(new Shape(7));
            NDArray x = m.randomNormal(new Shape(3, 5, 12));
            NDArray[] out = new NDArray[2];
            NDArray[][] grads = new NDArray[2][];
            for (int f = 0; f < 2; f++) {
                lora.a().value().setRequiresGradient(true);
                lora.b().value().setRequiresGradient(true);
                try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                    out[f] = lora.forward(x, w, bias, f == 1);
                    gc.backward(out[f].mul(out[f]).sum());
                }
                grads[f] = new NDArray[] {
                    lora.a().value().getGradient().duplicate(),
                    lora.b().value().getGradient().duplicate()
                };
                ai.tinyfusion.nn.Grads.zero(List.of(lora.a().value(), lora.b().value())); // gradients accumulate
            }
            NDArray expect = x.matMul(w.transpose())
                    .add(bias)
                    .add(x.matMul(lora.a().value().transpose())
                            .matMul(lora.b().value().transpose())
                            .mul(2.0));
            assertTrue(out[0].allClose(expect, 1e-5, 1e-5, false), "factored form");
            assertTrue(out[1].allClose(expect, 1e-5, 1e-5, false), "folded form");
            for (int i = 0; i < 2; i++) {
                assertTrue(grads[0][i].allClose(grads[1][i], 1e-4, 1e-4, false), "gradient " + i);
            }
        }
    }
}
