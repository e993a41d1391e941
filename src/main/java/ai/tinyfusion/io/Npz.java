package ai.tinyfusion.io;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import java.util.zip.ZipOutputStream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads and writes NumPy {@code .npz} archives: a zip of {@code <key>.npy} members, stored or
 * deflated. Sample files in the ADM evaluator layout are such archives ({@code arr_0}: uint8
 * NHWC images, {@code arr_1}: int64 labels).
 */
public final class Npz {
    /** The zip entry time of every written member (the DOS epoch), so that output bytes depend only on the arrays. */
    static final java.time.LocalDateTime FIXED_TIME = java.time.LocalDateTime.of(1980, 1, 1, 0, 0);

    private static final Logger LOG = LoggerFactory.getLogger(Npz.class);

    private Npz() {}

    /**
     * Reads every {@code .npy} member, keyed by its name without {@code .npy}, in archive order.
     * Members that are not {@code .npy} files are skipped with a warning.
     */
    public static LinkedHashMap<String, HostTensor> read(Path file) throws IOException {
        LinkedHashMap<String, HostTensor> out = new LinkedHashMap<>();
        try (Archive archive = open(file)) {
            for (String key : archive.keys()) {
                out.put(key, archive.get(key));
            }
        }
        return out;
    }

    /**
     * Opens an archive for reading members one at a time: nothing is decompressed until
     * {@link Archive#get} asks for it, so large unrelated members (an ADM reference batch's
     * {@code arr_0} of images) are never read.
     */
    public static Archive open(Path file) throws IOException {
        return open(file, LoadLimits.defaults());
    }

    /**
     * As {@link #open(Path)}; each array is checked against {@code limits} (and against the size
     * its member declares) before its buffer is allocated.
     */
    public static Archive open(Path file, LoadLimits limits) throws IOException {
        checkZipMagic(file);
        ZipFile zip = ZipEntries.open(file, ".npz archive");
        try {
            return new Archive(file, zip, limits);
        } catch (IOException | RuntimeException e) {
            zip.close();
            throw e;
        }
    }

    /** An open {@code .npz} archive: its member names, and each member decoded on request. */
    public static final class Archive implements AutoCloseable {
        private final Path file;
        private final ZipFile zip;
        private final LoadLimits limits;
        private final LinkedHashMap<String, ZipEntry> entries = new LinkedHashMap<>();

        private Archive(Path file, ZipFile zip, LoadLimits limits) throws IOException {
            this.file = file;
            this.zip = zip;
            this.limits = limits;
            for (ZipEntry entry : ZipEntries.list(zip, file, ".npz archive")) {
                String name = entry.getName();
                if (entry.isDirectory() || !name.endsWith(".npy")) {
                    LOG.warn("{}: skipping member {}, which is not a .npy array", file, name);
                    continue;
                }
                if (entries.putIfAbsent(name.substring(0, name.length() - 4), entry) != null) {
                    throw new IOException(file + ": duplicate member " + name);
                }
            }
        }

        /** Array names (member names without {@code .npy}) in archive order. */
        public List<String> keys() {
            return List.copyOf(entries.keySet());
        }

        /** Whether the archive holds an array named {@code key}. */
        public boolean contains(String key) {
            return entries.containsKey(key);
        }

        /** Decodes the array {@code key}; a missing key is an IOException naming the keys present. */
        public HostTensor get(String key) throws IOException {
            ZipEntry entry = entries.get(key);
            if (entry == null) {
                throw new IOException(file + ": no array '" + key + "' (has " + keys() + ")");
            }
            String source = file + ":" + entry.getName();
            try (InputStream in = CrcCheckedZipStream.open(zip, entry)) {
                return Npy.read(in, source, ZipEntries.declaredSize(entry), limits);
            } catch (IOException e) {
                String message = ZipEntries.describe(e);
                throw message.startsWith(source)
                        ? e
                        : new IOException(source + ": corrupt member (" + message + ")", e);
            }
        }

        /**
         * Opens the array {@code key} for reading its data front to back in slices, without
         * holding the whole array: the header is parsed, checked against the size the member
         * declares, and the stream is left at the first data byte. Stored and deflated members
         * both work (a stored member is read straight from the file). The CRC-32 of the member is
         * checked once the last data byte has been read.
         */
        public NpyStream stream(String key) throws IOException {
            ZipEntry entry = entries.get(key);
            if (entry == null) {
                throw new IOException(file + ": no array '" + key + "' (has " + keys() + ")");
            }
            String source = file + ":" + entry.getName();
            InputStream in = CrcCheckedZipStream.open(zip, entry);
            try {
                return NpyStream.open(in, source, ZipEntries.declaredSize(entry));
            } catch (IOException | RuntimeException e) {
                in.close();
                throw e;
            }
        }

        @Override
        public void close() throws IOException {
            zip.close();
        }
    }

    /** Writes {@code arrays} as an uncompressed archive (like {@code numpy.savez}), atomically. */
    public static void write(Path file, Map<String, HostTensor> arrays) throws IOException {
        write(file, arrays, false);
    }

    /**
     * Writes {@code arrays} as an archive, atomically: members stored (like {@code numpy.savez})
     * or deflated (like {@code numpy.savez_compressed}).
     */
    public static void write(Path file, Map<String, HostTensor> arrays, boolean compress) throws IOException {
        Map<String, byte[]> headers = new LinkedHashMap<>();
        for (Map.Entry<String, HostTensor> e : arrays.entrySet()) {
            if (e.getKey().isEmpty()) {
                throw new IOException(file + ": empty array name");
            }
            headers.put(e.getKey(), Npy.header(e.getValue(), file + ":" + e.getKey()));
        }
        AtomicFiles.write(file, channel -> {
            OutputStream raw = new BufferedOutputStream(Channels.newOutputStream(channel), 1 << 16);
            ZipOutputStream zip = new ZipOutputStream(raw);
            zip.setLevel(6);
            for (Map.Entry<String, HostTensor> e : arrays.entrySet()) {
                byte[] header = headers.get(e.getKey());
                HostTensor t = e.getValue();
                ZipEntry entry = new ZipEntry(e.getKey() + ".npy");
                // a fixed time stamp: the same arrays give the same file bytes (reproducible sample files)
                entry.setTimeLocal(FIXED_TIME);
                if (compress) {
                    entry.setMethod(ZipEntry.DEFLATED);
                } else {
                    entry.setMethod(ZipEntry.STORED);
                    long size = header.length + t.byteSize();
                    entry.setSize(size);
                    entry.setCompressedSize(size);
                    entry.setCrc(crc(header, t.data()));
                }
                zip.putNextEntry(entry);
                zip.write(header);
                AtomicFiles.writeFully(Channels.newChannel(zip), t.data());
                zip.closeEntry();
            }
            // Finish but do not close: the channel must stay open until it is forced to disk.
            zip.finish();
            raw.flush();
        });
    }

    private static long crc(byte[] header, ByteBuffer data) {
        CRC32 crc = new CRC32();
        crc.update(header);
        crc.update(data);
        return crc.getValue();
    }

    private static void checkZipMagic(Path file) throws IOException {
        byte[] head;
        try (InputStream in = Files.newInputStream(file)) {
            head = in.readNBytes(4);
        }
        if (head.length < 4 || head[0] != 'P' || head[1] != 'K') {
            throw new IOException(file + ": not an .npz archive (expected a zip file)");
        }
    }
}
