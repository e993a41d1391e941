package ai.tinyfusion.diffusion;

import ai.tinyfusion.io.AtomicFiles;
import ai.tinyfusion.io.DType;
import ai.tinyfusion.io.HostTensor;
import ai.tinyfusion.io.Npy;
import ai.tinyfusion.io.Npz;
import ai.tinyfusion.io.NpzWriter;
import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonParseException;
import com.google.gson.reflect.TypeToken;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.IntConsumer;
import java.util.function.LongConsumer;
import java.util.stream.Stream;

/**
 * Generation at FID-50K scale: images go to shards of {@code shardSize} as they are made ({@code
 * shard-000000.npz}, ...: arr_0 the items, arr_1 their labels), each written atomically, so a run killed at any
 * moment (even {@code kill -9}) resumes at the first missing shard and loses at most one shard's work. Every
 * item is generated from its index alone (its label is {@code labels[i]}, its noise {@link IndexedNoise}), so the
 * merged result is the same whatever the batch size and wherever the run was interrupted. A {@code manifest.json}
 * records the settings; resuming with other settings is refused instead of mixing two runs. {@link #mergeNpz} and
 * {@link #mergeNpy} stream the shards into one file, one shard in memory at a time.
 */
public final class ShardedGeneration {
    /** Makes the items {@code first .. first + labels.length - 1}: their bytes, in order, the same size each. */
    @FunctionalInterface
    public interface ShardSampler {
        /**
         * @param onItems called with the number of this shard's items finished so far (may be ignored)
         */
        byte[] sample(long first, long[] labels, IntConsumer onItems) throws IOException;
    }

    private static final Gson GSON =
            new GsonBuilder().setPrettyPrinting().disableHtmlEscaping().create();

    private final Path dir;
    private final long[] labels;
    private final int shardSize;
    private final DType dtype;
    private final long[] itemShape;
    private final long itemBytes;

    /**
     * Opens (or starts) the run in {@code dir}.
     *
     * @param labels the label of every item; their number is the run's size
     * @param dtype, itemShape what one item is (uint8 H×W×C images, float32 C×h×w latents)
     * @param settings everything that decides the items (model, sampler, seed, ...): recorded on the first start and
     *     compared on every resume
     * @throws IllegalArgumentException if {@code dir} holds a run with other settings, naming the differences
     */
    public ShardedGeneration(
            Path dir, long[] labels, int shardSize, DType dtype, long[] itemShape, Map<String, String> settings)
            throws IOException {
        if (labels.length == 0) {
            throw new IllegalArgumentException("nothing to generate: no labels");
        }
        if (shardSize < 1) {
            throw new IllegalArgumentException("shard size must be at least 1, got " + shardSize);
        }
        this.dir = dir;
        this.labels = labels.clone();
        this.shardSize = shardSize;
        this.dtype = dtype;
        this.itemShape = itemShape.clone();
        long bytes = dtype.byteSize();
        for (long d : itemShape) {
            bytes = Math.multiplyExact(bytes, d);
        }
        this.itemBytes = bytes;
        if (Math.multiplyExact(bytes, Math.min(shardSize, labels.length)) > Integer.MAX_VALUE - 64) {
            throw new IllegalArgumentException("a shard of " + shardSize + " items of " + bytes
                    + " bytes exceeds 2 GiB: use a smaller shard size");
        }
        TreeMap<String, String> all = new TreeMap<>(settings);
        all.put("items", Integer.toString(labels.length));
        all.put("shard_size", Integer.toString(shardSize));
        all.put("item", dtype + " " + Arrays.toString(itemShape));
        all.put("labels_hash", Integer.toHexString(Arrays.hashCode(labels)));
        checkManifest(all);
    }

    /** The number of shards. */
    public int shards() {
        return (labels.length + shardSize - 1) / shardSize;
    }

    /** Shard {@code s}'s file. */
    public Path shard(int s) {
        return dir.resolve(String.format(Locale.ROOT, "shard-%06d.npz", s));
    }

    private int first(int s) {
        return s * shardSize;
    }

    private int size(int s) {
        return Math.min(shardSize, labels.length - first(s));
    }

    /**
     * Items in finished shards. Each existing shard is checked (readable, its shape, its labels); a damaged one is an
     * IOException naming it, and nothing is deleted.
     */
    public long done() throws IOException {
        long n = 0;
        for (int s = 0; s < shards(); s++) {
            if (Files.exists(shard(s))) {
                check(s);
                n += size(s);
            }
        }
        return n;
    }

    /**
     * Generates every missing shard in order. Leftover temporary files of a killed run are removed first.
     *
     * @param onItems called with the number of items finished in all (finished shards included)
     */
    public void run(ShardSampler sampler, LongConsumer onItems) throws IOException {
        removeStaleTemporaries();
        long finished = done();
        for (int s = 0; s < shards(); s++) {
            if (Files.exists(shard(s))) {
                continue;
            }
            long before = finished;
            generate(s, sampler, i -> onItems.accept(before + i));
            finished += size(s);
            onItems.accept(finished);
        }
    }

    /**
     * Generates shard {@code s} and writes it atomically, replacing the file if it exists: a retried or duplicated
     * task (several processes may work on one directory) rewrites its own shard with the same bytes and touches no
     * other file. Does not look at the other shards.
     *
     * @param onItems called with the number of this shard's items finished so far
     */
    public void generate(int s, ShardSampler sampler, IntConsumer onItems) throws IOException {
        if (s < 0 || s >= shards()) {
            throw new IllegalArgumentException("shard " + s + " is outside 0.." + (shards() - 1));
        }
        int first = first(s);
        int k = size(s);
        long[] ys = Arrays.copyOfRange(labels, first, first + k);
        byte[] items = sampler.sample(first, ys, onItems);
        if (items.length != k * itemBytes) {
            throw new IllegalStateException(
                    "shard " + s + ": the sampler gave " + items.length + " bytes for " + k + " items of " + itemBytes);
        }
        try (NpzWriter w = NpzWriter.create(shard(s))) {
            w.array("arr_0", HostTensor.ofBytes(dtype, items, shape(k)));
            w.array("arr_1", HostTensor.ofLongs(ys, k));
            w.commit();
        }
    }

    /** Whether shard {@code s}'s file exists (not checked: {@link #done} checks). */
    public boolean exists(int s) {
        return Files.exists(shard(s));
    }

    /** The first {@code n} items' bytes (from the first shards), e.g. for a preview grid. */
    public byte[] head(int n) throws IOException {
        int want = Math.min(n, labels.length);
        ByteBuffer out = ByteBuffer.allocate(Math.toIntExact(want * itemBytes));
        for (int s = 0; out.hasRemaining(); s++) {
            ByteBuffer data = read(s).data().duplicate();
            data.limit(Math.min(data.limit(), data.position() + out.remaining()));
            out.put(data);
        }
        return out.array();
    }

    /** Merges the shards into one {@code .npz}: arr_0 all items (N, item...), arr_1 the labels; atomically. */
    public void mergeNpz(Path target) throws IOException {
        try (NpzWriter w = NpzWriter.create(target)) {
            w.begin("arr_0", dtype, shape(labels.length));
            for (int s = 0; s < shards(); s++) {
                w.write(read(s).data().duplicate());
            }
            w.end();
            w.array("arr_1", HostTensor.ofLongs(labels, labels.length));
            w.commit();
        }
    }

    /** Merges the shards' items into one {@code .npy} (N, item...), atomically. */
    public void mergeNpy(Path target) throws IOException {
        try (AtomicFiles.Pending p = Npy.begin(target, dtype, shape(labels.length))) {
            for (int s = 0; s < shards(); s++) {
                AtomicFiles.writeFully(p.channel(), read(s).data().duplicate());
            }
            p.commit();
        }
    }

    /** Deletes the shards (after a merge); the manifest stays, recording what the merged file holds. */
    public void deleteShards() throws IOException {
        for (int s = 0; s < shards(); s++) {
            Files.deleteIfExists(shard(s));
        }
    }

    private long[] shape(long n) {
        long[] s = new long[itemShape.length + 1];
        s[0] = n;
        System.arraycopy(itemShape, 0, s, 1, itemShape.length);
        return s;
    }

    private HostTensor read(int s) throws IOException {
        if (!Files.exists(shard(s))) {
            throw new IOException(shard(s) + ": missing shard (generation is not finished)");
        }
        return check(s);
    }

    /** Shard {@code s}'s items, after checking its shape and labels. */
    private HostTensor check(int s) throws IOException {
        Path file = shard(s);
        HostTensor items;
        HostTensor ys;
        try (Npz.Archive a = Npz.open(file)) {
            items = a.get("arr_0");
            ys = a.get("arr_1");
        } catch (IOException e) {
            throw new IOException(
                    "damaged shard " + file + " (" + e.getMessage() + "): delete it and run the same "
                            + "command again to regenerate its " + size(s) + " items",
                    e);
        }
        int first = first(s);
        int k = size(s);
        if (items.dtype() != dtype || !Arrays.equals(items.shape(), shape(k))) {
            throw new IOException(file + ": holds " + items.dtype() + " " + Arrays.toString(items.shape())
                    + ", expected " + dtype + " " + Arrays.toString(shape(k)) + ": not this run's shard");
        }
        if (!Arrays.equals(ys.toLongArray(), Arrays.copyOfRange(labels, first, first + k))) {
            throw new IOException(file + ": its labels are not items " + first + ".." + (first + k - 1)
                    + "'s of this run: not this run's shard");
        }
        return items;
    }

    private void checkManifest(TreeMap<String, String> settings) throws IOException {
        Files.createDirectories(dir);
        Path manifest = dir.resolve("manifest.json");
        if (!Files.exists(manifest)) {
            byte[] json = (GSON.toJson(settings) + "\n").getBytes(StandardCharsets.UTF_8);
            AtomicFiles.write(manifest, ch -> AtomicFiles.writeFully(ch, ByteBuffer.wrap(json)));
            return;
        }
        Map<String, String> recorded;
        try {
            recorded = GSON.fromJson(
                    Files.readString(manifest, StandardCharsets.UTF_8),
                    new TypeToken<TreeMap<String, String>>() {}.getType());
        } catch (JsonParseException | IOException e) {
            throw new IOException(manifest + ": unreadable manifest (" + e.getMessage() + ")", e);
        }
        if (recorded == null) {
            throw new IOException(manifest + ": empty manifest");
        }
        if (!recorded.equals(settings)) {
            StringBuilder diff = new StringBuilder();
            TreeMap<String, String> keys = new TreeMap<>(recorded);
            settings.forEach(keys::putIfAbsent);
            for (String key : keys.keySet()) {
                String was = recorded.get(key);
                String now = settings.get(key);
                if (was == null ? now != null : !was.equals(now)) {
                    diff.append(String.format(Locale.ROOT, "%n  %s: %s in %s, %s now", key, was, dir, now));
                }
            }
            throw new IllegalArgumentException(dir + " holds a generation run with other settings (use another --out, "
                    + "or delete it to start over):" + diff);
        }
    }

    /** Deletes the temporary files a killed run left (only while no process is writing shards here). */
    public void removeStaleTemporaries() throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            for (Path p : (Iterable<Path>) files::iterator) {
                String name = p.getFileName().toString();
                if (name.startsWith(".shard-") && name.endsWith(".tmp")) {
                    Files.deleteIfExists(p);
                }
            }
        }
    }
}
