/**
 * Gaussian diffusion as the original {@code diffusion/} package of facebookresearch/DiT (itself from
 * openai/guided-diffusion): {@code gaussian_diffusion.py} ({@code GaussianDiffusion}: schedules, q/p
 * distributions, MSE + VB training losses, DDPM/DDIM steps), {@code respace.py} ({@code Respacing},
 * {@code SpacedDiffusion}), {@code diffusion_utils.py} ({@code DiffusionUtils}), {@code __init__.py}'s
 * {@code create_diffusion} ({@code DiffusionFactory}) and {@code sample.py}'s CFG loop ({@code Sampler}).
 * {@code Objective} is the one pluggable piece the training loop, the learnable search, distillation and sampling
 * see: {@code DdpmObjective} (the above; timesteps drawn uniformly as {@code timestep_sampler.py}'s UniformSampler)
 * and SiT's {@code transport.TransportObjective}; {@code Objectives} reads and compares their metadata.
 */
package ai.tinyfusion.diffusion;
