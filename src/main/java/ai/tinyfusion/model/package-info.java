/**
 * Networks, one sub-package per family: {@code model.dit} now; later {@code model.vae},
 * {@code model.inception}, {@code model.mar} (and SiT beside DiT). A family's sub-package holds the
 * network, its blocks, config, presets and checkpoint loading. Uses {@code nn} and {@code io}; used by
 * {@code diffusion} and everything above it.
 */
package ai.tinyfusion.model;
