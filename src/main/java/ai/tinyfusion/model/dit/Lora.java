package ai.tinyfusion.model.dit;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.tinyfusion.nn.Linear;
import ai.tinyfusion.nn.Module;
import ai.tinyfusion.nn.Parameter;
import ai.tinyfusion.nn.Scalars;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Low-rank adaptation of one {@link Linear}: {@code y = W x + b + (α/r) · B A x} with A (r × in)
 * and B (out × r), as torchtune's {@code LoRALinear} that the original TinyFusion search uses
 * (rank 8, α = 2·rank, no dropout). A starts Kaiming-uniform like {@code nn.Linear}'s default
 * weight init (a = √5, i.e. U(−1/√in, 1/√in)), B at zero, so an attached adapter leaves the output
 * unchanged until B is trained.
 *
 * <p>{@link #attachAll} puts one adapter on every Linear of a DiT (attention qkv/proj, MLP fc1/fc2,
 * every adaLN modulation, the timestep-embedder MLP, the final layer's linear and its adaLN) under
 * the child name {@value #CHILD}, so that the adapter weights appear as
 * {@code <linear>.lora.a} / {@code <linear>.lora.b}; {@link #detachAll} removes them again and the
 * state dict is the original one.
 */
public final class Lora extends Module implements Linear.Adapter {
    /** The child name under which adapters are attached to a Linear. */
    public static final String CHILD = "lora";

    private final Parameter a;
    private final Parameter b;
    private final int rank;
    private final double alpha;

    /** A fresh adapter for a Linear of {@code in → out} (A from the engine RNG, B zero). */
    public Lora(NDManager manager, long in, long out, int rank, double alpha) {
        super(manager);
        if (rank < 1) {
            throw new IllegalArgumentException("LoRA rank must be at least 1, got " + rank);
        }
        if (!(alpha > 0)) {
            throw new IllegalArgumentException("LoRA alpha must be positive, got " + alpha);
        }
        this.rank = rank;
        this.alpha = alpha;
        float bound = (float) (1.0 / Math.sqrt(in));
        a = param("a", manager.randomUniform(-bound, bound, new Shape(rank, in), DataType.FLOAT32), true);
        b = param("b", manager.zeros(new Shape(out, rank), DataType.FLOAT32), true);
    }

    public Parameter a() {
        return a;
    }

    public Parameter b() {
        return b;
    }

    public int rank() {
        return rank;
    }

    public double alpha() {
        return alpha;
    }

    /** α / r. */
    public double scale() {
        return alpha / rank;
    }

    /**
     * {@code x Wᵀ + b + (α/r)·(x Aᵀ) Bᵀ}, computed in whichever of two equal forms is cheaper for
     * this call (see {@link #foldIntoWeight}): factored as written, or folded as
     * {@code x (W + (α/r)·B A)ᵀ + b}.
     */
    @Override
    public NDArray forward(NDArray x, NDArray weight, NDArray bias) {
        return forward(x, weight, bias, foldIntoWeight(weight.getShape().get(1)));
    }

    /** The adapted output in the folded or the factored form (equal up to rounding). */
    public NDArray forward(NDArray x, NDArray weight, NDArray bias, boolean fold) {
        NDArray sb = Scalars.mul(b.value(), scale()); // (out, r)
        if (fold) {
            return Linear.linear(x, weight.add(sb.matMul(a.value())), bias);
        }
        NDArray h = Linear.linear(x, a.value(), null); // (..., r)
        return Linear.linear(x, weight, bias).add(Linear.linear(h, sb, null));
    }

    /**
     * Whether to fold the update into the weight of a Linear with {@code in} input features. Folding
     * replaces the factored form's extra full-size activations (x Aᵀ Bᵀ and the sum, forward and
     * backward: elementwise, memory-bound work of order rows·out) by one (out × in) weight and its
     * gradient (a matmul of order rows·in·out, the cost of a base-weight gradient). Narrow layers
     * (in ≤ 256, e.g. the width-64 Fashion-MNIST teacher) are dominated by the former and fold;
     * wide ones (DiT-XL/2's 1152) keep the factored form. {@code -Dtinyfusion.lora.foldMaxIn=N} moves
     * the bound (0: never fold), for benchmarking.
     */
    static boolean foldIntoWeight(long in) {
        return in <= FOLD_MAX_IN;
    }

    /** Widest input for which {@link #foldIntoWeight} folds. */
    static final long FOLD_MAX_IN = Long.getLong("tinyfusion.lora.foldMaxIn", 256);

    /** The adapters attached to a model, keyed by the Linear's state-dict prefix. */
    public record Attached(LinkedHashMap<String, Lora> adapters, long adapterParameters, long baseParameters) {
        /** Adapter values as a share of the base model's values (the paper: ≈0.9% for DiT-XL/2, rank 8). */
        public double share() {
            return (double) adapterParameters / baseParameters;
        }

        /** The adapter parameters by full state-dict name ({@code <linear>.lora.a}, ...). */
        public LinkedHashMap<String, NDArray> parameters() {
            LinkedHashMap<String, NDArray> out = new LinkedHashMap<>();
            adapters.forEach((k, l) -> {
                out.put(k + "." + CHILD + ".a", l.a.value());
                out.put(k + "." + CHILD + ".b", l.b.value());
            });
            return out;
        }
    }

    /**
     * Attaches an adapter to every Linear of {@code model} (A drawn from the engine RNG in the
     * order of the Linears' names) and freezes every base parameter.
     *
     * @throws IllegalStateException when the model already carries adapters
     */
    public static Attached attachAll(DiT model, int rank, double alpha) {
        long base = model.parameterCount();
        LinkedHashMap<String, Lora> adapters = new LinkedHashMap<>();
        Map<String, Linear> linears = model.linears();
        for (Map.Entry<String, Linear> e : linears.entrySet()) {
            if (e.getValue().adapter() != null) {
                throw new IllegalStateException(e.getKey() + " already has an adapter; detach it first");
            }
        }
        for (Parameter p : model.namedParameters().values()) {
            p.setTrainable(false);
        }
        long count = 0;
        for (Map.Entry<String, Linear> e : linears.entrySet()) {
            Linear l = e.getValue();
            Lora lora = new Lora(model.manager(), l.inFeatures(), l.outFeatures(), rank, alpha);
            l.attachAdapter(CHILD, lora, lora);
            adapters.put(e.getKey(), lora);
            count += lora.parameterCount();
        }
        return new Attached(adapters, count, base);
    }

    /** Removes every LoRA adapter from {@code model}; returns how many were removed. */
    public static int detachAll(DiT model) {
        int n = 0;
        for (Linear l : model.linears().values()) {
            if (l.adapter() instanceof Lora) {
                l.detachAdapter(CHILD);
                n++;
            }
        }
        return n;
    }

    /** Adapter values for every Linear of a model of {@code config} at {@code rank}, without building it. */
    public static long parameterCount(DiTConfig config, int rank) {
        long d = config.hiddenSize();
        long perBlock = (d + 3 * d) + (d + d) + (d + config.mlpHidden()) + (config.mlpHidden() + d) + (d + 6 * d);
        long tEmb = (Blocks.TimestepEmbedder.FREQ_DIM + d) + (d + d);
        long fin = (d + (long) config.patchSize() * config.patchSize() * config.outChannels()) + (d + 2 * d);
        return rank * (perBlock * config.depth() + tEmb + fin);
    }
}
