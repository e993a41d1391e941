package ai.tinyfusion.nn;

import java.util.EnumMap;
import java.util.Map;

/**
 * Wall time of a forward pass by kind of operation, for {@code bench --profile}. Off by default (then
 * each probe costs one field read). On this CPU backend every libtorch call returns when its work is
 * done, so timing the Java calls around a group of ops measures the ops. Single-threaded use only.
 */
public final class OpProfile {
    private OpProfile() {}

    /** The kinds the forward pass is split into. */
    public enum Kind {
        LINEAR("Linear matmuls (x W^T + b)"),
        ATTENTION("attention core (q k^T, softmax, attn v)"),
        GELU("GELU"),
        NORM_MOD("LayerNorm + modulation + gated residual"),
        RESHAPE("reshapes / transposes / copies around attention");

        private final String label;

        Kind(String label) {
            this.label = label;
        }

        public String label() {
            return label;
        }
    }

    private static boolean on;
    private static final long[] NANOS = new long[Kind.values().length];
    private static final long[] OPS = new long[Kind.values().length];

    /** Starts collecting (and clears earlier totals). */
    public static void start() {
        java.util.Arrays.fill(NANOS, 0);
        java.util.Arrays.fill(OPS, 0);
        on = true;
    }

    /** Stops collecting. */
    public static void stop() {
        on = false;
    }

    /** A timestamp when profiling, else 0 (cheap). */
    public static long t0() {
        return on ? System.nanoTime() : 0;
    }

    /** Adds the time since {@code t0} and {@code ops} libtorch calls to {@code kind}. */
    public static void add(Kind kind, long t0, int ops) {
        if (on) {
            NANOS[kind.ordinal()] += System.nanoTime() - t0;
            OPS[kind.ordinal()] += ops;
        }
    }

    /** Seconds per kind since {@link #start()}. */
    public static Map<Kind, Double> seconds() {
        Map<Kind, Double> out = new EnumMap<>(Kind.class);
        for (Kind k : Kind.values()) {
            out.put(k, NANOS[k.ordinal()] / 1e9);
        }
        return out;
    }

    /** Libtorch calls per kind since {@link #start()} (as counted at the probes). */
    public static Map<Kind, Long> ops() {
        Map<Kind, Long> out = new EnumMap<>(Kind.class);
        for (Kind k : Kind.values()) {
            out.put(k, OPS[k.ordinal()]);
        }
        return out;
    }
}
