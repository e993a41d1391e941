package ai.tinyfusion.cli;

import ai.djl.ndarray.NDManager;
import ai.tinyfusion.model.vae.AutoencoderKL;
import ai.tinyfusion.model.vae.VaeCheckpoints;
import ai.tinyfusion.model.vae.VaeConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import picocli.CommandLine.Option;

/**
 * How a command gets its VAE. The rule: {@code --vae} names weights (a diffusers folder, {@code .safetensors},
 * {@code .bin}, an ldm {@code .ckpt}/{@code .pth}); their shape comes from the {@code config.json} beside them, else
 * from {@code --vae-config PRESET}. A bare preset name in {@code --vae} is refused unless {@code --random-weights}
 * is given, which builds that preset with random weights (for tests and timing only).
 */
public final class VaeOptions {
    @Option(
            names = "--vae",
            paramLabel = "PATH|PRESET",
            description = "VAE weights: a diffusers folder (config.json + diffusion_pytorch_model.*), .safetensors, "
                    + ".bin, or an ldm .ckpt/.pth; a preset name (sd-vae-ft-ema, sd-vae-ft-mse, kl-f8, kl-16) only "
                    + "with --random-weights.")
    String vae;

    @Option(
            names = "--vae-config",
            paramLabel = "PRESET",
            description = "The VAE's shape when its weights come without a diffusers config.json "
                    + "(sd-vae-ft-ema, sd-vae-ft-mse, kl-f8, kl-16); a config.json beside the weights wins.")
    String vaeConfig;

    @Option(
            names = "--random-weights",
            description = "With a preset name in --vae: random weights (seeded by --vae-seed), no checkpoint.")
    boolean randomWeights;

    @Option(names = "--vae-seed", defaultValue = "0", description = "Seed of --random-weights (${DEFAULT-VALUE}).")
    long vaeSeed;

    @Option(
            names = "--scale",
            description = "Latent scale: latents = (z - shift)·scale, decode(latents/scale + shift) "
                    + "(default: the config's scaling_factor; 0.18215 for the SD presets, 0.2325 for kl-16).")
    Double scale;

    /** Whether a VAE was named. */
    public boolean present() {
        return vae != null;
    }

    /** The VAE as the options name it (for run manifests): weights or preset, config, scale. */
    public String describe() {
        return vae
                + (randomWeights ? " (random weights, seed " + vaeSeed + ")" : "")
                + (vaeConfig != null ? ", config " + vaeConfig : "")
                + (scale != null ? ", scale " + scale : "");
    }

    /** The latent scale: {@code --scale}, else the config's scaling factor. */
    public double scale(AutoencoderKL model) {
        return scale != null ? scale : model.config().scalingFactor();
    }

    /** Loads the VAE by the rule above. */
    public AutoencoderKL load(NDManager manager) throws IOException {
        if (vae == null) {
            throw new IllegalArgumentException("no VAE: give --vae PATH");
        }
        boolean isPreset = VaeConfig.presets().containsKey(vae.toLowerCase(Locale.ROOT));
        if (randomWeights) {
            if (!isPreset) {
                throw new IllegalArgumentException("--random-weights takes a preset name in --vae, one of "
                        + VaeConfig.presets().keySet() + "; got '" + vae + "'");
            }
            return AutoencoderKL.random(manager, VaeConfig.preset(vae), vaeSeed);
        }
        if (!Files.exists(Path.of(vae))) {
            if (isPreset) {
                throw new IllegalArgumentException("--vae " + vae + " is a preset name, not weights: give the "
                        + "weights' path (with --vae-config " + vae + " if they lack config.json), or add "
                        + "--random-weights for an untrained VAE of that shape");
            }
            throw new IOException("VAE weights not found: " + vae);
        }
        return VaeCheckpoints.load(Path.of(vae), vaeConfig, manager);
    }
}
