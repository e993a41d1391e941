package ai.tinyfusion.cli;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDManager;
import ai.tinyfusion.data.Batcher;
import ai.tinyfusion.data.Dataset;
import ai.tinyfusion.diffusion.Objective;
import ai.tinyfusion.diffusion.Objectives;
import ai.tinyfusion.io.FileHashes;
import ai.tinyfusion.model.dit.DiT;
import ai.tinyfusion.model.dit.ModelFiles;
import ai.tinyfusion.prune.DecisionRecord;
import ai.tinyfusion.prune.PrunedModels;
import ai.tinyfusion.train.DiffusionTask;
import ai.tinyfusion.train.DistillTask;
import ai.tinyfusion.train.KdMode;
import ai.tinyfusion.train.LayerMap;
import ai.tinyfusion.train.TrainLoop;
import ai.tinyfusion.train.TrainTask;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code tinyfusion finetune}: recovery training of a (pruned) DiT, plain or distilled from its teacher. */
@Command(
        name = "finetune",
        mixinStandardHelpOptions = true,
        description = "Recover a pruned DiT (-m) by fine-tuning: plain diffusion loss (--kd none), output distillation "
                + "from the teacher (--kd logits: 0.9 L_KD + 0.1 L_GT), or Masked KD (--kd masked: plus beta L_Rep on "
                + "matched block outputs with massive activations beyond k sigma masked; --kd rep without masks). "
                + "The teacher defaults to the source model of the student's decision record (<model>.decision.json). "
                + "Writes <run>/ema.safetensors, <run>/model.safetensors, metrics.csv (kd, gt, rep, beta columns) "
                + "and loss.png; resumable (--resume).")
public final class FinetuneCommand implements Callable<Integer> {
    private static final Logger LOG = LoggerFactory.getLogger(FinetuneCommand.class);

    @Mixin
    ModelOptions model;

    @Mixin
    DataOptions data;

    @Mixin
    LoopOptions loop;

    @Mixin
    OptimOptions optim = new OptimOptions(2e-4, "cosine", 1e-4, 0.9999);

    @Mixin
    ObjectiveOptions objectiveOptions;

    @Spec
    CommandSpec spec;

    @Option(
            names = "--teacher",
            description = "Teacher checkpoint (default: the source of the student's decision record).")
    Path teacher;

    @Option(
            names = "--kd",
            defaultValue = "auto",
            description = "none, logits, rep or masked. Default (auto): masked when the student has a decision record, "
                    + "logits when only --teacher is given, none without a teacher.")
    String kd;

    @Option(names = "--alpha-kd", description = "Weight of the KD loss (${DEFAULT-VALUE}).")
    double alphaKd = DistillTask.Settings.ALPHA_KD;

    @Option(names = "--alpha-gt", description = "Weight of the diffusion (ground-truth) loss (${DEFAULT-VALUE}).")
    double alphaGt = DistillTask.Settings.ALPHA_GT;

    @Option(
            names = "--beta",
            description = "Start weight of the representation loss, decaying linearly to 0 at the last step "
                    + "(${DEFAULT-VALUE}; with the SiT objective " + DistillTask.Settings.BETA_SIT + ", the paper's).")
    double beta = DistillTask.Settings.BETA;

    @Option(
            names = "--mask-k",
            description =
                    "Masked KD: hidden values beyond k standard deviations from the per-sample mean are masked (${DEFAULT-VALUE}).")
    double maskK = DistillTask.Settings.MASK_K;

    @Option(
            names = "--layer-map",
            description =
                    "student:teacher block pairs for the representation loss, e.g. 0:1,1:3 (default: derived from the "
                            + "decision record: per pattern block, the student's last kept layer <-> the block's last teacher layer; "
                            + "without a pattern, kept layer k_j <-> k_{j+1}-1; a student as deep as its teacher: i <-> i).")
    String layerMap;

    @Override
    public Integer call() throws Exception {
        DecisionRecord record = studentRecord();
        Path teacherPath = teacher != null
                ? teacher
                : record != null && record.source().path() != null
                        ? Path.of(record.source().path())
                        : null;
        KdMode mode = mode(kd, record != null, teacherPath != null);
        if (mode != KdMode.NONE && teacherPath == null) {
            throw new IllegalArgumentException("--kd " + mode + " needs a teacher: give --teacher (the student has "
                    + (record == null ? "no decision record" : "a decision record without a source path") + ")");
        }
        if (mode != KdMode.NONE && teacher == null) {
            checkSourceUnchanged(record, teacherPath);
        }
        Dataset dataset = data.open();
        Engine.getInstance().setRandomSeed((int) model.seed);
        try (NDManager manager = NDManager.newBaseManager(model.device())) {
            DiT student = model.load(manager);
            LoopOptions.checkFits(student, dataset);
            Objective objective = objectiveOptions.resolve(model.metadata(), model.describe(), false);
            Map<String, String> meta = new LinkedHashMap<>(Objectives.modelMetadata(objective));
            meta.put("finetuned_from", model.describe());
            meta.put("kd", mode.toString());
            TrainTask task;
            String[] plot;
            if (mode == KdMode.NONE) {
                task = new DiffusionTask(student, objective, optim.weightDecay);
                plot = new String[] {"loss", "mse", "vb"};
            } else {
                ModelFiles.Loaded teacherFile = ModelFiles.read(teacherPath, model.heads);
                checkTeacherObjective(teacherFile.metadata(), teacherPath, objective);
                DiT teacherModel = ModelFiles.load(teacherFile, manager, teacherPath.toString());
                if (record != null && teacherModel.depth() != record.source().depth()) {
                    throw new IllegalArgumentException("the teacher " + teacherPath + " has " + teacherModel.depth()
                            + " layers, the student was pruned from a "
                            + record.source().depth() + "-layer model");
                }
                LayerMap layers = mode.usesHidden() ? layerMap(record, student.depth(), teacherModel.depth()) : null;
                DistillTask.Settings s = new DistillTask.Settings(
                        mode,
                        alphaKd,
                        alphaGt,
                        betaFor(objective),
                        maskK,
                        layers,
                        optim.weightDecay,
                        teacherPath.getFileName().toString());
                task = new DistillTask(student, teacherModel, objective, s);
                meta.put("teacher", teacherPath.toString());
                if (layers != null) {
                    meta.put("kd_layer_map", layers.toString());
                }
                plot = new String[] {"loss", "kd", "gt", "rep"};
                LOG.info(
                        "distilling {} ({} layers) from {} ({} layers) under {}: kd {}, alpha_kd {}, alpha_gt {}{}",
                        model.describe(),
                        student.depth(),
                        teacherPath,
                        teacherModel.depth(),
                        objective.summary(),
                        mode,
                        alphaKd,
                        alphaGt,
                        layers == null ? "" : ", beta " + s.beta() + ", layer map " + layers);
            }
            if (record != null) {
                meta.put(
                        "kept_layers",
                        Arrays.stream(record.kept()).mapToObj(Integer::toString).collect(Collectors.joining(",")));
                meta.put("source_depth", Integer.toString(record.source().depth()));
                if (record.pattern() != null) {
                    meta.put("pattern", record.pattern());
                }
            }
            Batcher batcher = loop.batcher(dataset, model.seed);
            long total = loop.totalSteps(batcher);
            LOG.info(
                    "fine-tuning {} ({} parameters) on {} images for {} steps of {}",
                    student.config(),
                    student.parameterCount(),
                    dataset.size(),
                    total,
                    loop.batch);
            LoopOptions.recordCommand(optim.runDir);
            TrainLoop trainer = optim.trainer(task, batcher, loop, total, model.seed, student, meta);
            TrainLoop.Result r = trainer.run(optim.resume);
            optim.finish(trainer, r, student, loop, meta, plot);
            LOG.info(
                    "done: {} steps, last loss {}, {} non-finite steps skipped; wrote {}",
                    r.steps(),
                    r.lastLoss(),
                    r.skippedNonFinite(),
                    optim.runDir.resolve("ema.safetensors"));
        }
        return 0;
    }

    /** --beta, else the objective's default (the paper's 2e-4 for SiT). */
    private double betaFor(Objective objective) {
        boolean given = spec != null
                && spec.commandLine() != null
                && spec.commandLine().getParseResult().hasMatchedOption("--beta");
        return given ? beta : DistillTask.Settings.defaultBeta(objective);
    }

    /** Refuses a teacher whose file records another objective than the student's run. */
    static void checkTeacherObjective(Map<String, String> teacherMeta, Path teacherPath, Objective objective) {
        Objective t = Objectives.ofModel(teacherMeta);
        if (t != null && !t.sameAs(objective)) {
            throw new IllegalArgumentException("the teacher " + teacherPath + " was trained with the objective "
                    + t.summary() + ", the student is trained with " + objective.summary());
        }
    }

    /** The student's {@code <model>.decision.json}, or null (a preset, or a model that was not pruned). */
    private DecisionRecord studentRecord() throws IOException {
        if (!model.isFile()) {
            return null;
        }
        Path rec = PrunedModels.recordPath(Path.of(model.model));
        return Files.exists(rec) ? PrunedModels.readRecord(rec) : null;
    }

    /** The KD mode: as given, or the default for what is at hand. */
    static KdMode mode(String spec, boolean hasRecord, boolean hasTeacher) {
        if (spec == null || spec.isBlank() || spec.trim().equalsIgnoreCase("auto")) {
            return hasRecord && hasTeacher ? KdMode.MASKED : hasTeacher ? KdMode.LOGITS : KdMode.NONE;
        }
        return KdMode.parse(spec);
    }

    /** --layer-map, else the record's derived map, else the identity for equal depths. */
    private LayerMap layerMap(DecisionRecord record, int studentDepth, int teacherDepth) {
        LayerMap m;
        if (layerMap != null) {
            m = LayerMap.parse(layerMap);
        } else if (record != null) {
            m = record.layerMap();
        } else if (studentDepth == teacherDepth) {
            m = LayerMap.identity(studentDepth);
        } else {
            throw new IllegalArgumentException("the student has no decision record and " + studentDepth
                    + " layers, the teacher " + teacherDepth + ": give --layer-map for --kd " + kd);
        }
        return m.check(studentDepth, teacherDepth);
    }

    /** Fails when the record's source file has changed since the student was pruned from it. */
    private static void checkSourceUnchanged(DecisionRecord record, Path teacherPath) throws IOException {
        if (record.source().sha256() == null) {
            return;
        }
        System.out.println("hashing " + teacherPath + " ...");
        String sha = FileHashes.sha256(teacherPath);
        if (!sha.equals(record.source().sha256())) {
            throw new IOException(teacherPath + " has changed since the student was pruned from it (SHA-256 " + sha
                    + ", record " + record.source().sha256() + "); pass --teacher to use it anyway");
        }
    }
}
