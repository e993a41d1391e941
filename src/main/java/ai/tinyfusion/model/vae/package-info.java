/**
 * The KL autoencoder of latent diffusion: the Stable Diffusion VAE ({@code stabilityai/sd-vae-ft-ema},
 * {@code -mse}; diffusers {@code AutoencoderKL}, LDM kl-f8) and MAR's KL-16, for encoding images to
 * latents and decoding latents to images.
 *
 * <pre>{@code
 * AutoencoderKL vae = VaeCheckpoints.load(Path.of("sd-vae-ft-ema"), null, manager);   // folder with config.json
 * AutoencoderKL kl16 = VaeCheckpoints.load(Path.of("kl16.ckpt"), "kl-16", manager);    // ldm layout + preset
 * DiagonalGaussian posterior = vae.encode(images);                 // images (N,3,H,W) in [-1, 1]
 * NDArray latents = vae.toDiffusionLatents(posterior.sample());    // × 0.18215
 * NDArray decoded = vae.decode(vae.fromDiffusionLatents(latents)); // (N,3,H,W), not clamped
 * }</pre>
 *
 * <p>{@link ai.tinyfusion.model.vae.AutoencoderKL} holds the network (state-dict keys are diffusers'),
 * {@link ai.tinyfusion.model.vae.VaeConfig} its shape (diffusers {@code config.json} or presets),
 * {@link ai.tinyfusion.model.vae.VaeCheckpoints} the loaders of both weight layouts and
 * {@link ai.tinyfusion.model.vae.DiagonalGaussian} the posterior, {@link ai.tinyfusion.model.vae.VaeImages} the
 * batch-by-batch conversion between uint8 images and diffusion latents with the original DiT scripts' pixel mapping. Parity with the reference code is
 * tested on fixtures made by {@code tools/fixtures/make_vae_fixtures.py}.
 */
package ai.tinyfusion.model.vae;
