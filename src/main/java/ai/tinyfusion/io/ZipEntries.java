package ai.tinyfusion.io;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Enumeration;
import java.util.List;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

/**
 * Opening zip archives and reading their entries with the sizes checked first: what an entry
 * declares against what deflate can produce from its compressed bytes, and what is read against
 * what it declares, so no entry inflates to more memory than was checked.
 */
final class ZipEntries {
    /**
     * Deflate expands at most about 1032:1 (258-byte matches coded in 2 bits); a declared size
     * beyond this ratio (with slack) cannot be honest.
     */
    private static final long MAX_DEFLATE_RATIO = 1100;

    private ZipEntries() {}

    /**
     * Opens {@code file} as a zip archive; any failure (a damaged end record, an {@code EOFException}
     * with no message) becomes an IOException naming the file.
     *
     * @param what what the archive should be, e.g. {@code "zip archive"} or {@code ".npz archive"}
     */
    static ZipFile open(Path file, String what) throws IOException {
        try {
            return new ZipFile(file.toFile());
        } catch (IOException e) {
            throw new IOException(file + ": corrupt or truncated " + what + " (" + describe(e) + ")", e);
        }
    }

    /**
     * The entries of {@code zip} in archive order. An entry name or comment that is not valid UTF-8 makes the
     * JDK throw an {@code IllegalArgumentException} ("malformed input") while listing; it becomes
     * an IOException naming the file.
     */
    static List<ZipEntry> list(ZipFile zip, Path file, String what) throws IOException {
        List<ZipEntry> out = new ArrayList<>();
        try {
            Enumeration<? extends ZipEntry> all = zip.entries();
            while (all.hasMoreElements()) {
                out.add(all.nextElement());
            }
        } catch (IllegalArgumentException e) {
            throw new IOException(
                    file + ": corrupt " + what + ": an entry name or comment is not valid UTF-8 (" + describe(e) + ")",
                    e);
        }
        return out;
    }

    /** {@code zip.getEntry(name)}, null if absent; a malformed entry name in the archive is an IOException. */
    static ZipEntry find(ZipFile zip, String name) throws IOException {
        try {
            return zip.getEntry(name);
        } catch (IllegalArgumentException e) {
            throw new IOException("an entry name or comment is not valid UTF-8 (" + describe(e) + ")", e);
        }
    }

    /** A throwable's message, or its type where it has none. */
    static String describe(Throwable e) {
        return e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName();
    }

    /**
     * The uncompressed size {@code entry} declares, checked against its compressed size.
     *
     * @throws IOException naming the entry if the size is missing or no compressed data could produce it
     */
    static long declaredSize(ZipEntry entry) throws IOException {
        long size = entry.getSize();
        long compressed = entry.getCompressedSize();
        if (size < 0) {
            throw new IOException("entry " + entry.getName() + " declares no size");
        }
        if (entry.getMethod() == ZipEntry.STORED && compressed >= 0 && compressed != size) {
            throw new IOException(
                    "stored entry " + entry.getName() + " declares " + size + " bytes but holds " + compressed);
        }
        if (compressed >= 0 && (size - 1024) / MAX_DEFLATE_RATIO > compressed) {
            throw new IOException("entry " + entry.getName() + " declares " + size + " bytes from " + compressed
                    + " compressed bytes, more than deflate can produce");
        }
        return size;
    }

    /**
     * Reads exactly {@code length} bytes of {@code entry} into one new array and checks that the
     * entry ends there (and that its CRC-32 matches).
     */
    static byte[] readExactly(ZipFile zip, ZipEntry entry, int length) throws IOException {
        byte[] data = new byte[length];
        try (InputStream in = CrcCheckedZipStream.open(zip, entry)) {
            readExactly(in, data, entry.getName());
        }
        return data;
    }

    /** Largest single read: see {@link #readFully}. */
    private static final int READ_CHUNK = 1 << 20;

    /**
     * Reads up to {@code data.length} bytes into {@code data} in calls of at most 1 MiB, returning
     * how many were read (fewer only at the end of the stream). One large read would cost as much
     * again outside the heap: the JDK's file reads (under {@code ZipFile} entry streams) copy
     * through a native buffer as large as the request, so reading a 1.9 GB array in one call peaked
     * at twice its size in resident memory.
     */
    static int readFully(InputStream in, byte[] data) throws IOException {
        int n = 0;
        while (n < data.length) {
            int r = in.read(data, n, Math.min(READ_CHUNK, data.length - n));
            if (r < 0) {
                break;
            }
            n += r;
        }
        return n;
    }

    /** Fills {@code data} from {@code in} and checks that the stream ends right after it. */
    static void readExactly(InputStream in, byte[] data, String name) throws IOException {
        int n = readFully(in, data);
        if (n < data.length) {
            throw new IOException(name + " ends after " + n + " of " + data.length + " bytes");
        }
        if (in.read() != -1) {
            throw new IOException(name + " holds more than the " + data.length + " bytes it should");
        }
    }
}
