/**
 * The diffusion transformer: {@code DiT} and its blocks (facebookresearch/DiT {@code models.py}),
 * {@code DiTConfig} with every preset (DiT-XL/L/B/S, TinyFusion's D19/D14/D7, this project's Fashion-MNIST
 * F28/F14/F7), config inference from checkpoint shapes, MACs, {@code ModelFiles} (load/save), and the
 * pruning hooks of VainF/TinyFusion {@code prune_by_learning.py}: {@code Lora}, {@code LayerGate},
 * {@code LayerSubset} (the one way to build a shallower model).
 */
package ai.tinyfusion.model.dit;
