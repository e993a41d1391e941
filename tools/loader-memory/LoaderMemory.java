import ai.tinyfusion.io.HostTensor;
import ai.tinyfusion.io.StateDicts;
import ai.tinyfusion.model.dit.ModelFiles;
import com.sun.management.GarbageCollectionNotificationInfo;
import java.io.BufferedOutputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.lang.management.MemoryUsage;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import javax.management.NotificationEmitter;
import javax.management.openmbean.CompositeData;

/**
 * Peak memory of loading the largest legitimate checkpoint, DiT-XL/2 (675M parameters, 2.7 GB of
 * float32), for issue #21. Not part of the build: {@code tools/loader-memory/run.sh} compiles it
 * against a tinyfusion jar, so that the same measuring code runs against the code of any commit.
 *
 * <ul>
 *   <li>{@code write DIR}: writes {@code dit-xl-2.safetensors}, {@code dit-xl-2.pt} (the
 *       {@code torch.save} zip layout: {@code archive/data.pkl} with one storage per tensor,
 *       stored entries) and {@code dit-xl-2.npz} (stored {@code .npy} members) with the same
 *       deterministic pseudo-random weights, one tensor at a time (needs about 64 MiB of heap).
 *       Pure JDK: the files do not depend on the code under test.
 *   <li>{@code write-array DIR}: writes {@code array-1.9g.npz} and {@code array-1.9g.pt}, each one
 *       float32 array of 475,000,000 elements (1.9 GB, just under the 2 GiB a Java buffer holds):
 *       the single large array of issue #21, which the pre-hardening readers held twice.
 *   <li>{@code load-array FILE}: {@code StateDicts.load(FILE)} (no DiT config to infer), measured
 *       as {@code load} is.
 *   <li>{@code load FILE}: {@code ModelFiles.read(FILE, null)} as {@code tinyfusion info} does,
 *       then reads every byte of every tensor (a checksum, as copying into libtorch would). Prints
 *       the peak heap in use while loading (the largest heap occupancy seen just before any
 *       collection, by sampling every 2 ms, or at the end), the sum of the heap pools' peaks (an
 *       upper bound), and the peak resident set size (VmHWM).
 * </ul>
 */
public final class LoaderMemory {
    private static final int HIDDEN = 1152;
    private static final int DEPTH = 28;
    private static final int PATCH = 2;
    private static final int IN_CHANNELS = 4;
    private static final int OUT_CHANNELS = 8; // learn_sigma
    private static final int CLASSES = 1000;
    private static final int TOKENS = 256; // (32 / 2)^2
    private static final int FREQ = 256;

    public static void main(String[] args) throws Exception {
        if (args.length == 2 && args[0].equals("write")) {
            write(Path.of(args[1]));
        } else if (args.length == 2 && args[0].equals("write-array")) {
            writeArray(Path.of(args[1]));
        } else if (args.length == 2 && (args[0].equals("load") || args[0].equals("load-array"))) {
            load(Path.of(args[1]), args[0].equals("load"));
        } else {
            System.err.println("usage: LoaderMemory write DIR | write-array DIR | load FILE | load-array FILE");
            System.exit(2);
        }
    }

    /** The DiT-XL/2 state dict layout (official key names and order). */
    static Map<String, long[]> shapes() {
        Map<String, long[]> s = new LinkedHashMap<>();
        s.put("pos_embed", new long[] {1, TOKENS, HIDDEN});
        s.put("x_embedder.proj.weight", new long[] {HIDDEN, IN_CHANNELS, PATCH, PATCH});
        s.put("x_embedder.proj.bias", new long[] {HIDDEN});
        s.put("t_embedder.mlp.0.weight", new long[] {HIDDEN, FREQ});
        s.put("t_embedder.mlp.0.bias", new long[] {HIDDEN});
        s.put("t_embedder.mlp.2.weight", new long[] {HIDDEN, HIDDEN});
        s.put("t_embedder.mlp.2.bias", new long[] {HIDDEN});
        s.put("y_embedder.embedding_table.weight", new long[] {CLASSES + 1, HIDDEN});
        for (int i = 0; i < DEPTH; i++) {
            String b = "blocks." + i + ".";
            s.put(b + "attn.qkv.weight", new long[] {3 * HIDDEN, HIDDEN});
            s.put(b + "attn.qkv.bias", new long[] {3 * HIDDEN});
            s.put(b + "attn.proj.weight", new long[] {HIDDEN, HIDDEN});
            s.put(b + "attn.proj.bias", new long[] {HIDDEN});
            s.put(b + "mlp.fc1.weight", new long[] {4 * HIDDEN, HIDDEN});
            s.put(b + "mlp.fc1.bias", new long[] {4 * HIDDEN});
            s.put(b + "mlp.fc2.weight", new long[] {HIDDEN, 4 * HIDDEN});
            s.put(b + "mlp.fc2.bias", new long[] {HIDDEN});
            s.put(b + "adaLN_modulation.1.weight", new long[] {6 * HIDDEN, HIDDEN});
            s.put(b + "adaLN_modulation.1.bias", new long[] {6 * HIDDEN});
        }
        s.put("final_layer.linear.weight", new long[] {PATCH * PATCH * OUT_CHANNELS, HIDDEN});
        s.put("final_layer.linear.bias", new long[] {PATCH * PATCH * OUT_CHANNELS});
        s.put("final_layer.adaLN_modulation.1.weight", new long[] {2 * HIDDEN, HIDDEN});
        s.put("final_layer.adaLN_modulation.1.bias", new long[] {2 * HIDDEN});
        return s;
    }

    static long numel(long[] shape) {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        return n;
    }

    /** Tensor {@code index}'s float32 little-endian bytes: uniform in [-0.02, 0.02), from a seeded SplitMix64. */
    static ByteBuffer data(int index, long numel) {
        ByteBuffer b = ByteBuffer.allocate(Math.toIntExact(numel * 4)).order(ByteOrder.LITTLE_ENDIAN);
        fill(b, index, 0);
        return b.flip();
    }

    /** Fills {@code b} with elements {@code first, first + 1, ...} of tensor {@code index}. */
    static void fill(ByteBuffer b, int index, long first) {
        long seed = 0x2121_2121L * (index + 1);
        for (long i = first; b.remaining() >= 4; i++) {
            long z = seed + (i + 1) * 0x9E3779B97F4A7C15L;
            z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
            z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
            z ^= z >>> 31;
            b.putFloat(((z >>> 40) / (float) (1 << 24) - 0.5f) * 0.04f);
        }
    }

    /** The elements of the single large array. */
    static final long ARRAY_NUMEL = 475_000_000L;

    /** Writes {@code array-1.9g.npz} and {@code array-1.9g.pt}, generating the array in 16 MiB chunks. */
    static void writeArray(Path dir) throws IOException {
        Files.createDirectories(dir);
        long bytes = ARRAY_NUMEL * 4;
        byte[] npyHeader = npyHeader(new long[] {ARRAY_NUMEL});
        CRC32 npyCrc = new CRC32();
        npyCrc.update(npyHeader);
        CRC32 rawCrc = new CRC32();
        chunks(b -> {
            npyCrc.update(b.duplicate());
            rawCrc.update(b.duplicate());
        });
        Path npz = dir.resolve("array-1.9g.npz");
        try (OutputStream os = new BufferedOutputStream(Files.newOutputStream(npz), 1 << 20);
                ZipOutputStream zip = new ZipOutputStream(os)) {
            ZipEntry entry = storedEntry("w.npy", npyHeader.length + bytes, npyCrc.getValue());
            zip.putNextEntry(entry);
            zip.write(npyHeader);
            chunks(b -> zip.write(b.array(), 0, b.limit()));
            zip.closeEntry();
        }
        System.out.println("wrote " + npz + " (" + Files.size(npz) + " bytes)");
        Pickle p = new Pickle();
        p.op(0x80).op(2).global("collections", "OrderedDict").op(')').op('R');
        p.str("w").global("torch._utils", "_rebuild_tensor_v2").op('(');
        p.op('(').str("storage").global("torch", "FloatStorage").str("0").str("cpu");
        p.integer(ARRAY_NUMEL).op('t').op('Q');
        p.integer(0).ints(new long[] {ARRAY_NUMEL}).ints(new long[] {1}).op(0x89);
        p.global("collections", "OrderedDict").op(')').op('R');
        p.op('t').op('R').op('s').op('.');
        Path pt = dir.resolve("array-1.9g.pt");
        try (OutputStream os = new BufferedOutputStream(Files.newOutputStream(pt), 1 << 20);
                ZipOutputStream zip = new ZipOutputStream(os)) {
            stored(zip, "archive/data.pkl", ByteBuffer.wrap(p.bytes()));
            zip.putNextEntry(storedEntry("archive/data/0", bytes, rawCrc.getValue()));
            chunks(b -> zip.write(b.array(), 0, b.limit()));
            zip.closeEntry();
            stored(zip, "archive/version", ByteBuffer.wrap("3\n".getBytes(StandardCharsets.US_ASCII)));
        }
        System.out.println("wrote " + pt + " (" + Files.size(pt) + " bytes)");
    }

    /** A consumer of one chunk that may throw. */
    interface Chunk {
        void accept(ByteBuffer b) throws IOException;
    }

    /** Passes the single array to {@code consumer} in chunks of 4M elements. */
    private static void chunks(Chunk consumer) throws IOException {
        int chunk = 1 << 22;
        ByteBuffer b = ByteBuffer.allocate(chunk * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (long first = 0; first < ARRAY_NUMEL; first += chunk) {
            b.clear().limit((int) Math.min(chunk, ARRAY_NUMEL - first) * 4);
            fill(b, 0, first);
            b.flip();
            consumer.accept(b);
        }
    }

    private static ZipEntry storedEntry(String name, long size, long crc) {
        ZipEntry entry = new ZipEntry(name);
        entry.setMethod(ZipEntry.STORED);
        entry.setSize(size);
        entry.setCompressedSize(size);
        entry.setCrc(crc);
        entry.setTime(315532800000L + 43200000L);
        return entry;
    }

    // ---- write ----

    static void write(Path dir) throws IOException {
        Files.createDirectories(dir);
        Map<String, long[]> shapes = shapes();
        long params = shapes.values().stream().mapToLong(LoaderMemory::numel).sum();
        System.out.printf(Locale.ROOT, "DiT-XL/2 layout: %d tensors, %,d parameters (%,d bytes)%n",
                shapes.size(), params, params * 4);
        long t0 = System.nanoTime();
        writeSafetensors(dir.resolve("dit-xl-2.safetensors"), shapes);
        writeTorchZip(dir.resolve("dit-xl-2.pt"), shapes);
        writeNpz(dir.resolve("dit-xl-2.npz"), shapes);
        System.out.printf(Locale.ROOT, "wrote 3 files in %.1f s%n", (System.nanoTime() - t0) / 1e9);
    }

    static void writeSafetensors(Path file, Map<String, long[]> shapes) throws IOException {
        StringBuilder json = new StringBuilder("{\"__metadata__\":{\"format\":\"pt\"}");
        long offset = 0;
        for (Map.Entry<String, long[]> e : shapes.entrySet()) {
            long bytes = numel(e.getValue()) * 4;
            json.append(",\"").append(e.getKey()).append("\":{\"dtype\":\"F32\",\"shape\":[");
            for (int i = 0; i < e.getValue().length; i++) {
                json.append(i == 0 ? "" : ",").append(e.getValue()[i]);
            }
            json.append("],\"data_offsets\":[").append(offset).append(',').append(offset + bytes).append("]}");
            offset += bytes;
        }
        json.append('}');
        while ((8 + json.length()) % 8 != 0) {
            json.append(' ');
        }
        byte[] header = json.toString().getBytes(StandardCharsets.UTF_8);
        try (FileChannel ch = FileChannel.open(
                file, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE)) {
            writeFully(ch, ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(0, header.length));
            writeFully(ch, ByteBuffer.wrap(header));
            int i = 0;
            for (long[] shape : shapes.values()) {
                writeFully(ch, data(i++, numel(shape)));
            }
        }
        System.out.println("wrote " + file + " (" + Files.size(file) + " bytes)");
    }

    private static void writeFully(FileChannel ch, ByteBuffer b) throws IOException {
        while (b.hasRemaining()) {
            ch.write(b);
        }
    }

    /**
     * The {@code torch.save} zip layout of an OrderedDict state dict: each tensor is
     * {@code torch._utils._rebuild_tensor_v2(persistent_load(('storage', torch.FloatStorage, key,
     * 'cpu', numel)), 0, shape, stride, False, OrderedDict())}, its storage the stored entry
     * {@code archive/data/<key>}.
     */
    static void writeTorchZip(Path file, Map<String, long[]> shapes) throws IOException {
        Pickle p = new Pickle();
        p.op(0x80).op(2).global("collections", "OrderedDict").op(')').op('R');
        int key = 0;
        for (Map.Entry<String, long[]> e : shapes.entrySet()) {
            long[] shape = e.getValue();
            long[] stride = new long[shape.length];
            long s = 1;
            for (int d = shape.length - 1; d >= 0; d--) {
                stride[d] = s;
                s *= shape[d];
            }
            p.str(e.getKey());
            p.global("torch._utils", "_rebuild_tensor_v2").op('(');
            p.op('(').str("storage").global("torch", "FloatStorage").str(Integer.toString(key++)).str("cpu");
            p.integer(numel(shape)).op('t').op('Q');
            p.integer(0).ints(shape).ints(stride).op(0x89);
            p.global("collections", "OrderedDict").op(')').op('R');
            p.op('t').op('R').op('s');
        }
        p.op('.');
        try (OutputStream os = new BufferedOutputStream(Files.newOutputStream(file), 1 << 20);
                ZipOutputStream zip = new ZipOutputStream(os)) {
            stored(zip, "archive/data.pkl", ByteBuffer.wrap(p.bytes()));
            stored(zip, "archive/byteorder", ByteBuffer.wrap("little".getBytes(StandardCharsets.US_ASCII)));
            int i = 0;
            for (long[] shape : shapes.values()) {
                stored(zip, "archive/data/" + i, data(i, numel(shape)));
                i++;
            }
            stored(zip, "archive/version", ByteBuffer.wrap("3\n".getBytes(StandardCharsets.US_ASCII)));
        }
        System.out.println("wrote " + file + " (" + Files.size(file) + " bytes)");
    }

    /** NumPy {@code savez} layout: one stored {@code <name>.npy} member (format 1.0) per tensor. */
    static void writeNpz(Path file, Map<String, long[]> shapes) throws IOException {
        try (OutputStream os = new BufferedOutputStream(Files.newOutputStream(file), 1 << 20);
                ZipOutputStream zip = new ZipOutputStream(os)) {
            int i = 0;
            for (Map.Entry<String, long[]> e : shapes.entrySet()) {
                long[] shape = e.getValue();
                ByteBuffer header = ByteBuffer.wrap(npyHeader(shape));
                header.position(header.limit());
                ByteBuffer data = data(i++, numel(shape));
                ByteBuffer member = ByteBuffer.allocate(header.capacity() + data.remaining());
                member.put(header.flip()).put(data).flip();
                stored(zip, e.getKey() + ".npy", member);
            }
        }
        System.out.println("wrote " + file + " (" + Files.size(file) + " bytes)");
    }

    /** A {@code .npy} format 1.0 header of a little-endian float32 array, padded to 64 bytes. */
    static byte[] npyHeader(long[] shape) {
        StringBuilder dims = new StringBuilder();
        for (long d : shape) {
            dims.append(d).append(", ");
        }
        String tuple = shape.length == 1 ? "(" + shape[0] + ",)" : "(" + dims.substring(0, dims.length() - 2) + ")";
        StringBuilder dict = new StringBuilder("{'descr': '<f4', 'fortran_order': False, 'shape': " + tuple + ", }");
        while ((10 + dict.length() + 1) % 64 != 0) {
            dict.append(' ');
        }
        dict.append('\n');
        ByteBuffer header = ByteBuffer.allocate(10 + dict.length()).order(ByteOrder.LITTLE_ENDIAN);
        header.put((byte) 0x93).put("NUMPY".getBytes(StandardCharsets.US_ASCII)).put((byte) 1).put((byte) 0);
        header.putShort((short) dict.length()).put(dict.toString().getBytes(StandardCharsets.US_ASCII));
        return header.array();
    }

    private static void stored(ZipOutputStream zip, String name, ByteBuffer bytes) throws IOException {
        CRC32 crc = new CRC32();
        crc.update(bytes.duplicate());
        ZipEntry entry = new ZipEntry(name);
        entry.setMethod(ZipEntry.STORED);
        entry.setSize(bytes.remaining());
        entry.setCompressedSize(bytes.remaining());
        entry.setCrc(crc.getValue());
        entry.setTime(315532800000L + 43200000L); // 1980-01-01 12:00: fixed, so the bytes depend only on the weights
        zip.putNextEntry(entry);
        zip.write(bytes.array(), bytes.arrayOffset() + bytes.position(), bytes.remaining());
        zip.closeEntry();
    }

    /** The pickle opcodes the writer needs (protocol 2). */
    private static final class Pickle {
        private final ByteArrayOutputStream out = new ByteArrayOutputStream();

        Pickle op(int opcode) {
            out.write(opcode);
            return this;
        }

        Pickle global(String module, String name) {
            op('c');
            out.writeBytes((module + "\n" + name + "\n").getBytes(StandardCharsets.US_ASCII));
            return this;
        }

        Pickle str(String s) {
            byte[] b = s.getBytes(StandardCharsets.UTF_8);
            op('X');
            le(b.length);
            out.writeBytes(b);
            return this;
        }

        Pickle integer(long v) {
            if (v < 0 || v > Integer.MAX_VALUE) {
                throw new IllegalArgumentException("BININT range: " + v);
            }
            op('J');
            return le((int) v);
        }

        Pickle ints(long[] values) {
            op('(');
            for (long v : values) {
                integer(v);
            }
            return op('t');
        }

        private Pickle le(int v) {
            for (int i = 0; i < 4; i++) {
                out.write((v >>> (8 * i)) & 0xff);
            }
            return this;
        }

        byte[] bytes() {
            return out.toByteArray();
        }
    }

    // ---- load ----

    static void load(Path file, boolean model) throws Exception {
        List<MemoryPoolMXBean> heapPools = new ArrayList<>();
        for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
            if (pool.getType() == MemoryType.HEAP) {
                heapPools.add(pool);
            }
        }
        AtomicLong peakBeforeGc = new AtomicLong();
        for (GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) {
            ((NotificationEmitter) gc).addNotificationListener(
                    (notification, handback) -> {
                        if (GarbageCollectionNotificationInfo.GARBAGE_COLLECTION_NOTIFICATION.equals(
                                notification.getType())) {
                            GarbageCollectionNotificationInfo info = GarbageCollectionNotificationInfo.from(
                                    (CompositeData) notification.getUserData());
                            long used = 0;
                            for (Map.Entry<String, MemoryUsage> e : info.getGcInfo()
                                    .getMemoryUsageBeforeGc()
                                    .entrySet()) {
                                if (heapPools.stream().anyMatch(p -> p.getName().equals(e.getKey()))) {
                                    used += e.getValue().getUsed();
                                }
                            }
                            peakBeforeGc.accumulateAndGet(used, Math::max);
                        }
                    },
                    null,
                    null);
        }
        System.gc();
        long baseline = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
        heapPools.forEach(MemoryPoolMXBean::resetPeakUsage);
        peakBeforeGc.set(0);
        AtomicLong sampled = new AtomicLong(baseline);
        Thread sampler = new Thread(() -> {
            while (!Thread.currentThread().isInterrupted()) {
                sampled.accumulateAndGet(
                        ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed(), Math::max);
                try {
                    Thread.sleep(2);
                } catch (InterruptedException e) {
                    return;
                }
            }
        });
        sampler.setDaemon(true);
        sampler.start();

        long t0 = System.nanoTime();
        Map<String, HostTensor> tensors;
        String config;
        if (model) {
            ModelFiles.Loaded loaded = ModelFiles.read(file, null);
            tensors = loaded.tensors();
            config = loaded.config().toString();
        } else {
            tensors = StateDicts.load(file);
            config = "none";
        }
        double readSeconds = (System.nanoTime() - t0) / 1e9;
        long heapAfterRead = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
        long rssAfterRead = procStatus("VmRSS:");
        long params = 0;
        double checksum = 0;
        for (HostTensor t : tensors.values()) {
            params += t.numel();
            ByteBuffer b = t.data().duplicate().order(ByteOrder.LITTLE_ENDIAN);
            for (int i = b.position(); i + 4 <= b.limit(); i += 4) {
                checksum += b.getFloat(i);
            }
        }
        double totalSeconds = (System.nanoTime() - t0) / 1e9;
        long heapAtEnd = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
        sampler.interrupt();
        sampler.join();
        long poolPeakSum = 0;
        for (MemoryPoolMXBean pool : heapPools) {
            poolPeakSum += pool.getPeakUsage().getUsed();
        }
        long peakHeap = Math.max(Math.max(peakBeforeGc.get(), sampled.get()), heapAtEnd);
        long maxHeap = Runtime.getRuntime().maxMemory();
        System.out.printf(
                Locale.ROOT,
                "file=%s bytes=%d tensors=%d params=%d config=%s checksum=%.6f%n",
                file.getFileName(),
                Files.size(file),
                tensors.size(),
                params,
                config,
                checksum);
        System.out.printf(
                Locale.ROOT,
                "read_s=%.1f read+checksum_s=%.1f xmx_mib=%d gc=%s%n",
                readSeconds,
                totalSeconds,
                maxHeap >> 20,
                gcNames());
        System.out.printf(
                Locale.ROOT,
                "heap_baseline_mib=%d peak_heap_mib=%d heap_after_read_mib=%d heap_pool_peak_sum_mib=%d"
                        + " rss_after_read_mib=%d peak_rss_mib=%d%n",
                baseline >> 20,
                peakHeap >> 20,
                heapAfterRead >> 20,
                poolPeakSum >> 20,
                rssAfterRead >> 20,
                procStatus("VmHWM:") >> 20);
    }

    private static String gcNames() {
        List<String> names = new ArrayList<>();
        ManagementFactory.getGarbageCollectorMXBeans().forEach(g -> names.add(g.getName().replace(' ', '_')));
        return String.join(",", names);
    }

    private static long procStatus(String field) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith(field)) {
                return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
            }
        }
        return -1;
    }
}
