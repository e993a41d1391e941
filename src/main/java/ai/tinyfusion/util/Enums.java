package ai.tinyfusion.util;

import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * The one way an enum constant is named on the command line and in records: its name in lower case
 * with {@code _} as {@code -} ({@code FLUX_LITE} ↔ {@code flux-lite}), matched case-insensitively.
 */
public final class Enums {
    private Enums() {}

    /** The command-line name of {@code value}. */
    public static String label(Enum<?> value) {
        return value.name().toLowerCase(Locale.ROOT).replace('_', '-');
    }

    /** Every constant's command-line name, comma-separated, in declaration order. */
    public static <E extends Enum<E>> String labels(Class<E> type) {
        return Arrays.stream(type.getEnumConstants()).map(Enums::label).collect(Collectors.joining(", "));
    }

    /** The constant named {@code text} (surrounding spaces and case ignored), or null. */
    public static <E extends Enum<E>> E find(Class<E> type, String text) {
        String t = text.trim();
        for (E e : type.getEnumConstants()) {
            if (label(e).equalsIgnoreCase(t) || e.name().equalsIgnoreCase(t)) {
                return e;
            }
        }
        return null;
    }

    /**
     * The constant named {@code text}.
     *
     * @param what what the value is, for the error message ("unknown {what} 'x' (a, b, c)")
     * @throws IllegalArgumentException naming the accepted values
     */
    public static <E extends Enum<E>> E parse(Class<E> type, String text, String what) {
        E e = find(type, text);
        if (e == null) {
            throw new IllegalArgumentException("unknown " + what + " '" + text + "' (" + labels(type) + ")");
        }
        return e;
    }
}
