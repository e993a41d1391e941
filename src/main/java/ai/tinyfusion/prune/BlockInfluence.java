package ai.tinyfusion.prune;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.tinyfusion.model.DiT;

import java.io.IOException;
import java.util.List;
import java.util.stream.IntStream;

/**
 * Per-block scores from how much a block changes its input, measured on a {@link CalibrationSet}
 * (eval mode, true labels): one forward pass per calibration batch captures every block's output, and
 * block i's input is block i−1's output (the token embedding for block 0).
 *
 * <ul>
 *   <li>Block influence (ShortGPT, Men et al. 2024): BI_i = 1 − E[cos(h_in, h_out)], the cosine taken per
 *       token over channels and averaged over tokens, samples and batches. A block whose output points
 *       where its input did does little.
 *   <li>Flux-lite: the mean squared difference E[(h_out − h_in)²] over tokens, channels, samples.
 * </ul>
 * Both are "larger = more important": pruning keeps the highest.
 */
public final class BlockInfluence {
    private BlockInfluence() {}

    /** Scores per layer (L each). */
    public record Scores(double[] blockInfluence, double[] meanSquaredChange) {}

    public static Scores compute(DiT model, CalibrationSet cal) throws IOException {
        int depth = model.depth();
        cal.checkFits(model.config());
        double[] cosSum = new double[depth];
        double[] sqSum = new double[depth];
        long[] tokens = {0};
        long[] values = {0};
        int[] all = IntStream.range(0, depth).toArray();
        cal.forEachBatch(model.manager(), (b, scope) -> Scopes.host(scope, model, op -> {
            DiT.Options o = new DiT.Options().capture(all);
            model.forward(b.xt(), b.t(), b.y(), o); // eval mode: no label dropout
            List<NDArray> hidden = o.hidden; // L arrays (B, T, D): the output of block i
            NDArray in = model.embed(b.xt()); // (B, T, D): the input of block 0
            for (int i = 0; i < depth; i++) {
                NDArray out = hidden.get(i);
                NDArray dot = in.mul(out).sum(new int[] {2}); // (B, T)
                NDArray norms = in.norm(new int[] {2}).mul(out.norm(new int[] {2})).maximum(1e-12f); // (B, T)
                cosSum[i] += dot.div(norms).sum().getFloat();
                NDArray diff = out.sub(in); // (B, T, D)
                sqSum[i] += diff.mul(diff).sum().getFloat();
                in = out;
            }
            long[] s = in.getShape().getShape(); // (B, T, D)
            tokens[0] += s[0] * s[1];
            values[0] += s[0] * s[1] * s[2];
            return null;
        }, b.arrays()));
        double[] bi = new double[depth];
        double[] msd = new double[depth];
        for (int i = 0; i < depth; i++) {
            bi[i] = 1.0 - cosSum[i] / tokens[0];
            msd[i] = sqSum[i] / values[0];
        }
        return new Scores(bi, msd);
    }
}
