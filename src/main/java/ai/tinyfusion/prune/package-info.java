/**
 * Depth pruning: the learned search of VainF/TinyFusion {@code prune_by_learning.py} (Gumbel-softmax
 * gates per N:M block, LoRA or full weight update; {@code LearnedPruning}, {@code GateSearchTask}), the
 * baselines of {@code prune_by_score.py} / {@code prune_by_index.py} (BI, Flux-Lite, sensitivity, BK-SDM
 * oracle, indices, random, first/last/uniform), the calibration study, and the {@code DecisionRecord}
 * every pruned model carries. Uses {@code train}; used by {@code eval}, {@code bench}, {@code cli}.
 */
package ai.tinyfusion.prune;
