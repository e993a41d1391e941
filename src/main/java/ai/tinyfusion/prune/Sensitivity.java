package ai.tinyfusion.prune;

import ai.tinyfusion.model.dit.DiT;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.IntStream;

/**
 * Layer sensitivity: remove each block alone and measure how much the calibration loss (the diffusion
 * training loss under the set's objective, e.g. DDPM's MSE + VB, on a fixed {@link CalibrationSet} with fixed t
 * and noise) rises. The
 * least sensitive blocks are the ones to remove; scores are "larger = more important".
 */
public final class Sensitivity {
    private Sensitivity() {}

    /**
     * @param fullLoss calibration loss of the unpruned model
     * @param lossWithout per layer, the loss with only that layer removed (L)
     * @param increase lossWithout − fullLoss (L)
     */
    public record Result(double fullLoss, double[] lossWithout, double[] increase, SubsetLosses.Result work) {}

    public static Result compute(DiT model, CalibrationSet cal) throws IOException {
        int depth = model.depth();
        if (depth == 1) {
            throw new IllegalArgumentException(
                    "sensitivity needs at least 2 layers (removing the only one leaves nothing)");
        }
        List<int[]> subsets = new ArrayList<>();
        subsets.add(IntStream.range(0, depth).toArray());
        for (int l = 0; l < depth; l++) {
            int removed = l;
            subsets.add(IntStream.range(0, depth).filter(i -> i != removed).toArray());
        }
        SubsetLosses.Result r = SubsetLosses.compute(model, cal, subsets);
        double full = r.losses()[0];
        double[] without = new double[depth];
        double[] increase = new double[depth];
        for (int l = 0; l < depth; l++) {
            without[l] = r.losses()[l + 1];
            increase[l] = without[l] - full;
        }
        return new Result(full, without, increase, r);
    }
}
