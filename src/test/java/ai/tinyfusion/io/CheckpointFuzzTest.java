package ai.tinyfusion.io;

import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import ai.tinyfusion.Fixtures;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Enumeration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue #21: 1,000 deterministic mutants of the reference checkpoint (and 200 each of a small
 * {@code .npz} and safetensors file) each load or fail with an IOException that names the file,
 * within a hang guard and a 64 MiB tensor limit (so a mutant cannot demand gigabytes). Most
 * checkpoint mutants change {@code data.pkl} and are re-zipped with correct CRCs, so they reach the
 * pickle reader and the tensor checks instead of failing the CRC; the rest damage the raw file,
 * the end records included.
 */
class CheckpointFuzzTest {
    private static final int MUTANTS = 1000;
    private static final long SEED = 21;
    private static final Duration HANG_GUARD = Duration.ofSeconds(10);
    private static final LoadLimits LIMITS = new LoadLimits(16 << 20, 64 << 20);
    private static final byte[] INTERESTING = {0, 1, 0x7f, (byte) 0x80, (byte) 0xff, '(', 't', 's', 'R', '.'};

    @TempDir
    Path tmp;

    /** Writes mutant {@code i} to {@code file} and says how it was made. */
    @FunctionalInterface
    private interface Mutant {
        String write(int i, Path file) throws IOException;
    }

    /** A loader under test. */
    @FunctionalInterface
    private interface Loader {
        void load(Path file) throws IOException;
    }

    @Test
    void torchCheckpointMutants() throws IOException {
        Path fixture = Fixtures.reference("dit_small.pt");
        byte[] original = Files.readAllBytes(fixture);
        Map<String, byte[]> entries = entries(fixture);
        String pklName = entries.keySet().stream()
                .filter(n -> n.endsWith("/data.pkl"))
                .findFirst()
                .orElseThrow();
        Random random = new Random(SEED);
        fuzz(
                ".pt",
                MUTANTS,
                (i, file) -> {
                    if (i % 5 == 4) {
                        Files.write(file, mutate(original, random, i % 10 == 9));
                        return "raw bytes";
                    }
                    Map<String, byte[]> mutated = new LinkedHashMap<>(entries);
                    mutated.put(pklName, mutate(entries.get(pklName), random, false));
                    TorchZips.writeEntries(file, mutated);
                    return "data.pkl";
                },
                file -> TorchCheckpoint.read(file, TorchCheckpoint.AUTO, LIMITS));
    }

    @Test
    void npzAndSafetensorsMutants() throws IOException {
        Map<String, HostTensor> arrays = new LinkedHashMap<>();
        arrays.put("arr_0", HostTensor.ofFloats(new float[] {1, 2, 3, 4, 5, 6}, 2, 3));
        arrays.put("arr_1", HostTensor.ofLongs(new long[] {7, 8}, 2));
        Path stored = tmp.resolve("stored.npz");
        Path deflated = tmp.resolve("deflated.npz");
        Path safetensors = tmp.resolve("small.safetensors");
        Npz.write(stored, arrays, false);
        Npz.write(deflated, arrays, true);
        Safetensors.write(safetensors, arrays, Map.of("k", "v"));
        byte[][] originals = {Files.readAllBytes(stored), Files.readAllBytes(deflated), Files.readAllBytes(safetensors)
        };
        Random random = new Random(SEED + 1);
        fuzz(
                ".npz",
                200,
                (i, file) -> {
                    Files.write(file, mutate(originals[i % 2], random, i % 4 >= 2));
                    return i % 2 == 0 ? "stored npz" : "deflated npz";
                },
                file -> {
                    try (Npz.Archive npz = Npz.open(file, LIMITS)) {
                        for (String key : npz.keys()) {
                            npz.get(key);
                        }
                    }
                });
        fuzz(
                ".safetensors",
                200,
                (i, file) -> {
                    Files.write(file, mutate(originals[2], random, false));
                    return "safetensors";
                },
                Safetensors::read);
    }

    /**
     * Loads {@code count} mutants, each under the hang guard; every one must load or fail with an
     * IOException that names its file, and some must fail.
     */
    private void fuzz(String suffix, int count, Mutant mutant, Loader loader) throws IOException {
        List<String> failures = new ArrayList<>();
        int loaded = 0;
        for (int i = 0; i < count; i++) {
            Path file = tmp.resolve("mutant" + i + suffix);
            String how = mutant.write(i, file);
            Throwable outcome;
            try {
                outcome = assertTimeoutPreemptively(HANG_GUARD, () -> outcome(loader, file));
            } catch (AssertionError timedOut) {
                outcome = timedOut;
            }
            if (outcome == null) {
                loaded++;
            } else if (!(outcome instanceof IOException)) {
                failures.add(i + " (" + how + "): " + outcome);
            } else if (outcome.getMessage() == null || !outcome.getMessage().startsWith(file.toString())) {
                failures.add(i + " (" + how + "): message does not name the file: " + outcome);
            }
            Files.delete(file);
        }
        if (!failures.isEmpty()) {
            fail(failures.size() + " of " + count + " " + suffix + " mutants failed:\n" + String.join("\n", failures));
        }
        assertTrue(loaded < count, "no " + suffix + " mutant was refused, so the mutations do nothing");
    }

    /** What loading {@code file} threw, or null if it loaded. */
    private static Throwable outcome(Loader loader, Path file) {
        try {
            loader.load(file);
            return null;
        } catch (Throwable t) {
            return t;
        }
    }

    private static Map<String, byte[]> entries(Path file) throws IOException {
        Map<String, byte[]> out = new LinkedHashMap<>();
        try (ZipFile zip = new ZipFile(file.toFile())) {
            Enumeration<? extends ZipEntry> all = zip.entries();
            while (all.hasMoreElements()) {
                ZipEntry e = all.nextElement();
                out.put(e.getName(), zip.getInputStream(e).readAllBytes());
            }
        }
        return out;
    }

    /**
     * One to four random edits: a random or interesting byte, a cut, or a repeated chunk;
     * {@code tail} aims them at the last 256 bytes (a zip's central directory and end record).
     */
    private static byte[] mutate(byte[] data, Random random, boolean tail) {
        byte[] out = data.clone();
        int edits = 1 + random.nextInt(4);
        for (int k = 0; k < edits; k++) {
            int from = tail ? Math.max(0, out.length - 256) : 0;
            int at = from + random.nextInt(out.length - from);
            switch (random.nextInt(4)) {
                case 0 -> out[at] = (byte) random.nextInt(256);
                case 1 -> out[at] = INTERESTING[random.nextInt(INTERESTING.length)];
                case 2 -> out = Arrays.copyOf(out, at);
                default -> {
                    int length = Math.min(1 + random.nextInt(64), out.length - at);
                    byte[] grown = new byte[out.length + length];
                    System.arraycopy(out, 0, grown, 0, at + length);
                    System.arraycopy(out, at, grown, at + length, out.length - at);
                    out = grown;
                }
            }
            if (out.length == 0) {
                return out;
            }
        }
        return out;
    }
}
