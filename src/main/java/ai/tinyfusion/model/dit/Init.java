package ai.tinyfusion.model.dit;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.tinyfusion.nn.Linear;
import ai.tinyfusion.nn.Parameter;

/** The original DiT initialisation (initialize_weights in models.py). */
final class Init {
    private Init() {}

    static void original(DiT model) {
        // Each new value becomes the parameter's storage (Parameter.overwrite), so at most one
        // parameter-sized temporary exists at a time; the rest of the scope holds only small arrays.
        try (NDManager m = model.manager().newSubManager()) {
            original(model, m);
        }
    }

    private static void original(DiT model, NDManager m) {
        // Every Linear: Xavier-uniform weight, zero bias.
        for (Linear l : model.linears().values()) {
            l.weight().overwrite(xavier(m, l.weight().value().getShape(), l.inFeatures(), l.outFeatures()));
            if (l.bias() != null) {
                l.bias().overwrite(m.zeros(l.bias().value().getShape()));
            }
        }
        DiTConfig c = model.config();
        model.posEmbed.set(m.create(
                PosEmbed.sincos2d(c.hiddenSize(), c.gridSize()), new Shape(1, c.numPatches(), c.hiddenSize())));
        // Patch embedding initialised like a Linear over the flattened (C·p·p) input.
        Shape ws = model.xEmbedder.weight.value().getShape();
        long fanIn = ws.get(1) * ws.get(2) * ws.get(3);
        model.xEmbedder.weight.overwrite(xavier(m, ws, fanIn, ws.get(0)));
        model.xEmbedder.bias.overwrite(m.zeros(model.xEmbedder.bias.value().getShape()));
        normal(m, model.yEmbedder.table, 0.02);
        normal(m, model.tEmbedder.mlp.get(0).weight(), 0.02);
        normal(m, model.tEmbedder.mlp.get(1).weight(), 0.02);
        // adaLN-Zero: every modulation and the output projection start at zero.
        for (Blocks.DiTBlock b : model.blocks.items()) {
            zero(m, b.modulation());
        }
        zero(m, model.finalLayer.adaLN.get(0));
        zero(m, model.finalLayer.linear);
    }

    private static NDArray xavier(NDManager m, Shape shape, long fanIn, long fanOut) {
        float a = (float) Math.sqrt(6.0 / (fanIn + fanOut));
        return m.randomUniform(-a, a, shape);
    }

    private static void normal(NDManager m, Parameter p, double std) {
        p.overwrite(
                m.randomNormal(0f, (float) std, p.value().getShape(), p.value().getDataType()));
    }

    private static void zero(NDManager m, Linear l) {
        l.weight().overwrite(m.zeros(l.weight().value().getShape()));
        l.bias().overwrite(m.zeros(l.bias().value().getShape()));
    }
}
