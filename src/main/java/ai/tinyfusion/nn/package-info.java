/**
 * A small PyTorch-style module system on DJL: {@code Module} with named parameters whose names are the
 * original state-dict keys, {@code Linear} with an adapter hook (LoRA), {@code Conv2d}, autograd-safe
 * scalars ({@code Scalars}, djl-notes rule 1) and sub-manager scopes ({@code Scopes}, rule 2). Mirrors
 * {@code torch.nn}. Bottom layer (uses {@code util}, {@code io} at most).
 */
package ai.tinyfusion.nn;
