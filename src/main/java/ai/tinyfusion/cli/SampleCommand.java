package ai.tinyfusion.cli;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.tinyfusion.data.FashionMnist;
import ai.tinyfusion.diffusion.DdpmObjective;
import ai.tinyfusion.diffusion.Objective;
import ai.tinyfusion.diffusion.Sampler;
import ai.tinyfusion.diffusion.ShardedGeneration;
import ai.tinyfusion.diffusion.transport.OdeSampler;
import ai.tinyfusion.diffusion.transport.TransportObjective;
import ai.tinyfusion.eval.ImageGrid;
import ai.tinyfusion.io.DType;
import ai.tinyfusion.io.FileHashes;
import ai.tinyfusion.io.HostTensor;
import ai.tinyfusion.io.Npy;
import ai.tinyfusion.io.Npz;
import ai.tinyfusion.model.dit.DiT;
import ai.tinyfusion.model.dit.DiTConfig;
import ai.tinyfusion.model.vae.AutoencoderKL;
import ai.tinyfusion.model.vae.VaeImages;
import ai.tinyfusion.util.ProgressBars;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.function.Function;
import me.tongfei.progressbar.ProgressBar;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code tinyfusion sample}: class-conditional samples as a labelled PNG grid and an ADM-style .npz. */
@Command(
        name = "sample",
        mixinStandardHelpOptions = true,
        description = "Sample images from a DiT with DDPM or DDIM (--objective ddpm) or SiT's ODE / SDE samplers "
                + "(--objective sit; the objective defaults to the one the model file records) and "
                + "classifier-free guidance; writes a labelled PNG grid "
                + "and an ADM-compatible .npz (arr_0 uint8 NHWC, arr_1 labels). Latent models need --vae "
                + "(decoded as DiT's sample_ddp.py) or --latents-only (latents.npy float32 N×C×h×w, "
                + "labels.npy).")
public final class SampleCommand implements Callable<Integer> {
    @Mixin
    ModelOptions model;

    @Mixin
    VaeOptions vae;

    @Option(
            names = "--latents-only",
            description = "Latent models without --vae: write the sampled latents (latents.npy, float32) and "
                    + "labels.npy instead of images.")
    boolean latentsOnly;

    @Option(
            names = "--decode-batch",
            defaultValue = "8",
            description = "With --vae: images decoded at a time within a sampling batch (${DEFAULT-VALUE}).")
    int decodeBatch;

    @Mixin
    ObjectiveOptions objectiveOptions;

    @Mixin
    SitSamplingOptions sit;

    @Option(
            names = "--method",
            description = "DDPM objective: ddpm or ddim (default " + Sampler.Settings.DEFAULT_METHOD + ").")
    String method;

    @Option(
            names = "--steps",
            description = "Sampling steps (default: " + Sampler.Settings.DEFAULT_STEPS + " for ddpm/ddim, SiT's "
                    + OdeSampler.DEFAULT_STEPS + " ODE/SDE grid points for sit).")
    Integer steps;

    @Option(
            names = "--cfg",
            defaultValue = "" + Sampler.Settings.DEFAULT_CFG,
            description = "Classifier-free guidance scale; 1 = none (${DEFAULT-VALUE}).")
    double cfg;

    @Option(
            names = "--cfg-all-channels",
            description =
                    "Guide every eps channel (the original guides the first 3 only; never the variance channels).")
    boolean cfgAll;

    @Option(names = "--eta", description = "DDIM eta (default " + Sampler.Settings.DEFAULT_ETA + ").")
    Double eta;

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
            names = "--shard-size",
            defaultValue = "0",
            description = "Write the images to <out>/shards/ this many at a time, each shard atomically; running the "
                    + "same command again resumes at the first missing shard. Noise is drawn per image index (not "
                    + "per batch), so the result does not depend on --batch or on interruptions. The shards are "
                    + "merged into the usual outputs at the end. 0 = off (${DEFAULT-VALUE}).")
    int shardSize;

    @Option(names = "--keep-shards", description = "Keep <out>/shards/ after merging them.")
    boolean keepShards;

    @Option(
            names = "--protocol",
            paramLabel = "paper",
            description = "paper: the original's FID-50K sampling (DDPM, 250 steps, CFG 1.5, 50 images per class, "
                    + "so 50,000 for ImageNet, shards of 1,000) for every one of these options not given explicitly.")
    String protocol;

    @Spec
    CommandSpec spec;

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
            Objective objective = objectiveOptions.resolve(model.metadata(), model.describe(), false);
            applyProtocol(c, objective);
            Sampler.Method sampling = sampling(objective, c);
            long[] ys = labels(c);
            Output output = output(manager, dit);
            Sampler sampler = new Sampler(dit, sampling);
            if (shardSize > 0) {
                sharded(manager, c, objective, sampler, ys, output);
                return 0;
            }
            long t0 = System.nanoTime();
            byte[] images;
            try (ProgressBar bar =
                    ProgressBars.builder("sample", ys.length, true).build()) {
                images = sampler.generate(manager, ys, batch, sampleSeed, output.toBytes(), bar::stepTo);
            }
            double secs = (System.nanoTime() - t0) / 1e9;
            Files.createDirectories(out);
            if (output.latents()) {
                int hw = c.inputSize();
                Npy.write(
                        out.resolve("latents.npy"),
                        HostTensor.ofBytes(DType.F32, images, ys.length, c.inChannels(), hw, hw));
                Npy.write(out.resolve("labels.npy"), HostTensor.ofLongs(ys, ys.length));
            } else {
                writeImages(c, ys, images, output.size(), output.channels());
            }
            System.out.printf(
                    Locale.ROOT,
                    "%d images in %.1f s (%.2f img/s, %s: %s) -> %s%n",
                    ys.length,
                    secs,
                    ys.length / secs,
                    objective.name(),
                    sampling.describe(),
                    out.toAbsolutePath());
        }
        return 0;
    }

    /** The labels to sample: --labels, or -n over uniform classes; checked against the model's classes. */
    private long[] labels(DiTConfig c) {
        long[] ys = labels != null
                ? labels.stream().mapToLong(Long::longValue).toArray()
                : Sampler.uniformLabels(num, c.numClasses());
        for (long y : ys) {
            if (y < 0 || y >= c.numClasses()) {
                throw new IllegalArgumentException("label " + y + " is outside 0.." + (c.numClasses() - 1));
            }
        }
        return ys;
    }

    /**
     * {@code --protocol paper}: the original's FID-50K settings for every option the user did not give (DDPM for the
     * DDPM objective; SiT models keep their --sampler, whose defaults are SiT's sample.py ones).
     */
    private void applyProtocol(DiTConfig c, Objective objective) {
        if (protocol == null) {
            return;
        }
        if (!protocol.equalsIgnoreCase("paper")) {
            throw new IllegalArgumentException("unknown --protocol '" + protocol + "' (paper)");
        }
        var parsed = spec.commandLine().getParseResult();
        if (!parsed.hasMatchedOption("--method") && !(objective instanceof TransportObjective)) {
            method = "ddpm";
        }
        if (!parsed.hasMatchedOption("--steps")) {
            steps = 250;
        }
        if (!parsed.hasMatchedOption("--cfg")) {
            cfg = 1.5;
        }
        if (!parsed.hasMatchedOption("-n") && labels == null) {
            num = 50 * c.numClasses();
        }
        if (!parsed.hasMatchedOption("--shard-size")) {
            shardSize = 1000;
        }
    }

    /**
     * {@code --shard-size}: generates into {@code <out>/shards/} (resuming a killed run), then merges the shards into
     * the usual outputs, holding one shard in memory at a time.
     */
    private void sharded(NDManager manager, DiTConfig c, Objective objective, Sampler sampler, long[] ys, Output output)
            throws IOException {
        Sharded run = new Sharded(manager, c, objective, sampler, ys, output);
        if (run.finished()) {
            System.out.printf(Locale.ROOT, "%s exists and the shards were merged: nothing to do%n", run.merged());
            return;
        }
        long done = run.generation().done();
        long t0 = System.nanoTime();
        try (ProgressBar bar = ProgressBars.builder("sample", ys.length, true)
                .startsFrom(done, Duration.ZERO)
                .build()) {
            run.generation().run(run::sample, bar::stepTo);
        }
        double secs = (System.nanoTime() - t0) / 1e9;
        run.merge();
        System.out.printf(
                Locale.ROOT,
                "%d images (%d generated now in %.1f s, %s) in %d shards -> %s%n",
                ys.length,
                ys.length - done,
                secs,
                run.describe(),
                run.generation().shards(),
                run.merged().toAbsolutePath());
    }

    /**
     * Parses {@code tinyfusion sample} arguments (without the command's name) for a job that runs the command's
     * sharded generation in pieces, e.g. one shard per task on a cluster; the options mean what they mean here.
     */
    public static SampleCommand parse(String... args) {
        SampleCommand command = new SampleCommand();
        new picocli.CommandLine(command).parseArgs(args);
        return command;
    }

    /** The device the model runs on ({@code --device}): give {@link #sharded} a manager on it. */
    public ai.djl.Device device() {
        return model.device();
    }

    /**
     * Reads the model file and the VAE weights (if any) from the paths {@code localize} maps their arguments to, e.g.
     * local copies of remote files. The arguments as given stay the run's description in its manifest, so every
     * process that localizes describes the run alike.
     */
    public void localize(java.util.function.UnaryOperator<String> localize) {
        String m = localize.apply(model.model);
        if (!m.equals(model.model)) {
            modelName = model.model;
            model.model = m;
        }
        if (vae.present() && !vae.randomWeights) {
            String v = localize.apply(vae.vae);
            if (!v.equals(vae.vae)) {
                vaeName = vae.describe();
                vae.vae = v;
            }
        }
    }

    private String modelName;
    private String vaeName;

    /**
     * The sharded run these options describe (needs {@code --shard-size}), with the model loaded into {@code manager}:
     * what a distributed driver and its tasks share. Not for concurrent use: one per thread.
     */
    public Sharded sharded(NDManager manager) throws IOException {
        DiT dit = model.load(manager);
        DiTConfig c = dit.config();
        Objective objective = objectiveOptions.resolve(model.metadata(), model.describe(), false);
        applyProtocol(c, objective);
        if (shardSize <= 0) {
            throw new IllegalArgumentException("sharded generation needs --shard-size N (or --protocol paper)");
        }
        long[] ys = labels(c);
        return new Sharded(manager, c, objective, new Sampler(dit, sampling(objective, c)), ys, output(manager, dit));
    }

    /**
     * A sharded generation run of this command: {@link #sample} makes any shard's items, {@link #merge} writes the
     * usual outputs from the finished shards.
     */
    public final class Sharded {
        private final NDManager manager;
        private final DiTConfig c;
        private final Objective objective;
        private final Sampler sampler;
        private final long[] ys;
        private final Output output;
        private final ShardedGeneration run;

        private Sharded(NDManager manager, DiTConfig c, Objective objective, Sampler sampler, long[] ys, Output output)
                throws IOException {
            this.manager = manager;
            this.c = c;
            this.objective = objective;
            this.sampler = sampler;
            this.ys = ys;
            this.output = output;
            boolean latents = output.latents();
            int hw = c.inputSize();
            long[] item = latents
                    ? new long[] {c.inChannels(), hw, hw}
                    : new long[] {output.size(), output.size(), output.channels()};
            TreeMap<String, String> settings = new TreeMap<>();
            settings.put("model", modelName != null ? modelName : model.describe());
            settings.put("model_config", c.toString());
            if (model.isFile()) {
                settings.put("model_sha256", FileHashes.sha256(Path.of(model.model)));
            }
            settings.put("vae", vae.present() ? (vaeName != null ? vaeName : vae.describe()) : "none");
            settings.put("objective", objective.summary());
            settings.put(
                    "sampler",
                    objective instanceof TransportObjective
                            ? sampler.method().describe()
                            : ddpmSettings(c).toString());
            settings.put("seed", Integer.toString(sampleSeed));
            settings.put("noise", "per index (IndexedNoise)");
            settings.put("output", latents ? "latents" : "images");
            run = new ShardedGeneration(
                    out.resolve("shards"), ys, shardSize, latents ? DType.F32 : DType.U8, item, settings);
        }

        /** The shards and their files. */
        public ShardedGeneration generation() {
            return run;
        }

        /** Items {@code first ..} with {@code labels}: a {@link ShardedGeneration.ShardSampler}. */
        public byte[] sample(long first, long[] labels, java.util.function.IntConsumer onItems) {
            return sampler.generateIndexed(manager, labels, first, batch, sampleSeed, output.toBytes(), onItems);
        }

        /** The merged file: samples.npz, or latents.npy with --latents-only. */
        public Path merged() {
            return out.resolve(output.latents() ? "latents.npy" : "samples.npz");
        }

        /** Whether an earlier run merged and deleted the shards already. */
        public boolean finished() throws IOException {
            return Files.exists(merged()) && run.done() == 0;
        }

        /**
         * Merges the finished shards into the usual outputs (samples.npz and grid.png, or latents.npy and labels.npy)
         * and deletes them unless {@code --keep-shards}.
         */
        public void merge() throws IOException {
            if (output.latents()) {
                run.mergeNpy(merged());
                Npy.write(out.resolve("labels.npy"), HostTensor.ofLongs(ys, ys.length));
            } else {
                run.mergeNpz(merged());
                int g = Math.min(gridMax, ys.length);
                writeGrid(c, ys, run.head(g), g, output.size(), output.channels());
            }
            if (!keepShards) {
                run.deleteShards();
            }
        }

        /** The objective and sampler, for messages. */
        public String describe() {
            return objective.name() + ": " + sampler.method().describe();
        }
    }

    /** The objective's sampling method from the options; options of the other objective are an error. */
    Sampler.Method sampling(Objective objective, DiTConfig c) {
        if (objective instanceof TransportObjective t) {
            if (method != null || eta != null || clip != null || cfgAll) {
                throw new IllegalArgumentException("--method, --eta, --clip and --cfg-all-channels are DDPM sampling "
                        + "options; the SiT objective samples with --sampler ode|sde and its options");
            }
            return sit.method(t, steps, cfg);
        }
        if (sit.given()) {
            throw new IllegalArgumentException("--sampler and the SiT sampling options need the SiT objective "
                    + "(--objective sit, or a model file that records it); this model uses " + objective.summary());
        }
        return DdpmObjective.sampling(ddpmSettings(c));
    }

    /** The DDPM / DDIM settings from the options, the library's defaults for those not given. */
    private Sampler.Settings ddpmSettings(DiTConfig c) {
        Sampler.Settings d = Sampler.Settings.defaults(c);
        return new Sampler.Settings(
                method != null ? method : d.method(),
                steps != null ? steps : d.steps(),
                cfg,
                cfgAll ? c.inChannels() : Sampler.Settings.originalGuidedChannels(c),
                eta != null ? eta : d.eta(),
                clip != null ? clip : d.clipDenoised());
    }

    /** What a batch of samples becomes: its bytes and, for images, their size and channels. */
    private record Output(Function<NDArray, byte[]> toBytes, boolean latents, int size, int channels) {}

    /** Pixel models: uint8 as before; latent models: decoded by the VAE, or float latents with --latents-only. */
    private Output output(NDManager manager, DiT dit) throws IOException {
        DiTConfig c = dit.config();
        boolean pixel = c.inChannels() == 1 || c.inChannels() == 3;
        String name = model.describe();
        if (vae.present()) {
            if (latentsOnly) {
                throw new IllegalArgumentException("--latents-only and --vae exclude each other");
            }
            AutoencoderKL ae = vae.load(manager);
            VaeImages.checkLatentChannels(ae.config(), c.inChannels(), "model " + name);
            double scale = vae.scale(ae);
            return new Output(
                    z -> VaeImages.decodeUint8(ae, z, scale, Math.max(1, decodeBatch)),
                    false,
                    c.inputSize() * ae.config().downsampleFactor(),
                    3);
        }
        if (pixel) {
            if (latentsOnly) {
                throw new IllegalArgumentException("--latents-only is for latent models; " + name + " has "
                        + c.inChannels() + " pixel channel(s)");
            }
            return new Output(Sampler::toUint8Nhwc, false, c.inputSize(), c.inChannels());
        }
        if (!latentsOnly) {
            throw new IllegalArgumentException("model " + name + " samples " + c.inChannels() + "-channel latents: "
                    + "give --vae PATH to decode them to images, or --latents-only to write the latents as float .npy");
        }
        return new Output(SampleCommand::float32Bytes, true, 0, 0);
    }

    /** The little-endian float32 bytes of an array, C order (what .npy stores). */
    private static byte[] float32Bytes(NDArray z) {
        ByteBuffer data =
                HostTensor.fromNDArray(z.toType(DataType.FLOAT32, false)).data();
        byte[] bytes = new byte[data.remaining()];
        data.get(bytes);
        return bytes;
    }

    /** samples.npz (arr_0 uint8 NHWC, arr_1 labels) and grid.png of the first --grid-max images. */
    private void writeImages(DiTConfig c, long[] ys, byte[] images, int hw, int ch) throws IOException {
        Map<String, HostTensor> npz = new LinkedHashMap<>();
        npz.put("arr_0", HostTensor.ofBytes(DType.U8, images, ys.length, hw, hw, ch));
        npz.put("arr_1", HostTensor.ofLongs(ys, ys.length));
        Npz.write(out.resolve("samples.npz"), npz);
        int g = Math.min(gridMax, ys.length);
        writeGrid(c, ys, java.util.Arrays.copyOf(images, g * hw * hw * ch), g, hw, ch);
    }

    /** grid.png of the first {@code g} images ({@code head}, uint8 NHWC), captioned with their classes. */
    private void writeGrid(DiTConfig c, long[] ys, byte[] head, int g, int hw, int ch) throws IOException {
        if (ch == 1 || ch == 3) {
            List<String> captions = new ArrayList<>();
            for (int i = 0; i < g; i++) {
                captions.add(className(c, (int) ys[i]));
            }
            ImageGrid.write(out.resolve("grid.png"), head, g, hw, hw, ch, captions, 10, hw < 64 ? 3 : 1);
        }
    }

    /** Fashion-MNIST names for 10-class single-channel models, else the number. */
    static String className(DiTConfig c, int y) {
        if (c.numClasses() == 10 && c.inChannels() == 1 && y >= 0 && y < 10) {
            return FashionMnist.CLASS_NAMES.get(y);
        }
        return Integer.toString(y);
    }
}
