/**
 * MAR (LTH14/mar {@code models/mar.py}, {@code models/diffloss.py}): the encoder–decoder transformer over
 * KL-16 VAE tokens and the SimpleMLPAdaLN diffusion head ({@code Mar}), MAR-B/L/H presets and parameter
 * counts from shapes ({@code MarConfig}), training masks (random orders, truncated-normal mask ratio) and
 * checkpoint loading ({@code MarFiles}). The head's diffusion process and the generation loop are in
 * {@code ai.tinyfusion.diffusion.mar}.
 */
package ai.tinyfusion.model.mar;
