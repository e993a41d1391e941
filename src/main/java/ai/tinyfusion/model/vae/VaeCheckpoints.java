package ai.tinyfusion.model.vae;

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
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Loads an {@link AutoencoderKL} from either weight layout, through the project's safe readers (no
 * pickle code runs):
 * <ul>
 *   <li><b>diffusers</b>: a folder with {@code config.json} and {@code diffusion_pytorch_model.safetensors}
 *       (or {@code .fp16.safetensors}, {@code .bin}), a pipeline folder with a {@code vae/} sub-folder, or the
 *       weights file itself. Attention names may be current ({@code to_q/to_k/to_v/to_out.0}) or the
 *       deprecated ones ({@code query/key/value/proj_attn}); 1×1-conv-shaped attention weights are squeezed.</li>
 *   <li><b>ldm</b> (CompVis/latent-diffusion, MAR): a {@code torch.save} zip ({@code .ckpt}, {@code .pth}) with
 *       {@code encoder.down.0.block.0.norm1.weight}-style keys, at the top level or under {@code state_dict}
 *       or {@code model}, possibly prefixed {@code first_stage_model.} or {@code vae.} (a whole SD
 *       checkpoint: the other models' keys are skipped). The autoencoder's training loss ({@code loss.*},
 *       LPIPS and discriminator) is skipped. Keys are renamed to diffusers' as diffusers'
 *       {@code convert_ldm_vae_checkpoint} does (decoder levels reversed, attention convs squeezed).</li>
 * </ul>
 * The config comes from the diffusers {@code config.json} next to the weights when there is one,
 * otherwise from a named preset ({@link VaeConfig#presets()}). Float16/bfloat16 weights are widened to
 * float32. A file that does not fit fails with one message naming every key that could not be placed,
 * every model key left missing and every shape mismatch.
 */
public final class VaeCheckpoints {
    private static final Logger LOG = LoggerFactory.getLogger(VaeCheckpoints.class);

    /** Weight file names of a diffusers model folder, in order of preference. */
    public static final List<String> DIFFUSERS_WEIGHTS = List.of(
            "diffusion_pytorch_model.safetensors", "diffusion_pytorch_model.fp16.safetensors",
            "diffusion_pytorch_model.bin", "diffusion_pytorch_model.fp16.bin");
    /** Prefixes under which whole-model checkpoints keep the VAE (diffusers' {@code LDM_VAE_KEYS}). */
    public static final List<String> PREFIXES = List.of("first_stage_model.", "vae.");

    private static final int LISTED = 25;

    private VaeCheckpoints() {}

    /** Where the weights and (if any) the diffusers config of {@code path} are. */
    public record Source(Path weights, Path config) {}

    /**
     * Loads a VAE; {@code preset} (may be null) is used only when no {@code config.json} accompanies the weights.
     *
     * @throws IOException when the file is missing or unreadable, no config can be found, or the weights do not fit
     */
    public static AutoencoderKL load(Path path, String preset, NDManager manager) throws IOException {
        Source src = resolve(path);
        VaeConfig config;
        if (src.config() != null) {
            config = VaeConfig.fromDiffusersJson(src.config());
            if (preset != null) {
                LOG.info("{}: using its config.json, not the preset {}", path, preset);
            }
        } else if (preset != null) {
            try {
                config = VaeConfig.preset(preset);
            } catch (IllegalArgumentException e) {
                throw new IOException(e.getMessage(), e);
            }
        } else {
            throw new IOException(path + ": no diffusers config.json next to the weights; name a preset, one of "
                    + VaeConfig.presets().keySet());
        }
        return load(src.weights(), config, manager);
    }

    /** Loads the weights of {@code file} into a model of the given config. */
    public static AutoencoderKL load(Path file, VaeConfig config, NDManager manager) throws IOException {
        LinkedHashMap<String, HostTensor> raw = readTensors(file);
        AutoencoderKL model = new AutoencoderKL(manager, config);
        Placement p = place(raw, model.stateDict().keySet());
        try (NDManager tmp = manager.newSubManager()) {
            LinkedHashMap<String, NDArray> arrays = new LinkedHashMap<>();
            p.tensors().forEach((k, v) -> arrays.put(k, v.toNDArray(tmp)));
            LoadReport report = model.loadStateDict(arrays, false);
            if (!p.unplaced().isEmpty() || !report.isClean()) {
                throw new IOException(file + ": does not fit an AutoencoderKL " + describe(config) + " ("
                        + p.layout() + " layout, " + p.tensors().size() + " of " + p.considered() + " keys placed)"
                        + list("checkpoint keys that could not be placed", p.unplaced())
                        + list("model keys missing from the checkpoint (diffusers names)", report.missing())
                        + list("shape mismatches (diffusers names)", report.mismatched()));
            }
        }
        LOG.info(
                "loaded VAE from {} ({} layout, {} tensors)",
                file,
                p.layout(),
                p.tensors().size());
        return model;
    }

    /** The weights file and config.json a path stands for. */
    public static Source resolve(Path path) throws IOException {
        if (!Files.exists(path)) {
            throw new IOException("VAE weights not found: " + path);
        }
        if (Files.isDirectory(path)) {
            Path dir = Files.isRegularFile(path.resolve("vae").resolve("config.json")) ? path.resolve("vae") : path;
            for (String name : DIFFUSERS_WEIGHTS) {
                if (Files.isRegularFile(dir.resolve(name))) {
                    Path cfg = dir.resolve("config.json");
                    return new Source(dir.resolve(name), Files.isRegularFile(cfg) ? cfg : null);
                }
            }
            throw new IOException(dir + ": no VAE weights (looked for " + DIFFUSERS_WEIGHTS + ")");
        }
        Path cfg = path.toAbsolutePath().getParent().resolve("config.json");
        boolean diffusersFile = DIFFUSERS_WEIGHTS.contains(path.getFileName().toString());
        return new Source(path, diffusersFile && Files.isRegularFile(cfg) ? cfg : null);
    }

    /**
     * The tensors of a checkpoint: the top-level state dict (or {@code ema}/{@code model}, see
     * {@link TorchCheckpoint}), else the {@code state_dict} entry of Lightning/LDM checkpoints.
     */
    static LinkedHashMap<String, HostTensor> readTensors(Path file) throws IOException {
        try {
            return StateDicts.load(file);
        } catch (IOException first) {
            if (!Files.isRegularFile(file)) {
                throw first;
            }
            try {
                return TorchCheckpoint.read(file, "state_dict");
            } catch (IOException second) {
                first.addSuppressed(second);
                throw first;
            }
        }
    }

    /**
     * Checkpoint tensors renamed to the model's keys.
     *
     * @param tensors    model key → tensor (attention weights squeezed to 2-D)
     * @param unplaced   checkpoint keys (as named in the file) that match no model key
     * @param layout     "ldm", "diffusers" or "unknown"
     * @param considered how many checkpoint keys were candidates (after prefix selection and skipping)
     */
    record Placement(LinkedHashMap<String, HostTensor> tensors, List<String> unplaced, String layout, int considered) {}

    static Placement place(Map<String, HostTensor> raw, Set<String> modelKeys) {
        Map<String, HostTensor> vae = stripPrefix(raw);
        int levels = countLevels(modelKeys);
        int ldm = 0;
        int diffusers = 0;
        for (String k : vae.keySet()) {
            ldm += modelKeys.contains(fromLdm(k, levels)) ? 1 : 0;
            diffusers += modelKeys.contains(fromDiffusers(k)) ? 1 : 0;
        }
        String layout = ldm == 0 && diffusers == 0 ? "unknown" : ldm > diffusers ? "ldm" : "diffusers";
        LinkedHashMap<String, HostTensor> placed = new LinkedHashMap<>();
        List<String> unplaced = new ArrayList<>();
        int skipped = 0;
        for (Map.Entry<String, HostTensor> e : vae.entrySet()) {
            String key = e.getKey();
            if (layout.equals("ldm") && key.startsWith("loss.")) {
                skipped++;
                continue;
            }
            String target = layout.equals("ldm") ? fromLdm(key, levels) : fromDiffusers(key);
            if (target == null || !modelKeys.contains(target) || placed.containsKey(target)) {
                unplaced.add(key);
            } else {
                placed.put(target, squeezeAttention(target, e.getValue()));
            }
        }
        if (skipped > 0) {
            LOG.info("skipped {} training-loss tensors (loss.*)", skipped);
        }
        return new Placement(placed, unplaced, layout, vae.size() - skipped);
    }

    /** The keys under the first whole-model prefix present (others belong to other models), or all keys. */
    private static Map<String, HostTensor> stripPrefix(Map<String, HostTensor> raw) {
        for (String prefix : PREFIXES) {
            if (raw.keySet().stream().anyMatch(k -> k.startsWith(prefix))) {
                LinkedHashMap<String, HostTensor> out = new LinkedHashMap<>();
                raw.forEach((k, v) -> {
                    if (k.startsWith(prefix)) {
                        out.put(k.substring(prefix.length()), v);
                    }
                });
                LOG.info(
                        "using the {} tensors under '{}' ({} others skipped)",
                        out.size(),
                        prefix,
                        raw.size() - out.size());
                return out;
            }
        }
        return raw;
    }

    private static int countLevels(Set<String> modelKeys) {
        return (int) modelKeys.stream()
                .filter(k -> k.matches("encoder\\.down_blocks\\.\\d+\\.resnets\\.0\\.conv1\\.weight"))
                .count();
    }

    private static final Pattern LDM_LEVEL =
            Pattern.compile("(encoder|decoder)\\.(down|up)\\.(\\d+)\\.(block|attn|downsample|upsample)\\.(.+)");
    private static final Pattern LDM_MID = Pattern.compile("(encoder|decoder)\\.mid\\.(block_1|block_2|attn_1)\\.(.+)");
    private static final Pattern LDM_SAME =
            Pattern.compile("((encoder|decoder)\\.(conv_in|conv_out)|quant_conv|post_quant_conv)\\.[a-z]+");
    private static final Pattern INDEXED = Pattern.compile("(\\d+)\\.(.+)");

    /** An LDM key's diffusers name, or null if it is none of LDM's autoencoder keys. */
    static String fromLdm(String key, int levels) {
        if (LDM_SAME.matcher(key).matches()) {
            return key;
        }
        if (key.matches("(encoder|decoder)\\.norm_out\\.[a-z]+")) {
            return key.replace(".norm_out.", ".conv_norm_out.");
        }
        Matcher mid = LDM_MID.matcher(key);
        if (mid.matches()) {
            String side = mid.group(1) + ".mid_block.";
            switch (mid.group(2)) {
                case "block_1":
                    return side + "resnets.0." + resnetTail(mid.group(3));
                case "block_2":
                    return side + "resnets.1." + resnetTail(mid.group(3));
                default:
                    return prefixOrNull(side + "attentions.0.", attentionTail(mid.group(3)));
            }
        }
        Matcher lv = LDM_LEVEL.matcher(key);
        if (!lv.matches()) {
            return null;
        }
        boolean encoder = lv.group(1).equals("encoder");
        String what = lv.group(4);
        if (encoder != lv.group(2).equals("down") || (encoder ? what.equals("upsample") : what.equals("downsample"))) {
            return null;
        }
        int level = Integer.parseInt(lv.group(3));
        String block = encoder ? "encoder.down_blocks." + level : "decoder.up_blocks." + (levels - 1 - level);
        String rest = lv.group(5);
        if (what.equals("downsample") || what.equals("upsample")) {
            return block + "." + what + "rs.0." + rest;
        }
        Matcher idx = INDEXED.matcher(rest);
        if (!idx.matches()) {
            return null;
        }
        return what.equals("block")
                ? block + ".resnets." + idx.group(1) + "." + resnetTail(idx.group(2))
                : prefixOrNull(block + ".attentions." + idx.group(1) + ".", attentionTail(idx.group(2)));
    }

    private static String resnetTail(String rest) {
        return rest.startsWith("nin_shortcut.") ? "conv_shortcut." + rest.substring("nin_shortcut.".length()) : rest;
    }

    /** LDM attention member → diffusers ({@code norm.weight} → {@code group_norm.weight}, …), null if unknown. */
    private static String attentionTail(String rest) {
        int dot = rest.indexOf('.');
        if (dot < 0) {
            return null;
        }
        String param = rest.substring(dot);
        switch (rest.substring(0, dot)) {
            case "norm":
                return "group_norm" + param;
            case "q":
                return "to_q" + param;
            case "k":
                return "to_k" + param;
            case "v":
                return "to_v" + param;
            case "proj_out":
                return "to_out.0" + param;
            default:
                return null;
        }
    }

    private static String prefixOrNull(String prefix, String tail) {
        return tail == null ? null : prefix + tail;
    }

    private static final Pattern LEGACY_ATTENTION =
            Pattern.compile("(.*\\.attentions\\.\\d+\\.)(query|key|value|proj_attn)(\\.[a-z]+)");

    /** A diffusers key with the deprecated attention names ({@code query}, …, {@code proj_attn}) renamed. */
    static String fromDiffusers(String key) {
        Matcher m = LEGACY_ATTENTION.matcher(key);
        if (!m.matches()) {
            return key;
        }
        String name =
                switch (m.group(2)) {
                    case "query" -> "to_q";
                    case "key" -> "to_k";
                    case "value" -> "to_v";
                    default -> "to_out.0";
                };
        return m.group(1) + name + m.group(3);
    }

    /** Attention projection weights stored as 1×1 convs [C, C, 1, 1] (or [C, C, 1]) become Linear [C, C]. */
    private static HostTensor squeezeAttention(String key, HostTensor t) {
        boolean projection = key.matches(".*\\.attentions\\.\\d+\\.(to_q|to_k|to_v|to_out\\.0)\\.weight");
        long[] s = t.shape();
        if (!projection || s.length <= 2) {
            return t;
        }
        for (int i = 2; i < s.length; i++) {
            if (s[i] != 1) {
                return t;
            }
        }
        return HostTensor.of(t.dtype(), new long[] {s[0], s[1]}, t.data());
    }

    /** A one-line summary of a config for messages. */
    static String describe(VaeConfig c) {
        return "(widths " + c.blockOutChannels() + ", " + c.layersPerBlock() + " layers per block, z "
                + c.latentChannels() + ", encoder attention levels " + c.encoderAttnLevels()
                + (c.midAttention() ? ", mid attention)" : ")");
    }

    private static String list(String what, List<String> keys) {
        if (keys.isEmpty()) {
            return "";
        }
        StringBuilder sb = new StringBuilder("\n")
                .append(what)
                .append(" (")
                .append(keys.size())
                .append("):");
        keys.stream().limit(LISTED).forEach(k -> sb.append("\n  ").append(k));
        if (keys.size() > LISTED) {
            sb.append("\n  ... and ").append(keys.size() - LISTED).append(" more");
        }
        return sb.toString();
    }
}
