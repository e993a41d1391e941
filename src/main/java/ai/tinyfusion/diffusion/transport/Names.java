package ai.tinyfusion.diffusion.transport;

import java.util.Arrays;
import java.util.function.Function;
import java.util.stream.Collectors;

/** Looking up an option by the name the original's command line uses. */
final class Names {
    private Names() {}

    /** The value whose {@code name} is {@code wanted}; otherwise an error listing the choices. */
    static <E> E parse(E[] values, Function<E, String> name, String wanted, String what) {
        for (E v : values) {
            if (name.apply(v).equals(wanted)) {
                return v;
            }
        }
        String choices = Arrays.stream(values).map(name).collect(Collectors.joining(", "));
        throw new IllegalArgumentException("unknown " + what + " '" + wanted + "' (" + choices + ")");
    }
}
