package ai.tinyfusion.io;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

/**
 * The data of a zip entry, checked against the entry's CRC-32 when the end is reached.
 *
 * <p>{@link ZipFile} itself does not verify checksums, so a flipped byte in a stored tensor
 * would otherwise go unnoticed.
 */
final class CrcCheckedZipStream extends FilterInputStream {
    private final ZipEntry entry;
    private final CRC32 crc = new CRC32();
    private boolean checked;

    private CrcCheckedZipStream(InputStream in, ZipEntry entry) {
        super(in);
        this.entry = entry;
    }

    /** Opens {@code entry} of {@code zip}. */
    static InputStream open(ZipFile zip, ZipEntry entry) throws IOException {
        return new CrcCheckedZipStream(zip.getInputStream(entry), entry);
    }

    @Override
    public int read() throws IOException {
        int b = in.read();
        if (b < 0) {
            verify();
        } else {
            crc.update(b);
        }
        return b;
    }

    @Override
    public int read(byte[] buffer, int offset, int length) throws IOException {
        int n = in.read(buffer, offset, length);
        if (n < 0) {
            verify();
        } else {
            crc.update(buffer, offset, n);
        }
        return n;
    }

    /** Skips by reading, so skipped bytes are checksummed too. */
    @Override
    public long skip(long n) throws IOException {
        byte[] scratch = new byte[8192];
        long skipped = 0;
        while (skipped < n) {
            int r = read(scratch, 0, (int) Math.min(scratch.length, n - skipped));
            if (r < 0) {
                break;
            }
            skipped += r;
        }
        return skipped;
    }

    @Override
    public boolean markSupported() {
        return false;
    }

    private void verify() throws IOException {
        if (checked) {
            return;
        }
        checked = true;
        if (entry.getCrc() != -1 && entry.getCrc() != crc.getValue()) {
            throw new IOException("CRC-32 mismatch in zip entry " + entry.getName() + " (corrupt data)");
        }
    }
}
