import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;

/**
 * What half precision can do through DJL 0.36 on this CPU (docs/benchmarks.md, "bf16 inference").
 *
 * <pre>
 *   java -Dai.djl.offline=true -Dai.djl.pytorch.num_threads=2 -cp target/tinyfusion.jar \
 *       tools/bench/HalfPrecisionProbe.java fp16 512 1152 4608    # Linear at a DiT-XL/2 shape, fp32 vs fp16
 *   java ... tools/bench/HalfPrecisionProbe.java bf16             # the bfloat16 cast (aborts the JVM)
 * </pre>
 */
public class HalfPrecisionProbe {
    private static double secondsPerLinear(NDArray x, NDArray w, NDArray b, int n) {
        ai.djl.nn.core.Linear.linear(x, w, b).singletonOrThrow().close();
        long t0 = System.nanoTime();
        for (int i = 0; i < n; i++) {
            ai.djl.nn.core.Linear.linear(x, w, b).singletonOrThrow().close();
        }
        return (System.nanoTime() - t0) / 1e9 / n;
    }

    public static void main(String[] args) {
        try (NDManager m = NDManager.newBaseManager()) {
            if (args[0].equals("bf16")) {
                NDArray x = m.randomNormal(new Shape(4, 8));
                System.out.println("casting a float32 array to bfloat16 inside libtorch ...");
                System.out.flush();
                NDArray b = x.toType(DataType.BFLOAT16, false);
                System.out.println("cast worked: " + b.getDataType());
                return;
            }
            int rows = Integer.parseInt(args[1]);
            int in = Integer.parseInt(args[2]);
            int out = Integer.parseInt(args[3]);
            NDArray x = m.randomNormal(new Shape(rows, in));
            NDArray w = m.randomNormal(new Shape(out, in));
            NDArray b = m.zeros(new Shape(out));
            NDArray xh = x.toType(DataType.FLOAT16, false);
            NDArray wh = w.toType(DataType.FLOAT16, false);
            NDArray bh = b.toType(DataType.FLOAT16, false);
            double flops = 2.0 * rows * in * out;
            for (int r = 0; r < 3; r++) { // alternating
                double f = secondsPerLinear(x, w, b, 5);
                double h = secondsPerLinear(xh, wh, bh, 5);
                System.out.printf("round %d: fp32 %.1f GFLOP/s, fp16 %.1f GFLOP/s%n", r, flops / f / 1e9, flops / h / 1e9);
            }
            NDArray ref = ai.djl.nn.core.Linear.linear(x, w, b).singletonOrThrow();
            NDArray half = ai.djl.nn.core.Linear.linear(xh, wh, bh).singletonOrThrow().toType(DataType.FLOAT32, false);
            System.out.printf(
                    "fp16 mean relative error %.2e%n",
                    half.sub(ref).abs().mean().getFloat() / ref.abs().mean().getFloat());
        }
    }
}
