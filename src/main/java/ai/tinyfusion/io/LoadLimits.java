package ai.tinyfusion.io;

import java.io.IOException;

/**
 * How much memory one file may make a loader allocate, checked before anything is allocated or
 * decompressed, so that a corrupt or hostile file fails with a message instead of exhausting the
 * heap.
 *
 * <p>The defaults come from the system properties {@value #MAX_PICKLE_PROPERTY} (default 16 MiB:
 * the {@code data.pkl} of a DiT-XL training checkpoint with optimizer state is under 1 MiB) and
 * {@value #MAX_TENSOR_PROPERTY} (default and upper bound: one Java buffer, just under 2 GiB).
 *
 * @param maxPickleBytes largest pickle ({@code data.pkl}) a checkpoint may inflate to
 * @param maxTensorBytes largest single array, storage or gathered view, in bytes
 */
public record LoadLimits(long maxPickleBytes, long maxTensorBytes) {
    /** The most bytes one Java array or buffer can hold. */
    public static final long BUFFER_MAX = Integer.MAX_VALUE - 8;
    /** System property that sets the default {@link #maxPickleBytes}. */
    public static final String MAX_PICKLE_PROPERTY = "tinyfusion.io.maxPickleBytes";
    /** System property that sets the default {@link #maxTensorBytes}. */
    public static final String MAX_TENSOR_PROPERTY = "tinyfusion.io.maxTensorBytes";

    private static final long DEFAULT_MAX_PICKLE_BYTES = 16L << 20;

    /** Both limits must be positive; neither may exceed one buffer. */
    public LoadLimits {
        if (maxPickleBytes <= 0 || maxPickleBytes > BUFFER_MAX || maxTensorBytes <= 0 || maxTensorBytes > BUFFER_MAX) {
            throw new IllegalArgumentException("load limits must be between 1 and " + BUFFER_MAX + " bytes, got pickle "
                    + maxPickleBytes + ", tensor " + maxTensorBytes);
        }
    }

    /** The limits set by the system properties, or the defaults. */
    public static LoadLimits defaults() {
        return new LoadLimits(
                property(MAX_PICKLE_PROPERTY, DEFAULT_MAX_PICKLE_BYTES), property(MAX_TENSOR_PROPERTY, BUFFER_MAX));
    }

    /**
     * Refuses an array of {@code bytes} bytes over {@link #maxTensorBytes}.
     *
     * @param what names the file and the array, e.g. {@code "x.pt: tensor 'w'"}
     */
    void checkTensorBytes(long bytes, String what) throws IOException {
        check(bytes, maxTensorBytes, MAX_TENSOR_PROPERTY, what);
    }

    /** Refuses a pickle of {@code bytes} bytes over {@link #maxPickleBytes}. */
    void checkPickleBytes(long bytes, String what) throws IOException {
        check(bytes, maxPickleBytes, MAX_PICKLE_PROPERTY, what);
    }

    private static void check(long bytes, long max, String property, String what) throws IOException {
        if (bytes > max) {
            throw new IOException(what + " needs " + bytes + " bytes, more than the limit of " + max + " bytes"
                    + (max == BUFFER_MAX ? " (one buffer holds at most 2 GiB)" : " (set by -D" + property + ")"));
        }
    }

    private static long property(String name, long fallback) {
        String value = System.getProperty(name);
        if (value == null || value.isBlank()) {
            return fallback;
        }
        try {
            return Long.parseLong(value.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("system property " + name + " is not a byte count: " + value);
        }
    }
}
