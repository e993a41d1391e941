/**
 * MAR's use of the Gaussian diffusion: the diffusion loss of its per-token head ({@code MarDiffusion}: the
 * cosine 1,000-step process for training, respaced to {@code num_sampling_steps} for sampling, learned σ,
 * temperature, classifier-free guidance) and the masked generation loop ({@code MarSampler}: cosine mask
 * schedule, random order per sample, linear or constant CFG schedule), as LTH14/mar's {@code DiffLoss} and
 * {@code MAR.sample_tokens}. The networks are in {@code ai.tinyfusion.model.mar}.
 */
package ai.tinyfusion.diffusion.mar;
