/**
 * The one training loop ({@code TrainLoop} over a {@code TrainTask}: diffusion training, Masked KD
 * distillation, the gate search and the classifier are tasks; the diffusion tasks run under any
 * {@code diffusion.Objective}, DiT's or SiT's, and a resume under another objective is refused), AdamW as {@code torch.optim.AdamW}, EMA,
 * atomic checkpoints with exact resume, metrics. Mirrors DiT's {@code train.py} and TinyFusion's
 * {@code train_masked_kd.py} ({@code DistillTask}, {@code KdLosses}, {@code HiddenMask}, {@code LayerMap}).
 */
package ai.tinyfusion.train;
