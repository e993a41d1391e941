/**
 * Gaussian diffusion as the original {@code diffusion/} package of facebookresearch/DiT (itself from
 * openai/guided-diffusion): {@code gaussian_diffusion.py} ({@code GaussianDiffusion}: schedules, q/p
 * distributions, MSE + VB training losses, DDPM/DDIM steps), {@code respace.py} ({@code Respacing},
 * {@code SpacedDiffusion}), {@code diffusion_utils.py} ({@code DiffusionUtils}), {@code __init__.py}'s
 * {@code create_diffusion} ({@code DiffusionFactory}) and {@code sample.py}'s CFG loop ({@code Sampler}).
 * Training draws timesteps uniformly in {@code train.DiffusionTask} ({@code timestep_sampler.py}'s
 * UniformSampler). Later: {@code transport} (SiT) beside it.
 */
package ai.tinyfusion.diffusion;
