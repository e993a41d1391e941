package ai.tinyfusion.cli;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import ai.tinyfusion.io.StateDicts;
import ai.tinyfusion.model.dit.DiT;
import ai.tinyfusion.model.dit.DiTConfig;
import ai.tinyfusion.model.dit.ModelFiles;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import picocli.CommandLine.Option;

/** How a command gets its model: a checkpoint path or a preset name (randomly initialised). */
public final class ModelOptions {
    @Option(
            names = {"-m", "--model"},
            defaultValue = "DiT-F28",
            description = "Checkpoint (.safetensors, .pt, sharded index) or preset name (${DEFAULT-VALUE}); "
                    + "presets: DiT-{XL,L,B,S}/{2,4,8}, DiT-{D19,D14,D7}/2, DiT-F28/F14/F7.")
    String model;

    @Option(
            names = "--heads",
            description = "Attention heads: for checkpoints without a stored config (default: by width, "
                    + "as the original presets), or to override a preset.")
    Integer heads;

    @Option(
            names = "--image-size",
            description = "With a preset: image size in pixels; latent presets use 1/8 of it (256 → 32).")
    Integer imageSize;

    @Option(names = "--num-classes", description = "With a preset: number of classes.")
    Integer numClasses;

    // Not "--depth": prune and study use --depth for the pruning target (the kept layer count).
    @Option(names = "--preset-depth", description = "With a preset: number of transformer blocks.")
    Integer depth;

    @Option(names = "--hidden", description = "With a preset: hidden size.")
    Integer hidden;

    @Option(names = "--patch", description = "With a preset: patch size.")
    Integer patch;

    @Option(names = "--in-channels", description = "With a preset: input channels.")
    Integer inChannels;

    @Option(
            names = "--device",
            defaultValue = "cpu",
            description = "cpu, or gpu / gpu:N with a CUDA libtorch (${DEFAULT-VALUE}).")
    String device;

    @Option(names = "--seed", defaultValue = "0", description = "Seed for random initialisation (${DEFAULT-VALUE}).")
    long seed;

    public Device device() {
        return Device.fromName(device);
    }

    public boolean isFile() {
        return Files.exists(Path.of(model));
    }

    /** The config of the preset (with the size options applied). */
    public DiTConfig presetConfig() {
        DiTConfig c = DiTConfig.preset(model);
        int input = imageSize == null ? c.inputSize() : (c.inChannels() == 4 ? imageSize / 8 : imageSize);
        return new DiTConfig(
                input,
                or(patch, c.patchSize()),
                or(inChannels, c.inChannels()),
                or(hidden, c.hiddenSize()),
                or(depth, c.depth()),
                or(heads, c.numHeads()),
                c.mlpRatio(),
                or(numClasses, c.numClasses()),
                c.learnSigma(),
                c.classDropoutProb());
    }

    private static int or(Integer v, int fallback) {
        return v == null ? fallback : v;
    }

    public DiT load(NDManager manager) {
        if (isFile()) {
            try {
                return ModelFiles.load(Path.of(model), manager, heads);
            } catch (IOException e) {
                throw new UncheckedIOException(e.getMessage(), e);
            }
        }
        ai.djl.engine.Engine.getInstance().setRandomSeed((int) seed);
        return new DiT(manager, presetConfig());
    }

    /** The metadata of the model file (empty for a preset or a file without any, e.g. an official .pt). */
    public Map<String, String> metadata() {
        if (!isFile()) {
            return Map.of();
        }
        try {
            return StateDicts.metadata(Path.of(model));
        } catch (IOException e) {
            throw new UncheckedIOException(e.getMessage(), e);
        }
    }

    public String describe() {
        return isFile() ? Path.of(model).toString() : model + " (random init, seed " + seed + ")";
    }
}
