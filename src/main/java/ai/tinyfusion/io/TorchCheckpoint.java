package ai.tinyfusion.io;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads the tensors of a {@code torch.save} checkpoint in the zip format (PyTorch ≥ 1.6) without
 * running any pickled code.
 *
 * <p>The archive holds {@code <name>/data.pkl}, a pickle whose tensors point through persistent
 * ids at raw little-endian storages {@code <name>/data/<key>}; see {@link PickleReader} and
 * {@link TorchGlobals} for what the pickle may contain. Non-contiguous tensors are gathered into
 * row-major order; tensors sharing a storage share its bytes. Archives of any size work
 * (zip64), as long as each single storage is under 2 GiB.
 *
 * <p>A state dict may be the whole checkpoint or one of its entries: DiT's {@code train.py}
 * saves {@code {"model", "ema", "opt", "args"}}. The {@code section} argument picks it:
 * <ul>
 *   <li>{@code "auto"}: the top level if it holds any tensor, otherwise {@code ema} if present,
 *       otherwise {@code model} (the EMA weights are the ones DiT samples with);</li>
 *   <li>any other value: the top-level entry of that name, e.g. {@code "model"} or {@code "ema"};
 *       alternatives separated by {@code |} are tried in order, {@code auto} among them as above
 *       ({@code "model_ema|model|auto"}, as MAR's checkpoints need).</li>
 * </ul>
 * Non-tensor entries of the chosen state dict are skipped.
 */
public final class TorchCheckpoint {
    /** Section name that picks the state dict automatically. */
    public static final String AUTO = "auto";

    private static final Logger LOG = LoggerFactory.getLogger(TorchCheckpoint.class);

    private TorchCheckpoint() {}

    /** The state dict of {@code file}, chosen as by section {@code "auto"}. */
    public static LinkedHashMap<String, HostTensor> read(Path file) throws IOException {
        return read(file, AUTO);
    }

    /**
     * The tensors of one state dict of {@code file}, in pickle order.
     *
     * @param section {@code "auto"}, or the name of a top-level entry such as {@code "model"} or {@code "ema"}
     * @throws UnsafeCheckpointException if the pickle names a global outside the allow-list
     * @throws IOException               if the file is not a zip checkpoint, is corrupt or truncated, or
     *                                   has no such section; the message names the file
     */
    public static LinkedHashMap<String, HostTensor> read(Path file, String section) throws IOException {
        return read(file, section, LoadLimits.defaults());
    }

    /**
     * As {@link #read(Path, String)}, with the given limits on the pickle and on each tensor: a file
     * that needs more fails before the memory is allocated.
     */
    public static LinkedHashMap<String, HostTensor> read(Path file, String section, LoadLimits limits)
            throws IOException {
        checkMagic(file);
        try (ZipFile zip = ZipEntries.open(file, "zip archive")) {
            String dataPkl = findDataPkl(zip, file);
            String prefix = dataPkl.substring(0, dataPkl.length() - "data.pkl".length());
            ZipEntry pklEntry;
            try {
                pklEntry = ZipEntries.find(zip, dataPkl);
            } catch (IOException e) {
                throw new IOException(file + ": " + e.getMessage(), e);
            }
            Object root = unpickle(file, readEntry(zip, pklEntry, file, limits));
            Map<?, ?> stateDict = selectSection(root, section, file);
            TorchStorages storages = new TorchStorages(zip, prefix, isBigEndian(zip, prefix, file, limits), limits);
            LinkedHashMap<String, HostTensor> out = new LinkedHashMap<>();
            int skipped = 0;
            for (Map.Entry<?, ?> e : stateDict.entrySet()) {
                if (!(e.getValue() instanceof TorchTensorRef)) {
                    skipped++;
                    continue;
                }
                if (!(e.getKey() instanceof String)) {
                    throw new IOException(file + ": state dict has a non-string key " + e.getKey());
                }
                String key = (String) e.getKey();
                try {
                    out.put(key, storages.tensor(key, (TorchTensorRef) e.getValue()));
                } catch (IOException ex) {
                    throw new IOException(file + ": " + ex.getMessage(), ex);
                }
            }
            if (out.isEmpty()) {
                throw new IOException(file + ": the chosen state dict (section '" + section + "') holds no tensors");
            }
            if (skipped > 0) {
                LOG.debug("{}: skipped {} non-tensor entries of the state dict", file, skipped);
            }
            LOG.info("read {} tensors from {} (section {})", out.size(), file, section);
            return out;
        }
    }

    private static void checkMagic(Path file) throws IOException {
        byte[] head = new byte[4];
        int n;
        try (InputStream in = Files.newInputStream(file)) {
            n = in.readNBytes(head, 0, 4);
        }
        if (n >= 1 && (head[0] & 0xff) == 0x80) {
            throw new IOException(file + ": legacy (non-zip) torch.save format is not supported;"
                    + " re-save it with torch>=1.6 (torch.save(torch.load(f), f2))");
        }
        if (n < 4 || head[0] != 'P' || head[1] != 'K' || head[2] != 3 || head[3] != 4) {
            throw new IOException(file + ": not a PyTorch checkpoint (expected a zip archive written by torch.save)");
        }
    }

    private static String findDataPkl(ZipFile zip, Path file) throws IOException {
        for (ZipEntry entry : ZipEntries.list(zip, file, "zip archive")) {
            String name = entry.getName();
            int slash = name.indexOf('/');
            if (slash > 0 && name.endsWith("/data.pkl") && slash == name.length() - "/data.pkl".length()) {
                return name;
            }
        }
        throw new IOException(file + ": zip archive has no <name>/data.pkl entry, so it was not written by torch.save");
    }

    private static boolean isBigEndian(ZipFile zip, String prefix, Path file, LoadLimits limits) throws IOException {
        ZipEntry entry;
        try {
            entry = ZipEntries.find(zip, prefix + "byteorder");
        } catch (IOException e) {
            throw new IOException(file + ": " + e.getMessage(), e);
        }
        if (entry == null) {
            return false;
        }
        String order = new String(readEntry(zip, entry, file, limits), StandardCharsets.US_ASCII).trim();
        if (!order.equals("little") && !order.equals("big")) {
            throw new IOException(file + ": unknown byteorder '" + order + "'");
        }
        return order.equals("big");
    }

    /** A small entry (the pickle, the byte order), its declared size checked before it is inflated. */
    private static byte[] readEntry(ZipFile zip, ZipEntry entry, Path file, LoadLimits limits) throws IOException {
        try {
            long size = ZipEntries.declaredSize(entry);
            limits.checkPickleBytes(size, "it");
            return ZipEntries.readExactly(zip, entry, (int) size);
        } catch (IOException e) {
            throw new IOException(file + ": cannot read entry " + entry.getName() + ": " + ZipEntries.describe(e), e);
        }
    }

    private static Object unpickle(Path file, byte[] pickle) throws IOException {
        try {
            return PickleReader.forStateDicts().load(pickle);
        } catch (UnsafeCheckpointException e) {
            throw new UnsafeCheckpointException(file + ": " + e.getMessage());
        } catch (IOException e) {
            throw new IOException(file + ": data.pkl: " + e.getMessage(), e);
        }
    }

    /** The state dict {@code section} selects in the unpickled checkpoint {@code root}. */
    static Map<?, ?> selectSection(Object root, String section, Path file) throws IOException {
        if (!(root instanceof Map)) {
            throw new IOException(file + ": checkpoint holds a "
                    + (root == null ? "None" : root.getClass().getSimpleName()) + ", not a dict of tensors");
        }
        Map<?, ?> top = (Map<?, ?>) root;
        if (AUTO.equals(section)) {
            if (holdsTensors(top)) {
                return top;
            }
            for (String name : new String[] {"ema", "model"}) {
                if (top.get(name) instanceof Map) {
                    LOG.info("{}: using the '{}' state dict", file, name);
                    return (Map<?, ?>) top.get(name);
                }
            }
            throw new IOException(file + ": no state dict found (no tensors at the top level and no 'ema' or 'model'"
                    + " entry); available sections: " + sections(top) + "; top-level keys: " + top.keySet());
        }
        Object chosen = null;
        for (String name : section.split("\\|")) {
            if (AUTO.equals(name)) {
                return selectSection(root, AUTO, file);
            }
            chosen = top.get(name);
            if (chosen instanceof Map) {
                if (section.contains("|")) {
                    LOG.info("{}: using the '{}' state dict", file, name);
                }
                break;
            }
        }
        if (!(chosen instanceof Map)) {
            throw new IOException(file + ": section '" + section + "' not found; available sections: " + sections(top)
                    + (holdsTensors(top) ? " (the top level itself is a state dict: use 'auto')" : ""));
        }
        return (Map<?, ?>) chosen;
    }

    private static boolean holdsTensors(Map<?, ?> map) {
        return map.values().stream().anyMatch(v -> v instanceof TorchTensorRef);
    }

    private static List<String> sections(Map<?, ?> top) {
        List<String> names = new ArrayList<>();
        for (Map.Entry<?, ?> e : top.entrySet()) {
            if (e.getValue() instanceof Map && holdsTensors((Map<?, ?>) e.getValue())) {
                names.add(String.valueOf(e.getKey()));
            }
        }
        return names;
    }
}
