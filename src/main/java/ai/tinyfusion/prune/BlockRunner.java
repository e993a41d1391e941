package ai.tinyfusion.prune;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.tinyfusion.model.dit.DiT;
import ai.tinyfusion.nn.Scopes;

/**
 * Runs a DiT's forward pass stage by stage on one calibration batch (eval mode, true labels), each stage
 * in its own sub-manager so that only its result stays alive: the conditioning and the token embedding
 * once, then any block on any hidden state, then the head and the per-sample training loss of the calibration set's
 * objective. The
 * results are owned by the batch's scope.
 */
final class BlockRunner {
    private final DiT model;
    private final CalibrationSet cal;
    private final CalibrationSet.Batch batch;
    private final NDManager scope;
    /** Conditioning (B, D). */
    final NDArray c;
    /** Token embedding of x_t (B, T, D): the input of block 0. */
    final NDArray h0;

    BlockRunner(DiT model, CalibrationSet cal, CalibrationSet.Batch batch, NDManager scope) {
        this.model = model;
        this.cal = cal;
        this.batch = batch;
        this.scope = scope;
        this.c = Scopes.keep(
                scope, model, op -> model.condition(batch.t(), batch.y(), new DiT.Options()), batch.arrays());
        this.h0 = Scopes.keep(scope, model, op -> model.embed(batch.xt()), batch.arrays());
    }

    /** Block {@code layer} on h (B, T, D) → (B, T, D). */
    NDArray block(int layer, NDArray h) {
        return Scopes.keep(scope, model.block(layer), op -> model.block(layer).forward(h, c), h, c);
    }

    /** Σ over the batch of the training loss (MSE + VB) when the block stack ends in h (B, T, D). */
    double lossSum(NDArray h) {
        NDArray[] inputs = {batch.x0(), batch.y(), batch.t(), batch.draw().noise(), batch.xt(), h, c};
        return Scopes.host(
                scope,
                model,
                op -> {
                    // The head's output stands for the network on x_t: the objective rebuilds the same x_t from the
                    // same draw.
                    NDArray loss = cal.objective()
                            .losses((x, t, y) -> model.head(h, c), batch.x0(), batch.y(), batch.draw())
                            .get("loss");
                    return (double) loss.sum().getFloat();
                },
                inputs);
    }
}
