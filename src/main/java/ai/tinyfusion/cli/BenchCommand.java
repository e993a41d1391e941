package ai.tinyfusion.cli;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDManager;
import ai.tinyfusion.bench.ForwardProfile;
import ai.tinyfusion.bench.InceptionBench;
import ai.tinyfusion.bench.PythonScripts;
import ai.tinyfusion.bench.PytorchCompare;
import ai.tinyfusion.bench.SearchStepBench;
import ai.tinyfusion.bench.SpeedBench;
import ai.tinyfusion.bench.VaeBench;
import ai.tinyfusion.model.dit.DiT;
import ai.tinyfusion.model.dit.Flops;
import ai.tinyfusion.model.dit.LayerSubset;
import ai.tinyfusion.model.inception.FidInceptionV3;
import ai.tinyfusion.model.inception.RandomInceptionWeights;
import ai.tinyfusion.model.vae.AutoencoderKL;
import ai.tinyfusion.model.vae.VaeConfig;
import ai.tinyfusion.prune.DeltaMode;
import ai.tinyfusion.prune.LearnedPruning;
import com.google.gson.JsonObject;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.function.Function;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code tinyfusion bench}: throughput of a model and of its depth-halved version, in one run. */
@Command(
        name = "bench",
        mixinStandardHelpOptions = true,
        description = "Forward, forward+backward and CFG sampling throughput of a model and of the same model "
                + "with every other block (depth halved), measured interleaved in one run; plus a 1024^3 matmul.")
public final class BenchCommand implements Runnable {
    @Mixin
    ModelOptions model;

    @Option(
            names = "--batch",
            split = ",",
            defaultValue = "1,2",
            description = "Batch sizes (default: ${DEFAULT-VALUE}).")
    List<Integer> batches;

    @Option(names = "--iters", defaultValue = "5", description = "Timed iterations per measurement (median reported).")
    int iters;

    @Option(names = "--warmup", defaultValue = "1", description = "Untimed iterations first.")
    int warmup;

    @Option(names = "--no-backward", description = "Skip forward+backward.")
    boolean noBackward;

    @Option(names = "--no-half", description = "Skip the depth-halved model.")
    boolean noHalf;

    @Option(
            names = "--profile",
            description =
                    "Instead: time per op kind of one forward pass and of one CFG denoising call (2 x batch rows) "
                            + "at each --batch, and the roofline of the model's own matmul shapes (timed alone after warm-up, "
                            + "same threads).")
    boolean profile;

    @Option(
            names = "--compare-pytorch",
            paramLabel = "MODELS_PY",
            description =
                    "Instead: time our forward (each --batch) and CFG call (each --cfg-batch) against the original "
                            + "PyTorch DiT (facebookresearch/DiT's models.py, run by tools/bench/dit_forward_bench.py on --python) "
                            + "with the same random weights and thread count, alternating the two sides call by call; prints "
                            + "the ratios (see bench/compare-pytorch.sh).")
    Path comparePytorch;

    @Option(
            names = "--cfg-batch",
            split = ",",
            description = "With --compare-pytorch: images per CFG call (2x rows); none by default.")
    List<Integer> cfgBatches = List.of();

    @Option(
            names = "--compare-rounds",
            defaultValue = "3",
            description = "With --compare-pytorch: alternating pairs per case after --warmup (${DEFAULT-VALUE}).")
    int compareRounds;

    @Option(
            names = "--search",
            paramLabel = "PATTERN",
            description = "Instead: time learnable-pruning search steps under this N:M pattern against plain training "
                    + "steps of the full model at the first --batch (synthetic data, real training loop), and report the "
                    + "ratio and peak RSS.")
    String searchPattern;

    @Option(names = "--delta", description = "With --search: lora, full or none (${DEFAULT-VALUE}).")
    String delta = new LearnedPruning.Options().delta.label();

    @Option(
            names = "--search-only",
            description = "With --search: skip the plain training steps (e.g. for DiT-XL/2 memory).")
    boolean searchOnly;

    @Option(
            names = "--steps",
            defaultValue = "6",
            description = "With --search: steps per run, the first dropped (${DEFAULT-VALUE}).")
    int steps;

    @Option(
            names = "--rounds",
            defaultValue = "2",
            description = "With --search: alternating plain/search rounds (${DEFAULT-VALUE}).")
    int rounds;

    @Option(
            names = "--inception",
            arity = "0..1",
            fallbackValue = "",
            paramLabel = "PATH",
            description =
                    "Instead: images/s of FID Inception-v3 feature extraction (uint8 images resized to 299, pool, "
                            + "sFID and IS features) and peak RSS, next to Debian's PyTorch running the same network in the "
                            + "same run (tools/bench/inception_bench.py). PATH: pytorch-fid weights; without it, the parity "
                            + "fixture's random recipe weights on both sides.")
    String inception;

    @Option(
            names = "--inception-batch",
            defaultValue = "50",
            description = "With --inception: images per batch (${DEFAULT-VALUE}).")
    int inceptionBatch;

    @Option(
            names = "--inception-size",
            defaultValue = "256",
            description = "With --inception: side of the square input images, resized to 299 (${DEFAULT-VALUE}).")
    int inceptionSize;

    @Option(
            names = "--python",
            defaultValue = "/usr/bin/python3",
            description = "With --inception: the Python with torch and torchvision (${DEFAULT-VALUE}).")
    Path python;

    @Option(
            names = "--pytorch-fid",
            paramLabel = "DIR",
            description = "With --inception: a checkout or bare git mirror of mseitzer/pytorch-fid, whose "
                    + "inception.py the Python side runs; without it, torchvision's Inception3 with the same weights.")
    Path pytorchFid;

    @Option(names = "--no-python", description = "With --inception or --vae: time the Java side only.")
    boolean noPython;

    @Option(
            names = "--vae",
            description =
                    "Instead: encode and decode images/s of the Stable Diffusion VAE (sd-vae-ft-ema shape, random "
                            + "weights) at --vae-size, next to Debian's PyTorch running latent-diffusion's Encoder/Decoder in "
                            + "the same run (tools/bench/vae_bench.py; needs --ldm-model).")
    boolean vaeBench;

    @Option(names = "--vae-size", defaultValue = "256", description = "With --vae: image side (${DEFAULT-VALUE}).")
    int vaeSize;

    @Option(names = "--vae-batch", defaultValue = "1", description = "With --vae: images per call (${DEFAULT-VALUE}).")
    int vaeBatch;

    @Option(
            names = "--ldm-model",
            paramLabel = "FILE",
            description = "With --vae: latent-diffusion's ldm/modules/diffusionmodules/model.py for the PyTorch side.")
    Path ldmModel;

    @Override
    public void run() {
        if (inception != null) {
            inceptionBench();
            return;
        }
        if (vaeBench) {
            vaeBench();
            return;
        }
        if (searchPattern != null) {
            searchBench();
            return;
        }
        if (profile) {
            profileBench();
            return;
        }
        if (comparePytorch != null) {
            compareBench();
            return;
        }
        Device device = model.device();
        Engine.getInstance().setRandomSeed(0);
        try (NDManager manager = NDManager.newBaseManager(device)) {
            DiT full = model.load(manager);
            DiT half = noHalf ? null : LayerSubset.keep(full, LayerSubset.everyOther(full.depth()), manager);
            System.out.printf(
                    Locale.ROOT,
                    "model: %s%n  %s%n  parameters %,d, %.2f GMACs/image; device %s, %s threads%n",
                    model.describe(),
                    full.config(),
                    full.parameterCount(),
                    Flops.macsPerImage(full.config()) / 1e9,
                    device,
                    System.getProperty("ai.djl.pytorch.num_threads"));
            double mm = SpeedBench.matmulGflops(manager, 1024, 5);
            System.out.printf(Locale.ROOT, "matmul 1024^3: %.1f GFLOP/s%n", mm);
            SpeedBench.Plan plan = new SpeedBench.Plan(warmup, iters, !noBackward, true);
            System.out.printf(
                    Locale.ROOT,
                    "%-7s %5s %6s %12s %12s %12s %10s %9s%n",
                    "model",
                    "depth",
                    "batch",
                    "fwd img/s",
                    "train img/s",
                    "cfg steps/s",
                    "fwd GFLOP/s",
                    "% matmul");
            for (int b : batches) {
                SpeedBench.Timing tf = SpeedBench.measure(full, b, plan);
                print("full", full, tf, mm);
                if (half != null) {
                    SpeedBench.Timing th = SpeedBench.measure(half, b, plan);
                    print("half", half, th, mm);
                    System.out.printf(
                            Locale.ROOT,
                            "  speedup %d→%d at batch %d: forward %.2fx, train %.2fx, cfg sampling %.2fx%n",
                            full.depth(),
                            half.depth(),
                            b,
                            tf.forwardSec() / th.forwardSec(),
                            tf.trainSec() / th.trainSec(),
                            tf.cfgStepSec() / th.cfgStepSec());
                }
            }
            System.out.printf(
                    Locale.ROOT,
                    "peak RSS %.2f GiB%n",
                    ai.tinyfusion.util.ProcessStats.peakRssBytes() / (double) (1L << 30));
        }
    }

    private void compareBench() {
        if (!Files.isRegularFile(comparePytorch)) {
            throw new IllegalArgumentException(
                    "--compare-pytorch: no such file " + comparePytorch + " (facebookresearch/DiT's models.py)");
        }
        Path script = benchScript("dit_forward_bench.py");
        if (script == null) {
            throw new IllegalArgumentException("tools/bench/dit_forward_bench.py not found (set -Dtinyfusion.home)");
        }
        Engine.getInstance().setRandomSeed(0);
        int threads = ai.djl.pytorch.jni.JniUtils.getNumThreads();
        try (NDManager manager = NDManager.newBaseManager(model.device())) {
            DiT m = model.load(manager);
            try (PytorchCompare cmp = new PytorchCompare(m, python, script, comparePytorch, 0, threads)) {
                System.out.printf(
                        Locale.ROOT,
                        "model: %s, %,d parameters, same N(0, 0.02) weights on both sides; %d threads each%n"
                                + "PyTorch side: %s%n",
                        model.describe(),
                        m.parameterCount(),
                        threads,
                        cmp.ready());
                double probe = cmp.probe(2);
                System.out.printf(
                        Locale.ROOT, "probe forward (2 rows): largest difference %.2e of the mean |output|%n", probe);
                if (!(probe < 1e-3)) {
                    throw new IllegalStateException(
                            "the two sides do not compute the same model (difference " + probe + ")");
                }
                List<PytorchCompare.Result> results = new java.util.ArrayList<>();
                for (int b : batches) {
                    results.add(cmp.measure(new PytorchCompare.Case(false, b), warmup, compareRounds));
                    System.out.print(PytorchCompare.table(results.subList(results.size() - 1, results.size())));
                }
                for (int b : cfgBatches) {
                    results.add(cmp.measure(new PytorchCompare.Case(true, b), warmup, compareRounds));
                    System.out.print(PytorchCompare.table(results.subList(results.size() - 1, results.size())));
                }
                System.out.printf(
                        Locale.ROOT, "%d warm-up + %d alternating calls per case, medians:%n", warmup, compareRounds);
                System.out.print(PytorchCompare.table(results));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private void profileBench() {
        Engine.getInstance().setRandomSeed(0);
        try (NDManager manager = NDManager.newBaseManager(model.device())) {
            DiT m = model.load(manager);
            System.out.printf(
                    Locale.ROOT,
                    "model: %s, depth %d, %s intra-op threads; %d warm-up + %d profiled calls%n",
                    model.describe(),
                    m.depth(),
                    System.getProperty("ai.djl.pytorch.num_threads", "default"),
                    warmup,
                    iters);
            for (int b : batches) {
                ForwardProfile.Profile fwd = ForwardProfile.profile(m, b, false, warmup, iters);
                System.out.print(fwd.table());
                System.out.print(ForwardProfile.roofline(manager, m.config(), m.depth(), b, Math.max(1, warmup), iters)
                        .table(fwd.totalSec()));
                ForwardProfile.Profile cfg = ForwardProfile.profile(m, b, true, warmup, iters);
                System.out.print(cfg.table());
                System.out.print(
                        ForwardProfile.roofline(manager, m.config(), m.depth(), 2 * b, Math.max(1, warmup), iters)
                                .table(cfg.totalSec()));
            }
            System.out.printf(
                    Locale.ROOT,
                    "peak RSS %.2f GiB%n",
                    ai.tinyfusion.util.ProcessStats.peakRssBytes() / (double) (1L << 30));
        }
    }

    private void searchBench() {
        int batch = batches.get(0);
        LearnedPruning.Options o = new LearnedPruning.Options()
                .pattern(searchPattern)
                .delta(DeltaMode.parse(delta))
                .seed(model.seed);
        Function<NDManager, DiT> factory = m -> model.load(m);
        try {
            Path work = Files.createTempDirectory("tinyfusion-bench");
            try {
                System.out.printf(
                        Locale.ROOT,
                        "model %s, batch %d, pattern %s, delta %s: %d rounds of %d steps%n",
                        model.describe(),
                        batch,
                        searchPattern,
                        delta,
                        rounds,
                        steps);
                SearchStepBench.Result r = SearchStepBench.run(factory, batch, o, steps, rounds, !searchOnly, work);
                if (!searchOnly) {
                    System.out.printf(
                            Locale.ROOT,
                            "plain training step %.3f s, search step %.3f s: ratio %.3f%n",
                            r.trainSec(),
                            r.searchSec(),
                            r.ratio());
                } else {
                    System.out.printf(Locale.ROOT, "search step %.3f s%n", r.searchSec());
                }
                System.out.printf(Locale.ROOT, "peak RSS %.2f GiB%n", r.peakRssBytes() / (double) (1L << 30));
            } finally {
                try (var files = Files.walk(work)) {
                    files.sorted(java.util.Comparator.reverseOrder())
                            .forEach(p -> p.toFile().delete());
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** {@code --vae}: the VAE's encode / decode speed here and on Debian's PyTorch, alternating Java, Python, Java. */
    private void vaeBench() {
        if (vaeBatch <= 0 || vaeSize <= 0 || iters <= 0 || warmup < 0) {
            throw new IllegalArgumentException("--vae-batch, --vae-size and --iters must be positive");
        }
        int threads = Integer.parseInt(System.getProperty(
                "ai.djl.pytorch.num_threads",
                Integer.toString(Runtime.getRuntime().availableProcessors())));
        try (NDManager manager = NDManager.newBaseManager()) {
            AutoencoderKL vae = AutoencoderKL.random(manager, VaeConfig.preset("sd-vae-ft-ema"), 0);
            VaeBench.Times first = VaeBench.time(vae, manager, vaeBatch, vaeSize, warmup, iters);
            JsonObject py = null;
            if (noPython || ldmModel == null) {
                System.out.println("PyTorch side skipped: " + (noPython ? "--no-python" : "no --ldm-model given"));
            } else {
                Path script = benchScript("vae_bench.py");
                if (script == null || !Files.isExecutable(python)) {
                    System.out.println("PyTorch side skipped: no " + python + " or tools/bench/vae_bench.py");
                } else {
                    py = PythonScripts.lastJson(
                            List.of(
                                    python.toString(),
                                    script.toString(),
                                    "--ldm-model",
                                    ldmModel.toString(),
                                    "--batch",
                                    Integer.toString(vaeBatch),
                                    "--size",
                                    Integer.toString(vaeSize),
                                    "--iters",
                                    Integer.toString(iters),
                                    "--warmup",
                                    Integer.toString(warmup),
                                    "--threads",
                                    Integer.toString(threads)),
                            7200);
                }
            }
            VaeBench.Times second = py == null ? null : VaeBench.time(vae, manager, vaeBatch, vaeSize, 0, iters);
            double enc = vaeBatch / SpeedBench.median(concat(first.encode(), second == null ? null : second.encode()));
            double dec = vaeBatch / SpeedBench.median(concat(first.decode(), second == null ? null : second.decode()));
            System.out.printf(
                    Locale.ROOT,
                    "SD VAE (kl-f8, random weights), batch %d of %dx%d, %d threads%n%-34s %10s %10s %14s%n"
                            + "%-34s %10.3f %10.3f %14.2f%n",
                    vaeBatch,
                    vaeSize,
                    vaeSize,
                    threads,
                    "side",
                    "encode/s",
                    "decode/s",
                    "peak RSS GiB",
                    "Java (DJL 0.36, libtorch 2.7.1)",
                    enc,
                    dec,
                    ai.tinyfusion.util.ProcessStats.peakRssBytes() / (double) (1L << 30));
            if (py != null) {
                double pe = py.get("encode_images_per_sec").getAsDouble();
                double pd = py.get("decode_images_per_sec").getAsDouble();
                System.out.printf(
                        Locale.ROOT,
                        "%-34s %10.3f %10.3f %14.2f%nratio Java / PyTorch: encode %.2f, decode %.2f%n",
                        "PyTorch " + py.get("torch").getAsString() + " (Debian)",
                        pe,
                        pd,
                        py.get("peak_rss_bytes").getAsLong() / (double) (1L << 30),
                        enc / pe,
                        dec / pd);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    private static double[] concat(double[] a, double[] b) {
        return b == null
                ? a
                : java.util.stream.DoubleStream.concat(java.util.Arrays.stream(a), java.util.Arrays.stream(b))
                        .toArray();
    }

    private void inceptionBench() {
        if (inceptionBatch <= 0 || inceptionSize <= 0 || iters <= 0 || warmup < 0) {
            throw new IllegalArgumentException("--inception-batch, --inception-size and --iters must be positive");
        }
        boolean random = inception.isEmpty();
        int threads = Integer.parseInt(System.getProperty(
                "ai.djl.pytorch.num_threads",
                Integer.toString(Runtime.getRuntime().availableProcessors())));
        int probe = 2;
        try (NDManager manager = NDManager.newBaseManager()) {
            FidInceptionV3 net =
                    random ? RandomInceptionWeights.network(manager) : FidInceptionV3.load(Path.of(inception), manager);
            String weights = random ? "random recipe weights (no weights file given)" : inception;
            System.out.printf(
                    Locale.ROOT,
                    "FID Inception-v3 feature extraction, weights: %s%n  batch %d of uint8 %dx%dx3 images (resized to "
                            + "299), %d warm-up + %d timed batches, %d threads%n",
                    weights,
                    inceptionBatch,
                    inceptionSize,
                    inceptionSize,
                    warmup,
                    iters,
                    threads);
            float[] javaProbe = InceptionBench.probe(net, probe, inceptionSize);
            double[] first = InceptionBench.time(net, inceptionBatch, inceptionSize, warmup, iters);
            long javaRss = ai.tinyfusion.util.ProcessStats.peakRssBytes();
            InceptionBench.PythonResult py = noPython ? null : runPython(random, threads, probe);
            double[] second =
                    py == null ? new double[0] : InceptionBench.time(net, inceptionBatch, inceptionSize, 0, iters);
            double[] all = java.util.stream.DoubleStream.concat(
                            java.util.Arrays.stream(first), java.util.Arrays.stream(second))
                    .toArray();
            double javaIps = inceptionBatch / SpeedBench.median(all);
            javaRss = Math.max(javaRss, ai.tinyfusion.util.ProcessStats.peakRssBytes());
            System.out.printf(
                    Locale.ROOT,
                    "%-34s %10s %14s%n%-34s %10.3f %14.2f%n",
                    "side",
                    "images/s",
                    "peak RSS GiB",
                    "Java (DJL 0.36, libtorch 2.7.1)",
                    javaIps,
                    javaRss / (double) (1L << 30));
            System.out.printf(
                    Locale.ROOT,
                    "  Java seconds per batch: %s%n",
                    java.util.Arrays.toString(java.util.Arrays.stream(all)
                            .map(v -> Math.round(v * 1000) / 1000.0)
                            .toArray()));
            if (py != null) {
                System.out.printf(
                        Locale.ROOT,
                        "%-34s %10.3f %14.2f%n  Python seconds per batch: %s; network: %s; %d threads%n",
                        "PyTorch " + py.torch() + " (Debian)",
                        py.imagesPerSec(),
                        py.peakRssBytes() / (double) (1L << 30),
                        java.util.Arrays.toString(py.seconds()),
                        py.network(),
                        py.threads());
                double maxDiff = 0;
                for (int i = 0; i < Math.min(javaProbe.length, py.probePool().length); i++) {
                    maxDiff = Math.max(maxDiff, Math.abs(javaProbe[i] - py.probePool()[i]));
                }
                System.out.printf(
                        Locale.ROOT,
                        "ratio Java / PyTorch images/s: %.2f; same network: pool features of %d probe images differ "
                                + "by at most %.2e%n",
                        javaIps / py.imagesPerSec(),
                        probe,
                        maxDiff);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The Python side, or null (with a message saying why) when it cannot run here. */
    private InceptionBench.PythonResult runPython(boolean random, int threads, int probe) {
        Path script = benchScript();
        if (!Files.isExecutable(python)) {
            System.out.println("PyTorch side skipped: no Python at " + python + " (--python)");
            return null;
        }
        if (script == null) {
            System.out.println("PyTorch side skipped: tools/bench/inception_bench.py not found (run from the checkout "
                    + "or set -Dtinyfusion.home)");
            return null;
        }
        try {
            Process check = new ProcessBuilder(python.toString(), "-c", "import torch, torchvision")
                    .redirectErrorStream(true)
                    .start();
            String out = new String(check.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
            if (check.waitFor() != 0) {
                System.out.println("PyTorch side skipped: " + python + " cannot import torch and torchvision ("
                        + out.strip().lines().reduce((a, b) -> b).orElse("") + ")");
                return null;
            }
            List<String> extra = new java.util.ArrayList<>();
            if (pytorchFid != null) {
                extra.addAll(List.of("--pytorch-fid", pytorchFid.toString()));
            }
            if (!random) {
                if (!inception.endsWith(".pt") && !inception.endsWith(".pth")) {
                    System.out.println(
                            "PyTorch side skipped: it reads torch.save weights (.pt/.pth), not " + inception);
                    return null;
                }
                extra.addAll(List.of("--weights", inception));
            }
            return InceptionBench.runPython(
                    python, script, inceptionBatch, inceptionSize, warmup, iters, threads, probe, extra, 3600);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private static Path benchScript() {
        return benchScript("inception_bench.py");
    }

    /** tools/bench/{@code name} of the checkout ({@code tinyfusion.home}, else the working directory), or null. */
    private static Path benchScript(String name) {
        String home = System.getProperty("tinyfusion.home");
        Path base =
                home != null && !home.isBlank() ? Path.of(home) : Path.of("").toAbsolutePath();
        Path p = base.resolve("tools/bench/" + name);
        return Files.isRegularFile(p) ? p : null;
    }

    private static void print(String name, DiT m, SpeedBench.Timing t, double matmulGflops) {
        double gflops = 2.0 * Flops.macsPerImage(m.config()) * t.forwardImagesPerSec() / 1e9;
        System.out.printf(
                Locale.ROOT,
                "%-7s %5d %6d %12.3f %12.3f %12.3f %10.1f %8.0f%%%n",
                name,
                m.depth(),
                t.batch(),
                t.forwardImagesPerSec(),
                t.trainImagesPerSec(),
                t.cfgStepsPerSec(),
                gflops,
                100 * gflops / matmulGflops);
    }
}
