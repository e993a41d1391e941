package ai.tinyfusion.model.mar;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.tinyfusion.io.HostTensor;
import ai.tinyfusion.io.StateDicts;
import ai.tinyfusion.io.TorchCheckpoint;
import ai.tinyfusion.nn.LoadReport;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Loading MAR checkpoints through the project's safe readers (no pickled code runs). The released
 * {@code checkpoint-last.pth} files hold {@code {'model', 'model_ema', 'optimizer', 'epoch', 'scaler',
 * 'args'}} (LTH14/mar {@code util/misc.py save_model}); the EMA weights are taken when present (they are
 * what the original samples with), else {@code model}, else a bare state dict. Safetensors and .npz state
 * dicts load too. The architecture is read off the tensor shapes; attention heads, which shapes do not
 * show, come from the preset of the same width (or are given).
 */
public final class MarFiles {
    private MarFiles() {}

    /** The sections tried in a torch.save checkpoint, in order. */
    public static final String SECTIONS = "model_ema|model|" + TorchCheckpoint.AUTO;

    private static final Pattern ENCODER_BLOCK = Pattern.compile("^encoder_blocks\\.(\\d+)\\.norm1\\.weight$");
    private static final Pattern DECODER_BLOCK = Pattern.compile("^decoder_blocks\\.(\\d+)\\.norm1\\.weight$");
    private static final Pattern HEAD_BLOCK =
            Pattern.compile("^diffloss\\.net\\.res_blocks\\.(\\d+)\\.in_ln\\.weight$");

    /** A read checkpoint and the architecture its shapes imply. */
    public record Loaded(MarConfig config, LinkedHashMap<String, HostTensor> tensors) {}

    /** The tensors of a MAR checkpoint (EMA weights preferred). */
    public static LinkedHashMap<String, HostTensor> readTensors(Path path) throws IOException {
        if (!Files.exists(path)) {
            throw new IOException("MAR checkpoint not found: " + path);
        }
        if (Files.isRegularFile(path) && startsWithZipMagic(path) && StateDicts.isTorchZip(path)) {
            return TorchCheckpoint.read(path, SECTIONS);
        }
        return StateDicts.load(path);
    }

    private static boolean startsWithZipMagic(Path path) throws IOException {
        try (java.io.InputStream in = Files.newInputStream(path)) {
            byte[] head = in.readNBytes(2);
            return head.length == 2 && head[0] == 'P' && head[1] == 'K';
        }
    }

    /**
     * Reads a checkpoint and infers its architecture.
     *
     * @param heads attention heads of encoder and decoder, or null for the preset of the same width
     */
    public static Loaded read(Path path, Integer heads) throws IOException {
        LinkedHashMap<String, HostTensor> tensors = readTensors(path);
        Map<String, long[]> shapes = new LinkedHashMap<>();
        tensors.forEach((k, v) -> shapes.put(k, v.shape()));
        try {
            return new Loaded(infer(shapes, heads), tensors);
        } catch (IllegalArgumentException e) {
            throw new IOException(path + ": " + e.getMessage(), e);
        }
    }

    /**
     * Loads a model strictly.
     *
     * @param expected the architecture the caller asked for (e.g. a preset), or null to take the checkpoint's;
     *     when given, a checkpoint of another architecture fails with the differences named
     */
    public static Mar load(Path path, NDManager manager, MarConfig expected) throws IOException {
        Loaded loaded = read(path, null); // heads: the expected config's, once its shapes are known to fit
        MarConfig config = loaded.config();
        if (expected != null) {
            List<String> diffs = differences(expected, config);
            if (!diffs.isEmpty()) {
                String name = expected.presetName() == null ? "the requested config" : expected.presetName();
                throw new IOException(path + ": does not fit " + name + ": " + String.join("; ", diffs));
            }
            config = expected; // same shapes; its heads and its training and sampling settings
        }
        Mar model = new Mar(manager, config, false);
        try (NDManager tmp = manager.newSubManager()) {
            LinkedHashMap<String, NDArray> arrays = new LinkedHashMap<>();
            loaded.tensors().forEach((k, v) -> arrays.put(k, v.toNDArray(tmp)));
            LoadReport report = model.loadStateDict(arrays, false);
            if (!report.isClean()) {
                throw new IOException(path + " does not match " + config + ":\n" + report.describe());
            }
        }
        return model;
    }

    /** What differs between the architecture asked for and the checkpoint's, in the original's names. */
    static List<String> differences(MarConfig want, MarConfig have) {
        List<String> d = new ArrayList<>();
        if (want.difflossD() != have.difflossD() || want.difflossW() != have.difflossW()) {
            d.add("its diffusion head is " + have.difflossD() + " × " + have.difflossW()
                    + " (diffloss_d × diffloss_w, from diffloss.net.res_blocks.* and diffloss.net.input_proj.weight)"
                    + " but " + want.difflossD() + " × " + want.difflossW() + " is expected");
        }
        compare(d, "encoder_embed_dim", want.encoderEmbedDim(), have.encoderEmbedDim());
        compare(d, "encoder_depth", want.encoderDepth(), have.encoderDepth());
        compare(d, "decoder_embed_dim", want.decoderEmbedDim(), have.decoderEmbedDim());
        compare(d, "decoder_depth", want.decoderDepth(), have.decoderDepth());
        compare(d, "buffer_size", want.bufferSize(), have.bufferSize());
        compare(d, "seq_len", want.seqLen(), have.seqLen());
        compare(d, "token_embed_dim", want.tokenEmbedDim(), have.tokenEmbedDim());
        compare(d, "class_num", want.classNum(), have.classNum());
        compare(d, "mlp hidden", want.encoderMlpHidden(), have.encoderMlpHidden());
        return d;
    }

    private static void compare(List<String> out, String name, long want, long have) {
        if (want != have) {
            out.add(name + " is " + have + " but " + want + " is expected");
        }
    }

    /** Whether the keys are those of a MAR state dict. */
    public static boolean isMar(Iterable<String> keys) {
        boolean zProj = false, head = false;
        for (String k : keys) {
            zProj |= k.equals("z_proj.weight");
            head |= k.startsWith("diffloss.net.");
        }
        return zProj && head;
    }

    /**
     * The architecture implied by a state dict's shapes (KL-16 tokens: 16 VAE channels per latent pixel, vae
     * stride 16).
     *
     * @throws IllegalArgumentException naming the key when the state dict is not a MAR's
     */
    public static MarConfig infer(Map<String, long[]> shapes, Integer heads) {
        if (!isMar(shapes.keySet())) {
            String what = shapes.containsKey("x_embedder.proj.weight")
                    ? "it looks like a DiT/SiT checkpoint (x_embedder.proj.weight, blocks.*)"
                    : "first keys " + shapes.keySet().stream().limit(5).toList();
            throw new IllegalArgumentException(
                    "not a MAR checkpoint: no z_proj.weight and diffloss.net.* keys; " + what);
        }
        long[] zProj = need(shapes, "z_proj.weight", 2);
        int de = (int) zProj[0], tok = (int) zProj[1];
        int dd = (int) need(shapes, "decoder_embed.weight", 2)[0];
        int seq = (int) need(shapes, "diffusion_pos_embed_learned", 3)[1];
        int buffer = (int) need(shapes, "encoder_pos_embed_learned", 3)[1] - seq;
        int classes = (int) need(shapes, "class_emb.weight", 2)[0];
        int encDepth = count(shapes, ENCODER_BLOCK), decDepth = count(shapes, DECODER_BLOCK);
        int headDepth = count(shapes, HEAD_BLOCK);
        int headWidth = (int) need(shapes, "diffloss.net.input_proj.weight", 2)[0];
        long[] out = need(shapes, "diffloss.net.final_layer.linear.weight", 2);
        if (out[0] != 2L * tok) {
            throw new IllegalArgumentException("diffloss.net.final_layer.linear.weight has " + out[0]
                    + " outputs; a MAR head with learned sigma has 2 × " + tok + " = " + 2 * tok);
        }
        double mlpRatio = encDepth > 0 ? need(shapes, "encoder_blocks.0.mlp.fc1.weight", 2)[0] / (double) de : 4.0;
        int side = (int) Math.round(Math.sqrt(seq));
        if (side * side != seq) {
            throw new IllegalArgumentException("diffusion_pos_embed_learned has " + seq + " positions, not a square");
        }
        int patch = 1, vae = tok;
        if (tok % 16 == 0) {
            int p = (int) Math.round(Math.sqrt(tok / 16.0));
            if (p * p * 16 == tok) {
                patch = p;
                vae = 16;
            }
        }
        int encHeads = heads != null ? heads : headsFor(de);
        int decHeads = heads != null ? heads : headsFor(dd);
        return new MarConfig(
                side * patch * 16,
                16,
                patch,
                de,
                encDepth,
                encHeads,
                dd,
                decDepth,
                decHeads,
                mlpRatio,
                vae,
                0.7,
                0.1,
                classes,
                0.1,
                0.1,
                buffer,
                headDepth,
                headWidth,
                "100",
                4);
    }

    /** Attention heads of the preset with this width (64 per head otherwise). */
    static int headsFor(int width) {
        for (String name : MarConfig.presetNames()) {
            MarConfig c = MarConfig.preset(name);
            if (c.encoderEmbedDim() == width) {
                return c.encoderNumHeads();
            }
        }
        return Math.max(1, width / 64);
    }

    private static long[] need(Map<String, long[]> shapes, String key, int rank) {
        long[] s = shapes.get(key);
        if (s == null) {
            throw new IllegalArgumentException("missing " + key);
        }
        if (s.length != rank) {
            throw new IllegalArgumentException(key + " has rank " + s.length + ", expected " + rank);
        }
        return s;
    }

    private static int count(Map<String, long[]> shapes, Pattern p) {
        int n = 0;
        for (String k : shapes.keySet()) {
            Matcher m = p.matcher(k);
            if (m.matches()) {
                n = Math.max(n, Integer.parseInt(m.group(1)) + 1);
            }
        }
        return n;
    }
}
