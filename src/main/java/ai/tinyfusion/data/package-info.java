/**
 * Training and evaluation data: Fashion-MNIST IDX files, image folders with the ADM center crop
 * (guided-diffusion's {@code center_crop_arr}, PIL resampling), pre-extracted latent folders as written
 * by the original {@code extract_features.py}, and resumable shuffled batching. Bottom layer (uses {@code io}).
 */
package ai.tinyfusion.data;
