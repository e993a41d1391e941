package ai.tinyfusion.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.tinyfusion.data.Batcher;
import ai.tinyfusion.diffusion.Objectives;
import ai.tinyfusion.io.HostTensor;
import ai.tinyfusion.io.Safetensors;
import ai.tinyfusion.io.StateDicts;
import ai.tinyfusion.nn.Tensors;
import com.google.gson.Gson;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A training checkpoint: one safetensors file (written atomically) holding the task state
 * ({@code state.*}), the EMA ({@code ema.*}) and the AdamW moments ({@code opt.*}), with the step,
 * skipped-step count, data-order position and task description in the metadata.
 */
public final class Checkpoint {
    private Checkpoint() {}

    private static final Gson GSON = new Gson();

    public record Restored(Path file, long step, long skipped) {}

    static void write(Path file, long step, long skipped, TrainTask task, AdamW opt, Ema ema, Batcher batcher)
            throws IOException {
        LinkedHashMap<String, HostTensor> tensors = new LinkedHashMap<>();
        task.state().forEach((k, v) -> tensors.put("state." + k, HostTensor.fromNDArray(v)));
        ema.values().forEach((k, v) -> tensors.put("ema." + k, HostTensor.fromNDArray(v)));
        opt.state().forEach((k, v) -> tensors.put("opt." + k, HostTensor.fromNDArray(v)));
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("step", Long.toString(step));
        meta.put("optimizer_step", Long.toString(opt.stepCount()));
        meta.put("skipped_non_finite", Long.toString(skipped));
        meta.put("batcher", GSON.toJson(batcher.state()));
        meta.put("task", task.describe());
        Safetensors.write(file, tensors, meta);
    }

    static Restored restore(Path file, TrainTask task, AdamW opt, Ema ema, Batcher batcher) throws IOException {
        Map<String, String> meta = Safetensors.readMetadata(file);
        for (String k : new String[] {"step", "optimizer_step", "batcher", "task"}) {
            if (!meta.containsKey(k)) {
                throw new IOException(file + " is not a training checkpoint (metadata '" + k + "' is missing)");
            }
        }
        String was = Objectives.summaryOfTask(meta.get("task"));
        String now = Objectives.summaryOfTask(task.describe());
        if (was != null && now != null && !was.equals(now)) {
            throw new IOException("cannot resume from " + file + ": it was trained with the objective " + was
                    + ", this run uses " + now + "; resume with the same --objective options (or start a new run)");
        }
        if (!meta.get("task").equals(task.describe())) {
            throw new IOException("cannot resume from " + file + ": it was written for a different task/config.\n"
                    + "  checkpoint: " + meta.get("task") + "\n  this run:   " + task.describe());
        }
        LinkedHashMap<String, HostTensor> tensors = StateDicts.load(file);
        try (NDManager tmp = NDManager.newBaseManager()) {
            copyAll(tensors, "state.", task.state(), tmp, file);
            LinkedHashMap<String, NDArray> emaIn = section(tensors, "ema.", tmp);
            ema.load(emaIn);
            opt.load(section(tensors, "opt.", tmp), Long.parseLong(meta.get("optimizer_step")));
        } catch (IllegalArgumentException e) {
            throw new IOException(file + ": " + e.getMessage(), e);
        }
        batcher.restore(GSON.fromJson(meta.get("batcher"), Batcher.State.class));
        return new Restored(
                file, Long.parseLong(meta.get("step")), Long.parseLong(meta.getOrDefault("skipped_non_finite", "0")));
    }

    private static LinkedHashMap<String, NDArray> section(Map<String, HostTensor> all, String prefix, NDManager m) {
        LinkedHashMap<String, NDArray> out = new LinkedHashMap<>();
        all.forEach((k, v) -> {
            if (k.startsWith(prefix)) {
                out.put(k.substring(prefix.length()), v.toNDArray(m));
            }
        });
        return out;
    }

    private static void copyAll(
            Map<String, HostTensor> all, String prefix, Map<String, NDArray> into, NDManager m, Path file)
            throws IOException {
        for (Map.Entry<String, NDArray> e : into.entrySet()) {
            HostTensor src = all.get(prefix + e.getKey());
            if (src == null) {
                throw new IOException(file + " lacks " + prefix + e.getKey());
            }
            NDArray dst = e.getValue();
            NDArray v = src.toNDArray(m);
            if (!v.getShape().equals(dst.getShape())) {
                throw new IOException(file + ": " + prefix + e.getKey() + " has shape " + v.getShape() + ", expected "
                        + dst.getShape());
            }
            Tensors.copyInto(dst, v);
        }
    }
}
