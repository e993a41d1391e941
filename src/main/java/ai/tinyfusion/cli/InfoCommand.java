package ai.tinyfusion.cli;

import ai.tinyfusion.diffusion.Objective;
import ai.tinyfusion.diffusion.Objectives;
import ai.tinyfusion.io.HostTensor;
import ai.tinyfusion.model.dit.DiTConfig;
import ai.tinyfusion.model.dit.Flops;
import ai.tinyfusion.model.dit.ModelFiles;
import ai.tinyfusion.model.mar.MarConfig;
import ai.tinyfusion.model.mar.MarFiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code tinyfusion info MODEL}: config, depth, parameters and MACs of a checkpoint or preset. */
@Command(
        name = "info",
        mixinStandardHelpOptions = true,
        description = "Show the config, depth, parameter count and MACs per image of a checkpoint or preset.")
public final class InfoCommand implements Callable<Integer> {
    @Parameters(
            index = "0",
            paramLabel = "MODEL",
            description = "Checkpoint path or preset name (DiT presets, or MAR-B, MAR-L, MAR-H).")
    String model;

    @Option(names = "--heads", description = "Attention heads when the checkpoint has no stored config.")
    Integer heads;

    @Option(names = "--keys", description = "Also list every tensor with its shape and dtype.")
    boolean keys;

    /**
     * The objective a file records, or what an unrecorded one means: official DiT and SiT checkpoints have the same
     * keys, so nothing in such a file says which it is.
     */
    static String objectiveLine(Map<String, String> metadata) {
        Objective o;
        try {
            o = Objectives.ofModel(metadata);
        } catch (IllegalArgumentException e) {
            return "unreadable (" + e.getMessage() + ")";
        }
        return o != null
                ? o.summary()
                : "not recorded (an official or older checkpoint: used as ddpm; a SiT checkpoint such as "
                        + "SiT-XL-2-256x256.pt needs --objective sit)";
    }

    @Override
    public Integer call() throws Exception {
        DiTConfig config;
        long params;
        Path path = Path.of(model);
        Map<String, HostTensor> tensors = null;
        if (!Files.exists(path) && MarConfig.isPreset(model)) {
            System.out.println("preset:     " + model);
            return marInfo(MarConfig.preset(model), null);
        }
        if (Files.exists(path)) {
            ModelFiles.Loaded loaded;
            try {
                loaded = ModelFiles.read(path, heads);
            } catch (IOException notDit) {
                MarFiles.Loaded mar;
                try {
                    mar = MarFiles.read(path, heads);
                } catch (IOException notMar) {
                    notDit.addSuppressed(notMar);
                    throw notDit;
                }
                System.out.println("file:       " + path + " (" + mar.tensors().size() + " tensors, MAR)");
                return marInfo(mar.config(), mar.tensors());
            }
            config = loaded.config();
            tensors = loaded.tensors();
            params = tensors.values().stream().mapToLong(HostTensor::numel).sum();
            System.out.println("file:       " + path + " (" + tensors.size() + " tensors)");
            System.out.println("objective:  " + objectiveLine(loaded.metadata()));
            loaded.metadata().forEach((k, v) -> {
                if (!k.equals(ModelFiles.CONFIG_KEY) && !k.equals(Objective.METADATA_KEY)) {
                    System.out.println(
                            "metadata:   " + k + " = " + (v.length() > 200 ? v.substring(0, 200) + "..." : v));
                }
            });
        } else {
            config = DiTConfig.preset(model);
            params = Flops.parameters(config);
            System.out.println("preset:     " + model);
        }
        System.out.println("config:     " + config);
        System.out.println("depth:      " + config.depth());
        System.out.printf(
                Locale.ROOT,
                "parameters: %,d (%,d of them the fixed pos_embed)%n",
                params,
                (long) config.numPatches() * config.hiddenSize());
        System.out.printf(
                Locale.ROOT,
                "MACs/image: %,d (%.3f G)%n",
                Flops.macsPerImage(config),
                Flops.macsPerImage(config) / 1e9);
        printKeys(tensors);
        return 0;
    }

    /** MAR: config, layers and exact parameter counts (from the file's tensors, or from the shapes of a preset). */
    private int marInfo(MarConfig config, Map<String, HostTensor> tensors) {
        long params = tensors == null
                ? config.parameters()
                : tensors.values().stream().mapToLong(HostTensor::numel).sum();
        System.out.println("config:     " + config);
        System.out.println("depth:      " + config.depth() + " transformer blocks (" + config.encoderDepth()
                + " encoder + " + config.decoderDepth() + " decoder)");
        System.out.printf(
                Locale.ROOT,
                "parameters: %,d (%.2fM; diffusion head %,d = %.2fM)%n",
                params,
                params / 1e6,
                config.headParameters(),
                config.headParameters() / 1e6);
        printKeys(tensors);
        return 0;
    }

    private void printKeys(Map<String, HostTensor> tensors) {
        if (keys && tensors != null) {
            tensors.forEach((k, v) -> System.out.printf("  %-50s %-6s %s%n", k, v.dtype(), Arrays.toString(v.shape())));
        }
    }
}
