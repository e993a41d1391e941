package ai.tinyfusion.cli;

import ai.djl.ndarray.NDManager;
import ai.tinyfusion.data.FashionMnist;
import ai.tinyfusion.diffusion.Sampler;
import ai.tinyfusion.eval.ImageGrid;
import ai.tinyfusion.io.DType;
import ai.tinyfusion.io.HostTensor;
import ai.tinyfusion.io.Npz;
import ai.tinyfusion.model.dit.DiT;
import ai.tinyfusion.model.dit.DiTConfig;
import ai.tinyfusion.util.ProgressBars;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import me.tongfei.progressbar.ProgressBar;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code tinyfusion sample}: class-conditional samples as a labelled PNG grid and an ADM-style .npz. */
@Command(
        name = "sample",
        mixinStandardHelpOptions = true,
        description =
                "Sample images from a DiT with DDPM or DDIM and classifier-free guidance; writes a labelled PNG grid "
                        + "and an ADM-compatible .npz (arr_0 uint8 NHWC, arr_1 labels).")
public final class SampleCommand implements Callable<Integer> {
    @Mixin
    ModelOptions model;

    @Option(names = "--method", defaultValue = "ddim", description = "ddpm or ddim (${DEFAULT-VALUE}).")
    String method;

    @Option(names = "--steps", defaultValue = "50", description = "Sampling steps (${DEFAULT-VALUE}).")
    int steps;

    @Option(
            names = "--cfg",
            defaultValue = "1.5",
            description = "Classifier-free guidance scale; 1 = none (${DEFAULT-VALUE}).")
    double cfg;

    @Option(
            names = "--cfg-all-channels",
            description =
                    "Guide every eps channel (the original guides the first 3 only; never the variance channels).")
    boolean cfgAll;

    @Option(names = "--eta", defaultValue = "0", description = "DDIM eta (${DEFAULT-VALUE}).")
    double eta;

    @Option(names = "--labels", split = ",", description = "Class labels to sample (one image each).")
    List<Long> labels;

    @Option(
            names = {"-n", "--num"},
            defaultValue = "100",
            description = "With no --labels: this many images over uniform classes (${DEFAULT-VALUE}).")
    int num;

    @Option(names = "--batch", defaultValue = "100", description = "Images per batch (${DEFAULT-VALUE}).")
    int batch;

    @Option(names = "--sample-seed", defaultValue = "0", description = "Seed of the initial noise (${DEFAULT-VALUE}).")
    int sampleSeed;

    @Option(
            names = "--clip",
            negatable = true,
            description = "Clip predicted x0 to [-1,1] (default: on for pixel models, off for latents).")
    Boolean clip;

    @Option(names = "--out", defaultValue = "samples", description = "Output directory (${DEFAULT-VALUE}).")
    Path out;

    @Option(
            names = "--grid-max",
            defaultValue = "100",
            description = "At most this many images in grid.png (${DEFAULT-VALUE}).")
    int gridMax;

    @Override
    public Integer call() throws Exception {
        try (NDManager manager = NDManager.newBaseManager(model.device())) {
            DiT dit = model.load(manager);
            DiTConfig c = dit.config();
            Sampler.Settings s = new Sampler.Settings(
                    method,
                    steps,
                    cfg,
                    cfgAll ? c.inChannels() : Sampler.Settings.originalGuidedChannels(c),
                    eta,
                    clip != null ? clip : c.inChannels() != 4);
            long[] ys = labels != null
                    ? labels.stream().mapToLong(Long::longValue).toArray()
                    : Sampler.uniformLabels(num, c.numClasses());
            for (long y : ys) {
                if (y < 0 || y >= c.numClasses()) {
                    throw new IllegalArgumentException("label " + y + " is outside 0.." + (c.numClasses() - 1));
                }
            }
            Sampler sampler = new Sampler(dit, s);
            long t0 = System.nanoTime();
            byte[] images;
            try (ProgressBar bar =
                    ProgressBars.builder("sample", ys.length, true).build()) {
                images = sampler.generateUint8(manager, ys, batch, sampleSeed, bar::stepTo);
            }
            double secs = (System.nanoTime() - t0) / 1e9;
            int hw = c.inputSize();
            int ch = c.inChannels();
            Files.createDirectories(out);
            Map<String, HostTensor> npz = new LinkedHashMap<>();
            npz.put("arr_0", HostTensor.ofBytes(DType.U8, images, ys.length, hw, hw, ch));
            npz.put("arr_1", HostTensor.ofLongs(ys, ys.length));
            Npz.write(out.resolve("samples.npz"), npz);
            if (ch == 1 || ch == 3) {
                int g = Math.min(gridMax, ys.length);
                List<String> captions = new ArrayList<>();
                for (int i = 0; i < g; i++) {
                    captions.add(className(c, (int) ys[i]));
                }
                byte[] head = java.util.Arrays.copyOf(images, g * hw * hw * ch);
                ImageGrid.write(out.resolve("grid.png"), head, g, hw, hw, ch, captions, 10, hw < 64 ? 3 : 1);
            }
            System.out.printf(
                    Locale.ROOT,
                    "%d images in %.1f s (%.2f img/s, %s %d steps, cfg %.2f) -> %s%n",
                    ys.length,
                    secs,
                    ys.length / secs,
                    s.method(),
                    steps,
                    cfg,
                    out.toAbsolutePath());
        }
        return 0;
    }

    /** Fashion-MNIST names for 10-class single-channel models, else the number. */
    static String className(DiTConfig c, int y) {
        if (c.numClasses() == 10 && c.inChannels() == 1 && y >= 0 && y < 10) {
            return FashionMnist.CLASS_NAMES.get(y);
        }
        return Integer.toString(y);
    }
}
