package ai.tinyfusion.io;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import ai.tinyfusion.Fixtures;
import ai.tinyfusion.model.dit.ModelFiles;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonNull;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import com.google.gson.JsonPrimitive;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Enumeration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue #21: deterministic mutants of small checkpoints in every format we read ({@code .pt},
 * safetensors, {@code .npz} and the sharded {@code model.safetensors.index.json}), at least 1,000
 * of each. Every mutant must load, or fail with an IOException (an {@link UnsafeCheckpointException}
 * included) whose message starts with the path of the file (for an index: of the index or one of
 * its shards), within a hang guard and an allocation guard; a hang, an OutOfMemoryError, a
 * StackOverflowError or any other exception fails the test with the mutant's number and how it
 * was made. Mutant {@code i} of a format depends only on {@code i}, so a failure replays alone.
 *
 * <p>The mutations: byte flips and interesting bytes, truncation, chunk deletion and duplication
 * (of the whole file, of its zip end records, of a pickle or a safetensors/JSON header that is then
 * re-wrapped with correct sizes and CRCs so that the parsers are reached), pickle opcode edits
 * (deletion, duplication, swaps, random opcodes, hostile integer operands in shapes, strides,
 * offsets and storage sizes, huge length prefixes, memo fan-out tuples used as dict keys, deep
 * nesting, unsafe globals), zip entries that lie about their sizes or CRC, deflate bombs, missing,
 * repeated and renamed entries, npy header edits (huge, negative and odd shapes, dtypes, versions,
 * header lengths), safetensors header edits (shapes, offsets, dtypes, header length, metadata and
 * the stored DiT config), and for an index: broken JSON, missing shards, wrong or repeated
 * weight_map entries, tensors repeated across shards, shard names that leave the directory
 * ({@code ../x}, absolute paths: these must be refused), huge indexes.
 *
 * <p>Counts per format and outcome are printed and written to {@code target/checkpoint-fuzz.txt}.
 * The default is {@value #DEFAULT_MUTANTS} mutants per format (about 45 s on a loaded 2-core machine, most of it warm-up); a longer run:
 * {@code mvn test -Dtest=CheckpointFuzzTest -Dtinyfusion.fuzz.mutants=20000}.
 */
class CheckpointFuzzTest {
    /** System property: mutants per format (default {@value #DEFAULT_MUTANTS}). */
    static final String COUNT_PROPERTY = "tinyfusion.fuzz.mutants";

    static final int DEFAULT_MUTANTS = 1000;
    private static final long SEED = 21;
    private static final Duration HANG_GUARD = Duration.ofSeconds(10);
    private static final long MAX_PICKLE = 16L << 20;
    private static final long MAX_TENSOR = 64L << 20;
    private static final LoadLimits LIMITS = new LoadLimits(MAX_PICKLE, MAX_TENSOR);
    /** No mutant may make a loader allocate more than this in total (the limits allow 64 MiB per array). */
    private static final long ALLOCATION_GUARD = 512L << 20;

    private static final Path REPORT = Path.of("target", "checkpoint-fuzz.txt");
    private static final byte[] INTERESTING = {
        0,
        1,
        2,
        0x7f,
        (byte) 0x80,
        (byte) 0xff,
        (byte) 0xfe,
        '(',
        ')',
        't',
        's',
        'R',
        '.',
        'q',
        'h',
        '"',
        '{',
        '}',
        '[',
        ']',
        ',',
        ':',
        '-',
        '9'
    };
    private static final long[] HOSTILE_LONGS = {
        0,
        1,
        -1,
        2,
        255,
        65535,
        65536,
        Integer.MAX_VALUE,
        Integer.MIN_VALUE,
        1L << 31,
        1L << 32,
        1L << 40,
        1L << 53,
        1L << 62,
        Long.MAX_VALUE,
        Long.MIN_VALUE,
        Long.MAX_VALUE / 4,
        -(1L << 31) - 1
    };

    private static ExecutorService worker;
    private static final Map<String, String> savedProperties = new LinkedHashMap<>();
    private static final List<String> summary = new ArrayList<>();

    @TempDir
    Path tmp;

    /** Writes mutant {@code i} (its files under {@code dir}) and returns the file to load. */
    @FunctionalInterface
    private interface Mutant {
        Made write(int i, Random random, Path dir) throws IOException;
    }

    /**
     * A written mutant: the file to load, how it was made, and whether it must be refused (a shard
     * name that leaves the directory).
     */
    private record Made(Path file, String how, boolean mustRefuse) {
        Made(Path file, String how) {
            this(file, how, false);
        }
    }

    @FunctionalInterface
    private interface Loader {
        void load(Path file) throws IOException;
    }

    @BeforeAll
    static void setUp() throws IOException {
        // ModelFiles and StateDicts read with LoadLimits.defaults(): the same limits as LIMITS
        setProperty(LoadLimits.MAX_PICKLE_PROPERTY, Long.toString(MAX_PICKLE));
        setProperty(LoadLimits.MAX_TENSOR_PROPERTY, Long.toString(MAX_TENSOR));
        worker = newWorker();
        Files.createDirectories(REPORT.toAbsolutePath().getParent());
        Files.deleteIfExists(REPORT);
    }

    @AfterAll
    static void tearDown() throws IOException {
        savedProperties.forEach((k, v) -> {
            if (v == null) {
                System.clearProperty(k);
            } else {
                System.setProperty(k, v);
            }
        });
        worker.shutdownNow();
        String text = "checkpoint fuzz: mutants per format and outcome (seed " + SEED + ")\n"
                + String.join("\n", summary) + "\n";
        System.out.print(text);
        Files.writeString(REPORT, text, StandardCharsets.UTF_8);
    }

    private static void setProperty(String key, String value) {
        savedProperties.put(key, System.getProperty(key));
        System.setProperty(key, value);
    }

    private static ExecutorService newWorker() {
        return Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "fuzz-loader");
            t.setDaemon(true);
            return t;
        });
    }

    /** System property: the first mutant to run (default 0), to replay one: {@code -Dtinyfusion.fuzz.first=9528 -Dtinyfusion.fuzz.mutants=9529}. */
    static final String FIRST_PROPERTY = "tinyfusion.fuzz.first";

    static int mutantCount() {
        return Integer.getInteger(COUNT_PROPERTY, DEFAULT_MUTANTS);
    }

    // ---------------------------------------------------------------- .pt

    @Test
    void torchCheckpoints() throws IOException {
        Path fixture = Fixtures.reference("dit_small.pt");
        byte[] original = Files.readAllBytes(fixture);
        Map<String, byte[]> entries = entries(fixture);
        String pklName = entries.keySet().stream()
                .filter(n -> n.endsWith("/data.pkl"))
                .findFirst()
                .orElseThrow();
        String prefix = pklName.substring(0, pklName.length() - "data.pkl".length());
        byte[] pickle = entries.get(pklName);
        List<int[]> ops = PickleOps.walk(pickle);
        List<int[]> ints = ops.stream().filter(PickleOps::isInteger).toList();
        List<String> storages = entries.keySet().stream()
                .filter(n -> n.startsWith(prefix + "data/"))
                .toList();
        Map<String, ZipBuilder.Entry> honest = new LinkedHashMap<>();
        entries.forEach((k, v) -> honest.put(k, ZipBuilder.stored(k, v)));
        String[] kinds = {
            "raw bytes",
            "raw end records",
            "data.pkl bytes",
            "pickle opcodes",
            "pickle integers",
            "pickle gadget",
            "zip sizes and CRC",
            "deflate bomb",
            "zip entries",
            "storage bytes"
        };
        fuzz(
                ".pt",
                kinds,
                (i, r, dir) -> {
                    Path file = dir.resolve("m" + i + ".pt");
                    String kind = kinds[i % kinds.length];
                    Map<String, ZipBuilder.Entry> zip = new LinkedHashMap<>(honest);
                    String detail;
                    switch (i % kinds.length) {
                        case 0 -> {
                            Files.write(file, Bytes.mutate(original, r, 0));
                            return new Made(file, kind);
                        }
                        case 1 -> {
                            Files.write(file, Bytes.mutate(original, r, Math.max(0, original.length - 256)));
                            return new Made(file, kind);
                        }
                        case 2 -> {
                            zip.put(pklName, ZipBuilder.stored(pklName, Bytes.mutate(pickle, r, 0)));
                            detail = "";
                        }
                        case 3 -> {
                            PickleOps.Edit edit = PickleOps.editOpcode(pickle, ops, r);
                            zip.put(pklName, ZipBuilder.stored(pklName, edit.bytes()));
                            detail = edit.how();
                        }
                        case 4 -> {
                            PickleOps.Edit edit = PickleOps.editInteger(pickle, ints, r);
                            zip.put(pklName, ZipBuilder.stored(pklName, edit.bytes()));
                            detail = edit.how();
                        }
                        case 5 -> {
                            PickleOps.Edit edit = PickleOps.insertGadget(pickle, r);
                            zip.put(pklName, ZipBuilder.stored(pklName, edit.bytes()));
                            detail = edit.how();
                        }
                        case 6 -> {
                            String name = r.nextInt(3) == 0 ? pklName : storages.get(r.nextInt(storages.size()));
                            ZipBuilder.Entry e = zip.get(name);
                            detail = name + ": " + lie(e, r, zip);
                        }
                        case 7 -> {
                            String name = r.nextBoolean() ? pklName : storages.get(r.nextInt(storages.size()));
                            zip.put(name, bomb(name, r));
                            detail = name + " " + zip.get(name).size() + " declared";
                        }
                        case 8 -> detail = editEntries(zip, r, prefix, pklName, storages);
                        default -> {
                            String name = storages.get(r.nextInt(storages.size()));
                            zip.put(name, ZipBuilder.stored(name, Bytes.resize(entries.get(name), r)));
                            detail = name;
                        }
                    }
                    ZipBuilder builder = new ZipBuilder();
                    zip.values().forEach(builder::add);
                    Files.write(file, builder.bytes());
                    return new Made(file, kind + (detail.isEmpty() ? "" : " (" + detail + ")"));
                },
                file -> ModelFiles.read(file, null));
    }

    /** Makes entry {@code e} of {@code zip} declare sizes or a CRC its data does not have. */
    private static String lie(ZipBuilder.Entry e, Random r, Map<String, ZipBuilder.Entry> zip) {
        long actual = e.data().length;
        long[] sizes = {0, 1, actual - 1, actual + 1, actual * 2, actual + 4096, 0x7fffffffL, 0xfffffffeL, 0xffffffffL};
        long size = sizes[r.nextInt(sizes.length)];
        ZipBuilder.Entry lied;
        String how;
        switch (r.nextInt(4)) {
            case 0 -> {
                lied = e.withSizes(size, size);
                how = "declares " + size + " bytes";
            }
            case 1 -> {
                lied = e.withSizes(size, e.compressedSize());
                how = "declares size " + size + ", compressed " + e.compressedSize();
            }
            case 2 -> {
                lied = e.withSizes(e.size(), size);
                how = "declares compressed size " + size;
            }
            default -> {
                lied = e.withCrc(e.crc() ^ (1L << r.nextInt(32)));
                how = "wrong CRC";
            }
        }
        zip.put(e.name(), lied);
        return how;
    }

    private static byte[] bombBytes;

    /** 128 MiB of zeros, deflated (about 130 KB); computed once. */
    private static synchronized byte[] bombBytes() {
        if (bombBytes == null) {
            bombBytes = ZipBuilder.deflate(new byte[128 << 20]);
        }
        return bombBytes;
    }

    private static final Map<Integer, ZipBuilder.Entry> npyBombs = new LinkedHashMap<>();

    /** A deflated {@code .npy} of {@code floats} zeros with its true size and CRC; computed once per size. */
    private static synchronized ZipBuilder.Entry npyBomb(int floats) {
        return npyBombs.computeIfAbsent(floats, n -> {
            byte[] header = NpyEdit.header("<f4", "(" + n + ",)");
            byte[] raw = Arrays.copyOf(header, header.length + 4 * n);
            return ZipBuilder.deflated("bomb.npy", raw);
        });
    }

    /** A deflate bomb as entry {@code name}: declaring its true size, a small size, or the 4 GiB edge. */
    private static ZipBuilder.Entry bomb(String name, Random r) {
        byte[] data = bombBytes();
        long crc = 0;
        long[] declared = {128L << 20, 1000, 64L << 20, 0xfffffffeL, (16L << 20) + 1};
        long size = declared[r.nextInt(declared.length)];
        return new ZipBuilder.Entry(name, ZipBuilder.DEFLATED, data, size, data.length, crc);
    }

    /** Drops, repeats or renames an entry, or edits the byte order record. */
    private static String editEntries(
            Map<String, ZipBuilder.Entry> zip, Random r, String prefix, String pklName, List<String> storages) {
        List<String> names = new ArrayList<>(zip.keySet());
        String name = names.get(r.nextInt(names.size()));
        switch (r.nextInt(6)) {
            case 0 -> {
                zip.remove(name);
                return "dropped " + name;
            }
            case 1 -> {
                // a repeated name: the builder keeps both (a map cannot), so append under a marker key
                zip.put(name + "\u0000dup", zip.get(name));
                return "repeated " + name;
            }
            case 2 -> {
                String renamed = r.nextBoolean() ? "../" + name : name.replace(prefix, "other/");
                zip.put(name, zip.get(name).withName(renamed));
                return "renamed " + name + " to " + renamed;
            }
            case 3 -> {
                String[] orders = {"big", "little\n", "middle", "", "\u0000", "l".repeat(5000)};
                String order = orders[r.nextInt(orders.length)];
                zip.put(
                        prefix + "byteorder",
                        ZipBuilder.stored(prefix + "byteorder", order.getBytes(StandardCharsets.UTF_8)));
                return "byteorder '" + (order.length() > 20 ? "l x 5000" : order) + "'";
            }
            case 4 -> {
                String storage = storages.get(r.nextInt(storages.size()));
                String other = storages.get(r.nextInt(storages.size()));
                zip.put(storage, zip.get(other).withName(storage));
                return storage + " holds " + other;
            }
            default -> {
                zip.remove(pklName);
                zip.put(pklName, ZipBuilder.stored(pklName, new byte[0]));
                return "empty data.pkl at the end";
            }
        }
    }

    // ---------------------------------------------------------------- .npz

    @Test
    void npzArchives() throws IOException {
        Path numpyWritten = Fixtures.reference("dit_small-io.npz");
        Map<String, byte[]> members = entries(numpyWritten);
        Map<String, HostTensor> arrays = new LinkedHashMap<>();
        arrays.put("arr_0", HostTensor.ofFloats(new float[] {1, 2, 3, 4, 5, 6}, 2, 3));
        arrays.put("arr_1", HostTensor.ofLongs(new long[] {7, 8}, 2));
        Path stored = tmp.resolve("stored.npz");
        Path deflated = tmp.resolve("deflated.npz");
        Npz.write(stored, arrays, false);
        Npz.write(deflated, arrays, true);
        byte[][] raws = {Files.readAllBytes(numpyWritten), Files.readAllBytes(stored), Files.readAllBytes(deflated)};
        List<String> names = new ArrayList<>(members.keySet());
        Map<String, ZipBuilder.Entry> storedMembers = new LinkedHashMap<>();
        Map<String, ZipBuilder.Entry> deflatedMembers = new LinkedHashMap<>();
        members.forEach((k, v) -> {
            storedMembers.put(k, ZipBuilder.stored(k, v));
            deflatedMembers.put(k, ZipBuilder.deflated(k, v));
        });
        String[] kinds = {
            "raw bytes",
            "raw end records",
            "npy header dict",
            "npy preamble",
            "npy payload",
            "zip sizes and CRC",
            "deflate bomb",
            "zip members"
        };
        fuzz(
                ".npz",
                kinds,
                (i, r, dir) -> {
                    Path file = dir.resolve("m" + i + ".npz");
                    String kind = kinds[i % kinds.length];
                    byte[] raw = raws[r.nextInt(raws.length)];
                    Map<String, ZipBuilder.Entry> zip = new LinkedHashMap<>();
                    zip.putAll(r.nextInt(3) == 0 ? deflatedMembers : storedMembers);
                    String name = names.get(r.nextInt(names.size()));
                    String detail = name;
                    switch (i % kinds.length) {
                        case 0 -> {
                            Files.write(file, Bytes.mutate(raw, r, 0));
                            return new Made(file, kind);
                        }
                        case 1 -> {
                            Files.write(file, Bytes.mutate(raw, r, Math.max(0, raw.length - 200)));
                            return new Made(file, kind);
                        }
                        case 2 -> {
                            NpyEdit edit = NpyEdit.headerDict(members.get(name), r);
                            zip.put(name, ZipBuilder.stored(name, edit.bytes()));
                            detail += ": " + edit.how();
                        }
                        case 3 -> {
                            NpyEdit edit = NpyEdit.preamble(members.get(name), r);
                            zip.put(name, ZipBuilder.stored(name, edit.bytes()));
                            detail += ": " + edit.how();
                        }
                        case 4 -> zip.put(name, ZipBuilder.stored(name, Bytes.resize(members.get(name), r)));
                        case 5 -> detail += ": " + lie(zip.get(name), r, zip);
                        case 6 -> {
                            ZipBuilder.Entry bomb;
                            if (r.nextBoolean()) {
                                // an honest bomb: a .npy of a (2^25,) or (2^23,) float array, 128 or 32 MiB of zeros
                                bomb = npyBomb(r.nextBoolean() ? 1 << 25 : 1 << 23)
                                        .withName(name);
                                if (r.nextBoolean()) {
                                    long[] lies = {1000, bomb.size() / 2, bomb.size() + 1};
                                    bomb = bomb.withSizes(lies[r.nextInt(lies.length)], bomb.compressedSize());
                                }
                            } else {
                                bomb = bomb(name, r);
                            }
                            zip.put(name, bomb);
                            detail += " " + bomb.size() + " declared";
                        }
                        default -> {
                            switch (r.nextInt(5)) {
                                case 0 -> {
                                    zip.put(name + "\u0000dup", zip.get(name));
                                    detail = "repeated " + name;
                                }
                                case 1 -> {
                                    String renamed = new String[] {
                                                "../x.npy", ".npy", "a/", "x.txt", "/abs.npy", "a\u0000b.npy"
                                            }
                                            [r.nextInt(6)];
                                    zip.put(name, zip.get(name).withName(renamed));
                                    detail = "renamed " + name + " to " + renamed;
                                }
                                case 2 -> {
                                    zip.clear();
                                    detail = "no members";
                                }
                                case 3 -> {
                                    zip.put("a/", ZipBuilder.stored("a/", new byte[0]));
                                    detail = "a directory entry";
                                }
                                default -> {
                                    zip.put(name, ZipBuilder.stored(name, new byte[0]));
                                    detail = "empty " + name;
                                }
                            }
                        }
                    }
                    ZipBuilder builder = new ZipBuilder();
                    zip.values().forEach(builder::add);
                    Files.write(file, builder.bytes());
                    return new Made(file, kind + " (" + detail + ")");
                },
                file -> {
                    try (Npz.Archive npz = Npz.open(file, LIMITS)) {
                        for (String key : npz.keys()) {
                            npz.get(key);
                        }
                    }
                });
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    /** An edited {@code .npy} member. */
    private record NpyEdit(byte[] bytes, String how) {
        private static final String[] DESCRS = {
            "<f4",
            "<f8",
            "<f2",
            "|u1",
            "|i1",
            "<i8",
            "<u8",
            ">f4",
            ">i8",
            "<c8",
            "|O",
            "<U10",
            "|b1",
            "<V4",
            "|S3",
            "f4",
            "<f16",
            "<i0",
            "",
            "<f" + "9".repeat(30)
        };
        private static final String[] SHAPES = {
            "()",
            "(0,)",
            "(-1,)",
            "(2, -3)",
            "(4294967296,)",
            "(9223372036854775807,)",
            "(9223372036854775808,)",
            "(65536, 65536)",
            "(3037000500, 3037000500)",
            "(1.5,)",
            "('a',)",
            "(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12)",
            "(2 ,3)",
            "(2,,)",
            "[2, 3]",
            "(",
            "(1<<62,)",
            "(16777217,)",
            "(-9223372036854775808,)",
            "(00,)"
        };

        /** The standard header of a member with {@code descr} and {@code shape}. */
        static byte[] header(String descr, String shape) {
            return preambled("{'descr': '" + descr + "', 'fortran_order': False, 'shape': " + shape + ", }", 1, 0, -1);
        }

        /** Magic, version, header length (-1: the true one) and the padded dict. */
        static byte[] preambled(String dict, int major, int minor, long declaredLength) {
            StringBuilder d = new StringBuilder(dict);
            int lengthBytes = major >= 2 ? 4 : 2;
            while ((6 + 2 + lengthBytes + d.length() + 1) % 64 != 0) {
                d.append(' ');
            }
            d.append('\n');
            byte[] text = d.toString().getBytes(StandardCharsets.ISO_8859_1);
            ByteBuffer b = ByteBuffer.allocate(8 + lengthBytes + text.length).order(ByteOrder.LITTLE_ENDIAN);
            b.put((byte) 0x93)
                    .put("NUMPY".getBytes(StandardCharsets.US_ASCII))
                    .put((byte) major)
                    .put((byte) minor);
            long length = declaredLength < 0 ? text.length : declaredLength;
            if (lengthBytes == 2) {
                b.putShort((short) length);
            } else {
                b.putInt((int) length);
            }
            return b.put(text).array();
        }

        /** The member's header dict and payload (v1.0 or v2.0 header). */
        static String[] split(byte[] member) {
            int lengthBytes = member[6] >= 2 ? 4 : 2;
            ByteBuffer b = ByteBuffer.wrap(member).order(ByteOrder.LITTLE_ENDIAN);
            int length = lengthBytes == 2 ? b.getShort(8) & 0xffff : b.getInt(8);
            int start = 8 + lengthBytes;
            String dict = new String(member, start, length, StandardCharsets.ISO_8859_1).strip();
            String payload =
                    new String(member, start + length, member.length - start - length, StandardCharsets.ISO_8859_1);
            return new String[] {dict, payload};
        }

        static NpyEdit headerDict(byte[] member, Random r) {
            String[] parts = split(member);
            String dict = parts[0];
            String how;
            switch (r.nextInt(5)) {
                case 0 -> {
                    String shape = SHAPES[r.nextInt(SHAPES.length)];
                    dict = dict.replaceFirst(
                            "'shape': \\([^)]*\\)", "'shape': " + java.util.regex.Matcher.quoteReplacement(shape));
                    how = "shape " + shape;
                }
                case 1 -> {
                    String descr = DESCRS[r.nextInt(DESCRS.length)];
                    dict = dict.replaceFirst("'descr': '[^']*'", "'descr': '" + descr + "'");
                    how = "descr '" + (descr.length() > 12 ? descr.substring(0, 12) + "..." : descr) + "'";
                }
                case 2 -> {
                    String[] orders = {"True", "1", "None", "'False'", "Flase"};
                    String order = orders[r.nextInt(orders.length)];
                    dict = dict.replace("False", order);
                    how = "fortran_order " + order;
                }
                case 3 -> {
                    String[] dicts = {
                        "{}",
                        "{'descr': '<f4'}",
                        "[1, 2]",
                        "{'descr': '<f4', 'descr': '<f8', 'fortran_order': False," + " 'shape': (1,)}",
                        "{'shape': (1,), 'fortran_order': False, 'descr': {'a': 1}}",
                        "{" + "(".repeat(5000) + "}",
                        "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'x': 1}"
                    };
                    dict = dicts[r.nextInt(dicts.length)];
                    how = "dict " + (dict.length() > 40 ? dict.substring(0, 40) + "..." : dict);
                }
                default -> {
                    dict = new String(
                            Bytes.mutate(dict.getBytes(StandardCharsets.ISO_8859_1), r, 0),
                            StandardCharsets.ISO_8859_1);
                    how = "dict bytes";
                }
            }
            byte[] head = preambled(dict, 1, 0, -1);
            return new NpyEdit(concat(head, parts[1].getBytes(StandardCharsets.ISO_8859_1)), how);
        }

        static NpyEdit preamble(byte[] member, Random r) {
            String[] parts = split(member);
            byte[] payload = parts[1].getBytes(StandardCharsets.ISO_8859_1);
            int[][] versions = {{1, 0}, {2, 0}, {3, 0}, {0, 0}, {4, 0}, {1, 9}, {255, 255}};
            int[] v = versions[r.nextInt(versions.length)];
            long[] lengths = {-1, -1, 0, 1, 65535, 0x7fffffffL, 0xffffffffL, 10, 63};
            long length = lengths[r.nextInt(lengths.length)];
            byte[] head = preambled(parts[0], v[0], v[1], length);
            if (r.nextInt(4) == 0) {
                head[1 + r.nextInt(5)] ^= 0x20; // NUMPY -> nUMPY
            }
            return new NpyEdit(concat(head, payload), "version " + v[0] + "." + v[1] + ", header length " + length);
        }
    }

    // ---------------------------------------------------------------- safetensors

    /** The reference DiT as one safetensors file with its config in the metadata (as our tools write it). */
    private byte[] ditSafetensors() throws IOException {
        ModelFiles.Loaded loaded = ModelFiles.read(Fixtures.reference("dit_small.pt"), null);
        Path file = tmp.resolve("dit_small.safetensors");
        Safetensors.write(
                file,
                loaded.tensors(),
                Map.of(ModelFiles.CONFIG_KEY, loaded.config().toJson()));
        return Files.readAllBytes(file);
    }

    @Test
    void safetensorsFiles() throws IOException {
        byte[] original = ditSafetensors();
        long headerLength =
                ByteBuffer.wrap(original).order(ByteOrder.LITTLE_ENDIAN).getLong(0);
        byte[] headerBytes = Arrays.copyOfRange(original, 8, 8 + (int) headerLength);
        byte[] data = Arrays.copyOfRange(original, 8 + (int) headerLength, original.length);
        String headerText = new String(headerBytes, StandardCharsets.UTF_8);
        JsonObject header = JsonParser.parseString(headerText).getAsJsonObject();
        List<String> tensors =
                header.keySet().stream().filter(k -> !k.equals("__metadata__")).toList();
        String[] kinds = {
            "raw header bytes",
            "raw bytes",
            "header length",
            "tensor fields",
            "metadata and config",
            "header entries",
            "data section",
            "header JSON bytes"
        };
        fuzz(
                ".safetensors",
                kinds,
                (i, r, dir) -> {
                    Path file = dir.resolve("m" + i + ".safetensors");
                    String kind = kinds[i % kinds.length];
                    String detail;
                    byte[] out;
                    switch (i % kinds.length) {
                        case 0 -> {
                            byte[] head = Bytes.mutate(Arrays.copyOf(original, 8 + (int) headerLength), r, 0);
                            out = concat(head, data);
                            detail = "";
                        }
                        case 1 -> {
                            out = Bytes.mutate(original, r, 0);
                            detail = "";
                        }
                        case 2 -> {
                            long[] lengths = {
                                0,
                                1,
                                2,
                                7,
                                headerLength - 1,
                                headerLength + 1,
                                headerLength + 8,
                                original.length - 8,
                                original.length,
                                1L << 31,
                                Long.MAX_VALUE,
                                -1,
                                -headerLength,
                                100_000_001,
                                100_000_000
                            };
                            long length = lengths[r.nextInt(lengths.length)];
                            out = original.clone();
                            ByteBuffer.wrap(out).order(ByteOrder.LITTLE_ENDIAN).putLong(0, length);
                            detail = Long.toString(length);
                        }
                        case 3 -> {
                            JsonObject h = header.deepCopy();
                            String name = tensors.get(r.nextInt(tensors.size()));
                            detail = name + " " + editTensor(h.getAsJsonObject(name), r);
                            out = safetensors(h.toString(), data);
                        }
                        case 4 -> {
                            JsonObject h = header.deepCopy();
                            detail = editMetadata(h, r);
                            out = safetensors(h.toString(), data);
                        }
                        case 5 -> {
                            StringBuilder text = new StringBuilder();
                            detail = editEntries(header, tensors, r, text);
                            out = safetensors(text.toString(), data);
                        }
                        case 6 -> {
                            out = concat(Arrays.copyOf(original, 8 + (int) headerLength), Bytes.resize(data, r));
                            detail = "";
                        }
                        default -> {
                            out = safetensors(
                                    new String(Bytes.mutate(headerBytes, r, 0), StandardCharsets.ISO_8859_1), data);
                            detail = "";
                        }
                    }
                    Files.write(file, out);
                    return new Made(file, kind + (detail.isEmpty() ? "" : " (" + detail + ")"));
                },
                file -> ModelFiles.read(file, null));
    }

    /** A safetensors file of header text (as Latin-1 bytes if it holds no wider character) and data. */
    private static byte[] safetensors(String header, byte[] data) {
        byte[] json = header.chars().allMatch(c -> c < 256)
                ? header.getBytes(StandardCharsets.ISO_8859_1)
                : header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + json.length + data.length).order(ByteOrder.LITTLE_ENDIAN);
        return b.putLong(json.length).put(json).put(data).array();
    }

    private static JsonElement hostileJson(Random r) {
        JsonElement[] values = {
            JsonNull.INSTANCE,
            new JsonObject(),
            new JsonArray(),
            new JsonPrimitive("1"),
            new JsonPrimitive(1.5),
            new JsonPrimitive(true),
            new JsonPrimitive(Long.MAX_VALUE),
            new JsonPrimitive(-1),
            new JsonPrimitive(new java.math.BigInteger("18446744073709551616")),
            new JsonPrimitive(1e300)
        };
        return values[r.nextInt(values.length)];
    }

    private static JsonArray longs(long... values) {
        JsonArray a = new JsonArray();
        for (long v : values) {
            a.add(v);
        }
        return a;
    }

    private static String editTensor(JsonObject t, Random r) {
        JsonArray offsets = t.getAsJsonArray("data_offsets");
        long begin = offsets.get(0).getAsLong();
        long end = offsets.get(1).getAsLong();
        switch (r.nextInt(4)) {
            case 0 -> {
                JsonArray[] shapes = {
                    longs(-1),
                    longs(1L << 62, 1L << 62),
                    longs(),
                    longs(0),
                    longs(3037000500L, 3037000500L),
                    longs(Long.MAX_VALUE),
                    longs(1L << 31, 1L << 31, 4),
                    longs(-4, -4),
                    longs((end - begin) / 4 + 1),
                    longs((end - begin) / 8, 2),
                    longs(1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1)
                };
                JsonElement shape = r.nextInt(4) == 0 ? hostileJson(r) : shapes[r.nextInt(shapes.length)];
                t.add("shape", shape);
                return "shape " + shape;
            }
            case 1 -> {
                JsonArray[] all = {
                    longs(end, begin), longs(-8, 0), longs(0, Long.MAX_VALUE), longs(begin, end + 4),
                    longs(begin + 4, end + 4), longs(0, 0), longs(begin), longs(begin, end, end),
                    longs(begin - 4, end - 4), longs(Long.MIN_VALUE, begin), longs(begin, 1L << 40)
                };
                JsonElement o = r.nextInt(4) == 0 ? hostileJson(r) : all[r.nextInt(all.length)];
                t.add("data_offsets", o);
                return "data_offsets " + o;
            }
            case 2 -> {
                String[] dtypes = {"F64", "BF16", "F16", "I8", "BOOL", "U8", "F8_E4M3", "C64", "XYZ", "f32", "I64", ""};
                JsonElement d =
                        r.nextInt(4) == 0 ? hostileJson(r) : new JsonPrimitive(dtypes[r.nextInt(dtypes.length)]);
                t.add("dtype", d);
                return "dtype " + d;
            }
            default -> {
                String[] fields = {"dtype", "shape", "data_offsets"};
                String field = fields[r.nextInt(3)];
                t.remove(field);
                return "no " + field;
            }
        }
    }

    private static String editMetadata(JsonObject h, Random r) {
        JsonObject meta = h.getAsJsonObject("__metadata__");
        String config = meta.get(ModelFiles.CONFIG_KEY).getAsString();
        switch (r.nextInt(4)) {
            case 0 -> {
                JsonObject c = JsonParser.parseString(config).getAsJsonObject();
                List<String> keys = new ArrayList<>(c.keySet());
                String key = keys.get(r.nextInt(keys.size()));
                JsonElement v = r.nextBoolean()
                        ? hostileJson(r)
                        : new JsonPrimitive(new long[] {0, -1, -2, 1L << 31, 1L << 40, 3, 7}[r.nextInt(7)]);
                c.add(key, v);
                meta.addProperty(ModelFiles.CONFIG_KEY, c.toString());
                return "config " + key + " = " + v;
            }
            case 1 -> {
                String[] configs = {"null", "{", "[]", "{}", "1", "\"x\"", "{\"hidden_size\": -1}", "", "{}{}"};
                String c = configs[r.nextInt(configs.length)];
                meta.addProperty(ModelFiles.CONFIG_KEY, c);
                return "config '" + c + "'";
            }
            case 2 -> {
                String mutated = new String(
                        Bytes.mutate(config.getBytes(StandardCharsets.ISO_8859_1), r, 0), StandardCharsets.ISO_8859_1);
                meta.addProperty(ModelFiles.CONFIG_KEY, mutated);
                return "config bytes";
            }
            default -> {
                JsonElement m = r.nextBoolean() ? hostileJson(r) : new JsonObject();
                if (m.isJsonObject()) {
                    m.getAsJsonObject().add(ModelFiles.CONFIG_KEY, hostileJson(r));
                }
                h.add("__metadata__", m);
                return "__metadata__ " + m;
            }
        }
    }

    /** Header text with an entry dropped, repeated (as a second key or under a new name), renamed or nested. */
    private static String editEntries(JsonObject header, List<String> tensors, Random r, StringBuilder text) {
        JsonObject h = header.deepCopy();
        String name = tensors.get(r.nextInt(tensors.size()));
        String json = h.toString();
        String entry = "\"" + name + "\":" + h.get(name).toString();
        switch (r.nextInt(6)) {
            case 0 -> {
                h.remove(name);
                text.append(h);
                return "dropped " + name;
            }
            case 1 -> {
                text.append(json.replace(entry, entry + "," + entry));
                return "repeated key " + name;
            }
            case 2 -> {
                h.add(name + ".copy", h.get(name).deepCopy());
                text.append(h);
                return "second tensor over " + name + "'s bytes";
            }
            case 3 -> {
                String[] names = {"", "__metadata__", "a\u0000b", "x".repeat(70_000), "\u2028", "../../etc"};
                String renamed = names[r.nextInt(names.length)];
                JsonElement value = h.remove(name);
                if (renamed.equals("__metadata__")) {
                    h.remove("__metadata__");
                }
                h.add(renamed, value);
                text.append(h);
                return "renamed to '" + (renamed.length() > 10 ? "x x 70000" : renamed) + "'";
            }
            case 4 -> {
                int depth = 100 + r.nextInt(100_000);
                text.append(json, 0, json.length() - 1)
                        .append(",\"deep\":")
                        .append("[".repeat(depth))
                        .append("]".repeat(depth))
                        .append('}');
                return "nested " + depth + " deep";
            }
            default -> {
                text.append(json.replace("\"" + name + "\"", "\"" + name + "\":{},\"" + name + "\""));
                return "empty entry before " + name;
            }
        }
    }

    // ---------------------------------------------------------------- sharded index

    @Test
    void shardedSafetensorsIndexes() throws IOException {
        ModelFiles.Loaded loaded = ModelFiles.read(Fixtures.reference("dit_small.pt"), null);
        Path dir = tmp.resolve("sharded");
        Path index = Safetensors.writeSharded(
                dir,
                "model",
                loaded.tensors(),
                Map.of(ModelFiles.CONFIG_KEY, loaded.config().toJson()),
                300_000);
        // a valid shard outside the directory: a name that reaches it must still be refused
        Path outside = tmp.resolve("outside.safetensors");
        JsonObject base = JsonParser.parseString(Files.readString(index)).getAsJsonObject();
        JsonObject weightMap = base.getAsJsonObject("weight_map");
        List<String> tensors = new ArrayList<>(weightMap.keySet());
        List<String> shards = weightMap.entrySet().stream()
                .map(e -> e.getValue().getAsString())
                .distinct()
                .toList();
        assertTrue(shards.size() >= 3, "expected several shards, got " + shards);
        Files.copy(dir.resolve(shards.get(0)), outside);
        byte[] indexBytes = Files.readAllBytes(index);
        String[] kinds = {
            "JSON bytes",
            "shard names",
            "weight_map entries",
            "tensor in two shards",
            "repeated key",
            "structure",
            "damaged shard",
            "huge or deep index"
        };
        fuzz(
                ".index.json",
                kinds,
                (i, r, unused) -> {
                    Path file = dir.resolve("m" + i + ".safetensors.index.json");
                    Path extra = dir.resolve("x" + i + ".safetensors");
                    String kind = kinds[i % kinds.length];
                    JsonObject h = base.deepCopy();
                    JsonObject map = h.getAsJsonObject("weight_map");
                    String tensor = tensors.get(r.nextInt(tensors.size()));
                    String shard = map.get(tensor).getAsString();
                    String detail;
                    boolean mustRefuse = false;
                    String text = null;
                    switch (i % kinds.length) {
                        case 0 -> {
                            text = new String(Bytes.mutate(indexBytes, r, 0), StandardCharsets.ISO_8859_1);
                            detail = "";
                        }
                        case 1 -> {
                            String[] names = {
                                "../outside.safetensors",
                                "../" + dir.getFileName() + "/" + shard,
                                outside.toString(),
                                dir.resolve(shard).toString(),
                                "./" + shard,
                                "sub/" + shard,
                                ".",
                                "..",
                                "",
                                "missing.safetensors",
                                shard + "\u0000",
                                "..\\" + shard,
                                file.getFileName().toString(),
                                "a".repeat(5000),
                                "/etc/passwd",
                                "~/" + shard,
                                shard + "/"
                            };
                            String name = names[r.nextInt(names.length)];
                            mustRefuse =
                                    name.contains("/") || name.contains("\\") || name.startsWith(".") || name.isEmpty();
                            if (r.nextInt(4) == 0) {
                                // every tensor of that shard: a traversal cannot hide behind one good entry
                                for (String t : tensors) {
                                    if (map.get(t).getAsString().equals(shard)) {
                                        map.addProperty(t, name);
                                    }
                                }
                            } else {
                                map.addProperty(tensor, name);
                            }
                            detail = tensor + " -> '" + (name.length() > 40 ? "a x 5000" : name) + "'";
                        }
                        case 2 -> {
                            switch (r.nextInt(5)) {
                                case 0 -> {
                                    map.remove(tensor);
                                    detail = "dropped " + tensor;
                                    mustRefuse = true;
                                }
                                case 1 -> {
                                    map.addProperty("ghost.weight", shard);
                                    detail = "ghost.weight -> " + shard;
                                    mustRefuse = true;
                                }
                                case 2 -> {
                                    String other = shards.get(r.nextInt(shards.size()));
                                    map.addProperty(tensor, other);
                                    detail = tensor + " -> " + other;
                                    mustRefuse = !other.equals(shard);
                                }
                                case 3 -> {
                                    map.add(tensor + "x", map.remove(tensor));
                                    detail = "renamed " + tensor;
                                    mustRefuse = true;
                                }
                                default -> {
                                    map.add(tensor, hostileJson(r));
                                    detail = tensor + " -> " + map.get(tensor);
                                    mustRefuse = true;
                                }
                            }
                        }
                        case 3 -> {
                            // the tensor also in a new shard: the map names the new one, or both hold it and one more
                            Map<String, HostTensor> copy = new LinkedHashMap<>();
                            copy.put(tensor, loaded.tensors().get(tensor));
                            String second = tensors.get(r.nextInt(tensors.size()));
                            if (r.nextBoolean()) {
                                copy.put(second, loaded.tensors().get(second));
                                map.addProperty(second, extra.getFileName().toString());
                            } else {
                                map.addProperty(tensor, extra.getFileName().toString());
                            }
                            Safetensors.write(extra, copy, Map.of());
                            detail = copy.keySet() + " in " + extra.getFileName() + " too";
                            mustRefuse = true;
                        }
                        case 4 -> {
                            String other = shards.get(r.nextInt(shards.size()));
                            String entry = "\"" + tensor + "\":\"" + shard + "\"";
                            text = h.toString().replace(entry, entry + ",\"" + tensor + "\":\"" + other + "\"");
                            detail = tensor + " -> " + shard + " and " + other;
                            mustRefuse = true;
                        }
                        case 5 -> {
                            JsonElement[] maps = {
                                new JsonObject(), new JsonArray(), JsonNull.INSTANCE, new JsonPrimitive("x")
                            };
                            switch (r.nextInt(4)) {
                                case 0 -> {
                                    JsonElement m = maps[r.nextInt(maps.length)];
                                    h.add("weight_map", m);
                                    detail = "weight_map " + m;
                                }
                                case 1 -> {
                                    h.remove("weight_map");
                                    detail = "no weight_map";
                                }
                                case 2 -> {
                                    JsonObject meta = new JsonObject();
                                    meta.add("total_size", hostileJson(r));
                                    h.add("metadata", r.nextBoolean() ? meta : hostileJson(r));
                                    detail = "metadata " + h.get("metadata");
                                }
                                default -> {
                                    text = "[" + h + "]";
                                    detail = "an array";
                                }
                            }
                        }
                        case 6 -> {
                            byte[] copy = Files.readAllBytes(dir.resolve(shard));
                            Files.write(extra, Bytes.mutate(copy, r, 0));
                            for (String t : tensors) {
                                if (map.get(t).getAsString().equals(shard)) {
                                    map.addProperty(t, extra.getFileName().toString());
                                }
                            }
                            detail = "copy of " + shard;
                        }
                        default -> {
                            if (r.nextInt(4) == 0) {
                                try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
                                    f.write('{');
                                    f.setLength(SafetensorsIndex.MAX_INDEX_BYTES + 1 + r.nextInt(1 << 20)); // sparse
                                }
                                return new Made(file, kind + " (sparse " + Files.size(file) + " bytes)");
                            }
                            int depth = 100 + r.nextInt(100_000);
                            map.add(tensor, JsonParser.parseString("[]"));
                            text = h.toString()
                                    .replace("[]", "[".repeat(depth) + "]".repeat(depth))
                                    .replace(
                                            "\"weight_map\"",
                                            "\"" + "k".repeat(r.nextInt(3) * 50_000) + "\":1,\"weight_map\"");
                            detail = "nested " + depth + " deep";
                        }
                    }
                    Files.writeString(file, text != null ? text : h.toString(), StandardCharsets.ISO_8859_1);
                    return new Made(file, kind + (detail.isEmpty() ? "" : " (" + detail + ")"), mustRefuse);
                },
                file -> ModelFiles.read(file, null),
                dir);
    }

    // ---------------------------------------------------------------- the loop

    private void fuzz(String format, String[] kinds, Mutant mutant, Loader loader) throws IOException {
        fuzz(format, kinds, mutant, loader, null);
    }

    /**
     * Loads {@link #mutantCount()} mutants, each under the hang and allocation guards; every one must
     * load or fail with an IOException naming its file (or, with {@code namedUnder}, a file in that
     * directory), and some must fail. Records the counts per outcome and per kind.
     */
    private void fuzz(String format, String[] kinds, Mutant mutant, Loader loader, Path namedUnder) throws IOException {
        int count = mutantCount();
        Path dir = Files.createDirectories(tmp.resolve("mutants" + format.replace('.', '-')));
        Map<String, Integer> outcomes = new TreeMap<>();
        Map<String, int[]> perKind = new LinkedHashMap<>();
        for (String k : kinds) {
            perKind.put(k, new int[2]);
        }
        List<String> failures = new ArrayList<>();
        long slowestNanos = 0;
        long mostAllocated = 0;
        long start = System.nanoTime();
        int first = Integer.getInteger(FIRST_PROPERTY, 0);
        for (int i = first; i < count; i++) {
            Random random = new Random(SEED * 1_000_003L + format.hashCode() * 10_007L + i);
            Made made = mutant.write(i, random, dir);
            long t0 = System.nanoTime();
            Future<Object[]> task = worker.submit(() -> load(loader, made.file()));
            Object[] result;
            try {
                result = task.get(HANG_GUARD.toMillis(), TimeUnit.MILLISECONDS);
            } catch (TimeoutException e) {
                task.cancel(true);
                worker.shutdownNow();
                worker = newWorker(); // the hung thread is abandoned (a daemon)
                result = new Object[] {new AssertionError("no result within " + HANG_GUARD.toSeconds() + " s"), 0L};
            } catch (InterruptedException | ExecutionException e) {
                result = new Object[] {e, 0L};
            }
            slowestNanos = Math.max(slowestNanos, System.nanoTime() - t0);
            Throwable outcome = (Throwable) result[0];
            long allocated = (Long) result[1];
            mostAllocated = Math.max(mostAllocated, allocated);
            String kind = kinds[i % kinds.length];
            String key;
            String problem = null;
            if (outcome == null) {
                key = "accepted";
                perKind.get(kind)[0]++;
                if (made.mustRefuse()) {
                    problem = "was accepted but must be refused";
                }
            } else {
                key = "rejected: " + outcome.getClass().getSimpleName();
                perKind.get(kind)[1]++;
                Path named = namedUnder != null ? namedUnder : made.file();
                if (!(outcome instanceof IOException)) {
                    StringBuilder trace = new StringBuilder("threw " + outcome);
                    StackTraceElement[] frames = outcome.getStackTrace();
                    for (int f = 0; f < Math.min(12, frames.length); f++) {
                        trace.append("\n    at ").append(frames[f]);
                    }
                    problem = trace.toString();
                } else if (outcome.getMessage() == null || !outcome.getMessage().startsWith(named.toString())) {
                    problem = "message does not name " + named + ": " + outcome;
                }
            }
            if (allocated > ALLOCATION_GUARD) {
                problem = "allocated " + (allocated >> 20) + " MiB";
            }
            outcomes.merge(key, 1, Integer::sum);
            if (problem != null) {
                failures.add("mutant " + i + " (" + made.how() + ") " + problem);
            }
            Files.deleteIfExists(made.file());
            if (i % 500 == 499) {
                // Safetensors maps every tensor, and a mapping is released only when its buffer is
                // collected: without this, thousands of mutants pile up mappings of deleted files
                // until vm.max_map_count (65,530) is reached and each map() waits in its own GC
                System.gc();
            }
            Files.deleteIfExists(made.file().resolveSibling("x" + i + ".safetensors"));
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        StringBuilder line = new StringBuilder(String.format(
                Locale.ROOT,
                "%-13s %5d mutants in %5.1f s (slowest %4d ms, most allocated %3d MiB):",
                format,
                count - first,
                seconds,
                slowestNanos / 1_000_000,
                mostAllocated >> 20));
        outcomes.forEach(
                (k, v) -> line.append(' ').append(k).append(' ').append(v).append(';'));
        line.setLength(line.length() - 1);
        StringBuilder byKind = new StringBuilder("              accepted/rejected by mutation:");
        perKind.forEach((k, v) -> byKind.append(' ')
                .append(k)
                .append(' ')
                .append(v[0])
                .append('/')
                .append(v[1])
                .append(';'));
        byKind.setLength(byKind.length() - 1);
        synchronized (summary) {
            summary.add(line.toString());
            summary.add(byKind.toString());
        }
        System.out.println(line);
        System.out.println(byKind);
        if (!failures.isEmpty()) {
            fail(failures.size() + " of " + count + " " + format + " mutants failed:\n"
                    + String.join("\n", failures.subList(0, Math.min(50, failures.size()))));
        }
        if (count - first < 10 * kinds.length) {
            return; // a replay of a few mutants: the checks below need many
        }
        assertTrue(outcomes.getOrDefault("accepted", 0) < count, "no " + format + " mutant was refused");
        for (Map.Entry<String, int[]> e : perKind.entrySet()) {
            assertTrue(
                    e.getValue()[1] > 0, format + ": no '" + e.getKey() + "' mutant was refused, so it tests nothing");
        }
    }

    /** What loading {@code file} threw (null if it loaded) and how many bytes this thread allocated doing it. */
    private static Object[] load(Loader loader, Path file) {
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long before = threads.getCurrentThreadAllocatedBytes();
        Throwable outcome = null;
        try {
            loader.load(file);
        } catch (Throwable t) {
            outcome = t;
        }
        return new Object[] {outcome, threads.getCurrentThreadAllocatedBytes() - before};
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

    // ---------------------------------------------------------------- byte mutations

    /** Byte-level mutations. */
    static final class Bytes {
        private Bytes() {}

        /**
         * One to four edits at or after {@code from}: a bit flip, an interesting byte, a cut, a deleted
         * chunk, a repeated chunk or inserted random bytes.
         */
        static byte[] mutate(byte[] data, Random random, int from) {
            byte[] out = data.clone();
            int edits = 1 + random.nextInt(4);
            for (int k = 0; k < edits && out.length > from; k++) {
                int at = from + random.nextInt(out.length - from);
                int length = Math.min(1 + random.nextInt(random.nextBoolean() ? 8 : 256), out.length - at);
                switch (random.nextInt(6)) {
                    case 0 -> out[at] ^= (byte) (1 << random.nextInt(8));
                    case 1 -> out[at] = INTERESTING[random.nextInt(INTERESTING.length)];
                    case 2 -> out = Arrays.copyOf(out, at);
                    case 3 -> {
                        byte[] shorter = new byte[out.length - length];
                        System.arraycopy(out, 0, shorter, 0, at);
                        System.arraycopy(out, at + length, shorter, at, out.length - at - length);
                        out = shorter;
                    }
                    case 4 -> {
                        byte[] grown = new byte[out.length + length];
                        System.arraycopy(out, 0, grown, 0, at + length);
                        System.arraycopy(out, at, grown, at + length, out.length - at);
                        out = grown;
                    }
                    default -> {
                        byte[] grown = new byte[out.length + length];
                        System.arraycopy(out, 0, grown, 0, at);
                        byte[] noise = new byte[length];
                        random.nextBytes(noise);
                        System.arraycopy(noise, 0, grown, at, length);
                        System.arraycopy(out, at, grown, at + length, out.length - at);
                        out = grown;
                    }
                }
            }
            return out;
        }

        /** Cut short, one byte short, emptied, or grown by zeros. */
        static byte[] resize(byte[] data, Random random) {
            return switch (random.nextInt(4)) {
                case 0 -> Arrays.copyOf(data, random.nextInt(Math.max(1, data.length)));
                case 1 -> Arrays.copyOf(data, Math.max(0, data.length - 1));
                case 2 -> new byte[0];
                default -> Arrays.copyOf(data, data.length + 1 + random.nextInt(4096));
            };
        }
    }

    // ---------------------------------------------------------------- pickle edits

    /** Opcode-aware pickle edits. */
    static final class PickleOps {
        private PickleOps() {}

        /** An edited pickle and what was done. */
        record Edit(byte[] bytes, String how) {}

        /** Operand bytes after the opcode, or -1 for a newline-terminated operand, -2 for two such lines. */
        private static int fixedOperand(int op) {
            return switch (op) {
                case 0x80, 'K', 'q', 'h', 0x82 -> 1;
                case 'M', 0x83 -> 2;
                case 'J', 'r', 'j', 0x84 -> 4;
                case 'G', 0x95 -> 8;
                case 'I', 'L', 'F', 'S', 'V', 'P', 'p', 'g' -> -1;
                case 'c', 'i' -> -2;
                default -> 0;
            };
        }

        private static final String NO_OPERAND =
                "()]}.012N\u0088\u0089t\u0085\u0086\u0087ldaesubRQ\u0081\u0092\u0093\u0094\u0090\u0091o";

        /** The opcodes of {@code p} as {start, length, opcode}, up to the first it does not know. */
        static List<int[]> walk(byte[] p) {
            List<int[]> ops = new ArrayList<>();
            int at = 0;
            while (at < p.length) {
                int op = p[at] & 0xff;
                int length;
                int fixed = fixedOperand(op);
                if (op == 0x8a) {
                    length = 2 + (p[at + 1] & 0xff);
                } else if (op == 'X' || op == 'B' || op == 'T') {
                    length = 5
                            + ByteBuffer.wrap(p, at + 1, 4)
                                    .order(ByteOrder.LITTLE_ENDIAN)
                                    .getInt();
                } else if (op == 0x8c || op == 'C' || op == 'U') {
                    length = 2 + (p[at + 1] & 0xff);
                } else if (fixed > 0) {
                    length = 1 + fixed;
                } else if (fixed < 0) {
                    int end = at + 1;
                    for (int lines = -fixed; lines > 0; end++) {
                        if (p[end] == '\n') {
                            lines--;
                        }
                    }
                    length = end - at;
                } else if (NO_OPERAND.indexOf(op) >= 0) {
                    length = 1;
                } else {
                    break;
                }
                ops.add(new int[] {at, length, op});
                at += length;
                if (op == '.') {
                    break;
                }
            }
            return ops;
        }

        static boolean isInteger(int[] op) {
            return op[2] == 'K' || op[2] == 'M' || op[2] == 'J' || op[2] == 0x8a;
        }

        private static byte[] splice(byte[] p, int at, int remove, byte[] insert) {
            byte[] out = new byte[p.length - remove + insert.length];
            System.arraycopy(p, 0, out, 0, at);
            System.arraycopy(insert, 0, out, at, insert.length);
            System.arraycopy(p, at + remove, out, at + insert.length, p.length - at - remove);
            return out;
        }

        static Edit editOpcode(byte[] p, List<int[]> ops, Random r) {
            int[] op = ops.get(1 + r.nextInt(ops.size() - 1));
            byte[] self = Arrays.copyOfRange(p, op[0], op[0] + op[1]);
            String name = String.format("0x%02x at %d", op[2], op[0]);
            switch (r.nextInt(6)) {
                case 0 -> {
                    return new Edit(splice(p, op[0], op[1], new byte[0]), "deleted " + name);
                }
                case 1 -> {
                    return new Edit(splice(p, op[0], 0, self), "repeated " + name);
                }
                case 2 -> {
                    int k = ops.indexOf(op);
                    if (k + 1 < ops.size()) {
                        int[] next = ops.get(k + 1);
                        byte[] both = concat(Arrays.copyOfRange(p, next[0], next[0] + next[1]), self);
                        return new Edit(splice(p, op[0], op[1] + next[1], both), "swapped " + name + " with the next");
                    }
                    return new Edit(splice(p, op[0], 0, self), "repeated " + name);
                }
                case 3 -> {
                    byte[] changed = self.clone();
                    changed[0] = (byte) r.nextInt(256);
                    return new Edit(splice(p, op[0], op[1], changed), name + " became " + (changed[0] & 0xff));
                }
                case 4 -> {
                    byte[] inserted = {(byte) NO_OPERAND.charAt(r.nextInt(NO_OPERAND.length()))};
                    return new Edit(
                            splice(p, op[0], 0, inserted), "inserted 0x" + Integer.toHexString(inserted[0] & 0xff));
                }
                default -> {
                    // a length prefix that claims far more than the pickle holds
                    int[][] prefixed = {{'X', 4}, {'B', 4}, {0x8d, 8}, {0x8e, 8}, {0x8c, 1}, {'T', 4}};
                    int[] pick = prefixed[r.nextInt(prefixed.length)];
                    ByteBuffer b = ByteBuffer.allocate(1 + pick[1] + 3).order(ByteOrder.LITTLE_ENDIAN);
                    b.put((byte) pick[0]);
                    long claim = HOSTILE_LONGS[r.nextInt(HOSTILE_LONGS.length)];
                    for (int k = 0; k < pick[1]; k++) {
                        b.put((byte) (claim >>> (8 * k)));
                    }
                    b.put((byte) 'a').put((byte) 'b').put((byte) 'c');
                    return new Edit(
                            splice(p, op[0], 0, b.array()),
                            "inserted 0x" + Integer.toHexString(pick[0]) + " claiming " + claim + " bytes");
                }
            }
        }

        static Edit editInteger(byte[] p, List<int[]> ints, Random r) {
            int[] op = ints.get(r.nextInt(ints.size()));
            long old = value(p, op);
            long[] candidates = {
                HOSTILE_LONGS[r.nextInt(HOSTILE_LONGS.length)], old + 1, old - 1, old * 1024, -old, old << 32
            };
            long v = candidates[r.nextInt(candidates.length)];
            ByteBuffer b = ByteBuffer.allocate(10).order(ByteOrder.LITTLE_ENDIAN);
            b.put((byte) 0x8a).put((byte) 8).putLong(v);
            return new Edit(splice(p, op[0], op[1], b.array()), "integer " + old + " at " + op[0] + " became " + v);
        }

        private static long value(byte[] p, int[] op) {
            ByteBuffer b = ByteBuffer.wrap(p).order(ByteOrder.LITTLE_ENDIAN);
            return switch (op[2]) {
                case 'K' -> p[op[0] + 1] & 0xff;
                case 'M' -> b.getShort(op[0] + 1) & 0xffff;
                case 'J' -> b.getInt(op[0] + 1);
                default -> {
                    int n = p[op[0] + 1] & 0xff;
                    long v = 0;
                    for (int k = 0; k < Math.min(n, 8); k++) {
                        v |= (p[op[0] + 2 + k] & 0xffL) << (8 * k);
                    }
                    yield n == 0 ? 0 : (v << (64 - 8 * Math.min(n, 8))) >> (64 - 8 * Math.min(n, 8));
                }
            };
        }

        /** Inserts, after the protocol header, a gadget whose result is popped, then the original pickle. */
        static Edit insertGadget(byte[] p, Random r) {
            ByteArrayOutputStream g = new ByteArrayOutputStream();
            String how;
            switch (r.nextInt(7)) {
                case 0 -> {
                    // memo fan-out: t(k) = (t(k-1), t(k-1)) through the memo, used as a dict key
                    int depth = 10 + r.nextInt(40);
                    g.write('}');
                    g.write(0x8c);
                    g.write(1);
                    g.write('x');
                    for (int k = 0; k < depth; k++) {
                        g.write('r');
                        g.writeBytes(le(1_000_000 + k, 4));
                        g.write('j');
                        g.writeBytes(le(1_000_000 + k, 4));
                        g.write(0x86);
                    }
                    g.write('K');
                    g.write(1);
                    g.write('s');
                    how = "memo fan-out key of depth " + depth;
                }
                case 1 -> {
                    int depth = 1000 + r.nextInt(200_000);
                    g.write('}');
                    g.write(')');
                    for (int k = 0; k < depth; k++) {
                        g.write(0x85);
                    }
                    g.write('K');
                    g.write(1);
                    g.write('s');
                    how = "tuple nested " + depth + " deep as a key";
                }
                case 2 -> {
                    int depth = 1000 + r.nextInt(200_000);
                    for (int k = 0; k < depth; k++) {
                        g.write(']');
                    }
                    for (int k = 1; k < depth; k++) {
                        g.write('a');
                    }
                    how = "list nested " + depth + " deep";
                }
                case 3 -> {
                    int marks = 1000 + r.nextInt(200_000);
                    for (int k = 0; k < marks; k++) {
                        g.write('(');
                    }
                    g.write('N');
                    for (int k = 1; k < marks; k++) {
                        g.write('1'); // POP_MARK
                    }
                    g.write('t');
                    how = marks + " marks";
                }
                case 4 -> {
                    long index = HOSTILE_LONGS[r.nextInt(HOSTILE_LONGS.length)];
                    g.write('N');
                    g.write('r');
                    g.writeBytes(le(index, 4));
                    g.write('0');
                    g.write('j');
                    g.writeBytes(le(index + 1, 4));
                    how = "memo index " + (int) index;
                }
                case 5 -> {
                    String[][] globals = {
                        {"os", "system"},
                        {"builtins", "eval"},
                        {"subprocess", "Popen"},
                        {"torch", "load"},
                        {"numpy.core.multiarray", "_reconstruct"},
                        {"collections", "OrderedDict\nos"}
                    };
                    String[] global = globals[r.nextInt(globals.length)];
                    g.writeBytes(("c" + global[0] + "\n" + global[1] + "\n").getBytes(StandardCharsets.UTF_8));
                    g.writeBytes(new byte[] {(byte) 0x8c, 2, 'i', 'd', (byte) 0x85, 'R'});
                    how = "global " + global[0] + "." + global[1];
                }
                default -> {
                    int n = 1000 + r.nextInt(100_000);
                    g.write('}');
                    for (int k = 0; k < n; k++) {
                        g.write('J');
                        g.writeBytes(le(k, 4));
                        g.write('N');
                        g.write('s');
                    }
                    how = "dict of " + n + " items";
                }
            }
            g.write('0'); // POP the gadget's result
            int at = (p.length >= 2 && (p[0] & 0xff) == 0x80) ? 2 : 0;
            return new Edit(splice(p, at, 0, g.toByteArray()), how);
        }

        private static byte[] le(long v, int n) {
            byte[] out = new byte[n];
            for (int k = 0; k < n; k++) {
                out[k] = (byte) (v >>> (8 * k));
            }
            return out;
        }
    }
}
