package ai.tinyfusion.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.tinyfusion.data.Batcher;
import ai.tinyfusion.diffusion.DdpmObjective;
import ai.tinyfusion.diffusion.GaussianDiffusion;
import ai.tinyfusion.diffusion.Objective;
import ai.tinyfusion.model.dit.DiT;
import ai.tinyfusion.model.dit.DiTConfig;
import ai.tinyfusion.nn.Module;
import ai.tinyfusion.nn.NoGrad;
import ai.tinyfusion.nn.Scalars;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Recovery of a pruned DiT by distillation from its unpruned teacher (the original
 * train_masked_kd.py, {@code training_losses_kd_rep}) under the model's {@link Objective}, per sample:
 * <pre>
 *   loss = α_KD·L_KD + α_GT·L_GT + β·L_Rep
 *   L_KD  = {@link Objective#kdLosses}: DDPM mean_flat((ε_s − ε_t)²) + vb_kd (vb_kd: learned variance only);
 *           SiT mean_flat((v_s − v_t)²) of the predictions (velocity, noise or score)
 *   L_GT  = the objective's loss of the student (DDPM: MSE + VB; SiT: the transport loss)
 *   L_Rep = {@link KdLosses#representation} over the {@link LayerMap} pairs (REP, MASKED only)
 * </pre>
 * averaged over the batch. Teacher and student see the same x_t, t and label drops (one
 * {@link Objective.Draw}, the student's drop ids forced on the teacher). The teacher is frozen,
 * runs without an autograd graph ({@link NoGrad}) and its outputs are detached. β decays linearly
 * from its start value to 0 at the last step. Optimised, averaged (EMA) and checkpointed: the
 * student only.
 */
public final class DistillTask implements TrainTask {
    /**
     * @param layers the representation pairs (null for LOGITS)
     * @param maskK the mask width k in standard deviations (MASKED)
     * @param teacherName identifies the teacher in {@link #describe()} (e.g. its file name; may be null)
     */
    public record Settings(
            KdMode mode,
            double alphaKd,
            double alphaGt,
            double beta,
            double maskK,
            LayerMap layers,
            double weightDecay,
            String teacherName) {
        /** The original's weights ({@code train_masked_kd.py}): α_KD 0.9, α_GT 0.1, β 1e-2, mask k = 2. */
        public static final double ALPHA_KD = 0.9;

        public static final double ALPHA_GT = 0.1;
        public static final double BETA = 1e-2;
        public static final double MASK_K = 2;

        /** The paper's β for SiT (TinySiT): 2e-4, decaying to 0 as for DiT. */
        public static final double BETA_SIT = 2e-4;

        /** The default β of an objective: {@link #BETA_SIT} for SiT, else {@link #BETA}. */
        public static double defaultBeta(Objective objective) {
            return objective.name().equals("sit") ? BETA_SIT : BETA;
        }

        public Settings {
            if (mode == KdMode.NONE) {
                throw new IllegalArgumentException(
                        "KD mode none is plain fine-tuning (DiffusionTask), not distillation");
            }
            if (mode.usesHidden() && layers == null) {
                throw new IllegalArgumentException("KD mode " + mode + " needs a layer map");
            }
            if (!(alphaKd >= 0) || !(alphaGt >= 0) || !(beta >= 0) || !(weightDecay >= 0)) {
                throw new IllegalArgumentException("alpha-kd, alpha-gt, beta and weight decay must be >= 0");
            }
            if (mode == KdMode.MASKED && !(maskK > 0)) {
                throw new IllegalArgumentException("mask width k must be > 0, got " + maskK);
            }
        }
    }

    private final DiT student;
    private final DiT teacher;
    private final Objective objective;
    private final Settings settings;
    private double betaNow;

    /** DDPM distillation with {@code diffusion}. Freezes {@code teacher} (no gradients attached to it). */
    public DistillTask(DiT student, DiT teacher, GaussianDiffusion diffusion, Settings settings) {
        this(student, teacher, new DdpmObjective(diffusion), settings);
    }

    /** Distillation under {@code objective}. Freezes {@code teacher} (no gradients attached to it). */
    public DistillTask(DiT student, DiT teacher, Objective objective, Settings settings) {
        objective.checkDistillable();
        checkCompatible(student.config(), teacher.config(), settings.mode().usesHidden());
        if (settings.layers() != null) {
            settings.layers().check(student.depth(), teacher.depth());
        }
        this.student = student;
        this.teacher = teacher;
        this.objective = objective;
        this.settings = settings;
        this.betaNow = settings.beta();
        teacher.namedParameters().values().forEach(p -> p.setTrainable(false));
        teacher.attachGradients();
    }

    private static void checkCompatible(DiTConfig s, DiTConfig t, boolean hidden) {
        boolean ok = s.inputSize() == t.inputSize()
                && s.patchSize() == t.patchSize()
                && s.inChannels() == t.inChannels()
                && s.learnSigma() == t.learnSigma()
                && s.numClasses() == t.numClasses()
                && (!hidden || s.hiddenSize() == t.hiddenSize());
        if (!ok) {
            throw new IllegalArgumentException(
                    "student " + s + " and teacher " + t + " are not compatible for distillation");
        }
    }

    public DiT student() {
        return student;
    }

    public Settings settings() {
        return settings;
    }

    public Objective objective() {
        return objective;
    }

    /** β at step {@code step} (0-based) of {@code total}: linear from β₀ at the first step to 0 at the last. */
    public static double betaAt(double beta0, long step, long total) {
        return total <= 1 ? beta0 : beta0 * Math.max(0.0, 1.0 - (double) step / (total - 1));
    }

    @Override
    public void beforeStep(long step, long totalSteps) {
        betaNow = betaAt(settings.beta(), step, totalSteps);
    }

    @Override
    public LinkedHashMap<String, NDArray> trainable() {
        return DiffusionTask.trainableOf(student);
    }

    @Override
    public LinkedHashMap<String, NDArray> emaTracked() {
        return student.stateDict();
    }

    @Override
    public LinkedHashMap<String, NDArray> state() {
        return student.stateDict();
    }

    /** Student and teacher: both are scoped into each step (the teacher's arrays produce results too). */
    @Override
    public List<Module> modules() {
        return List.of(student, teacher);
    }

    @Override
    public Map<String, Double> weightDecay() {
        return DiffusionTask.matrixDecay(student, settings.weightDecay());
    }

    @Override
    public StepLoss loss(Batcher.Batch batch, NDManager scope) {
        NDArray x0 = batch.images();
        Objective.Draw d = objective.draw(scope, x0.getShape(), student.config().classDropoutProb());
        return loss(x0, batch.labels(), d, scope);
    }

    /**
     * The loss for given draws.
     *
     * @param x0 (N, C, H, W) data
     * @param y (N,) labels
     */
    StepLoss loss(NDArray x0, NDArray y, Objective.Draw d, NDManager scope) {
        boolean hidden = settings.mode().usesHidden();
        DiT.Options so = new DiT.Options().forceDrop(d.dropIds());
        if (hidden) {
            so.capture(settings.layers().student());
        }
        // The student runs once, inside the objective's loss; keep what it saw and returned.
        NDArray[] seen = new NDArray[3]; // x_t (N,C,H,W), model times (N,), output (N,C or 2C,H,W)
        Objective.Network fn = (x, t, yy) -> {
            NDArray out = student.forward(x, t, yy, so);
            seen[0] = x;
            seen[1] = t;
            seen[2] = out;
            return out;
        };
        Map<String, NDArray> gt = objective.losses(fn, x0, y, d);
        NDArray xT = seen[0];
        NDArray sOut = seen[2];

        DiT.Options to = new DiT.Options().forceDrop(d.dropIds());
        if (hidden) {
            to.capture(settings.layers().teacherCaptures());
        }
        NDArray tOut;
        try (NoGrad ignored = NoGrad.enter()) {
            tOut = teacher.forward(xT, seen[1], y, to).stopGradient(); // (N, C or 2C, H, W)
        }

        Map<String, NDArray> terms = new LinkedHashMap<>(); // fixed order: the metrics CSV columns
        Map<String, NDArray> kdTerms = objective.kdLosses(sOut, tOut, x0, xT, d); // "kd" first
        NDArray kd = kdTerms.get("kd");
        kdTerms.forEach((k, v) -> terms.put(k, v.mean()));
        NDArray gtLoss = gt.get("loss");
        terms.put("gt", gtLoss.mean());
        NDArray perSample = Scalars.mul(kd, settings.alphaKd()).add(Scalars.mul(gtLoss, settings.alphaGt())); // (N,)
        if (hidden) {
            List<NDArray> ht = new ArrayList<>();
            for (int i = 0; i < settings.layers().size(); i++) {
                ht.add(to.hidden.get(settings.layers().teacherSlot(i)));
            }
            NDArray rep = KdLosses.representation(
                    so.hidden, ht, settings.mode() == KdMode.MASKED ? Double.valueOf(settings.maskK()) : null); // (N,)
            perSample = perSample.add(Scalars.mul(rep, betaNow));
            terms.put("rep", rep.mean());
            terms.put("beta", Scalars.of(scope, betaNow, DataType.FLOAT32));
        }
        return new StepLoss(perSample.mean(), terms);
    }

    @Override
    public String describe() {
        JsonObject o = new JsonObject();
        o.addProperty("task", "distill");
        o.addProperty("kd", settings.mode().toString());
        o.add("config", JsonParser.parseString(student.config().toJson()));
        o.add("teacher_config", JsonParser.parseString(teacher.config().toJson()));
        if (settings.teacherName() != null) {
            o.addProperty("teacher", settings.teacherName());
        }
        objective.describeInto(o);
        o.addProperty("alpha_kd", settings.alphaKd());
        o.addProperty("alpha_gt", settings.alphaGt());
        if (settings.mode().usesHidden()) {
            o.addProperty("beta", settings.beta());
            o.addProperty("layer_map", settings.layers().toString());
        }
        if (settings.mode() == KdMode.MASKED) {
            o.addProperty("mask_k", settings.maskK());
        }
        o.addProperty("weight_decay", settings.weightDecay());
        return o.toString();
    }
}
