package ai.tinyfusion.diffusion;

import java.util.TreeSet;

/** Which steps of an original diffusion process a shorter sampler keeps. */
public final class Respacing {
    private static final String DDIM_PREFIX = "ddim";

    private Respacing() {}

    /**
     * The kept original timesteps, ascending, for a respacing string.
     *
     * <ul>
     *   <li>{@code "ddimN"}: every k-th step from 0, for the smallest integer stride k giving exactly N steps
     *       (an error if no stride does);
     *   <li>{@code "a,b,c"} (one or more counts): the process is cut into that many near-equal sections (the first
     *       {@code T mod sections} one step longer) and section i keeps {@code counts[i]} steps at evenly spread
     *       fractional positions, rounded half to even; {@code "250"} is the one-section case.
     * </ul>
     */
    public static int[] spaceTimesteps(int numTimesteps, String sectionCounts) {
        String spec = sectionCounts.trim();
        if (spec.startsWith(DDIM_PREFIX)) {
            int desired = Integer.parseInt(spec.substring(DDIM_PREFIX.length()).trim());
            for (int stride = 1; stride < numTimesteps; stride++) {
                int count = (numTimesteps + stride - 1) / stride;
                if (count == desired) {
                    int[] steps = new int[count];
                    for (int k = 0; k < count; k++) {
                        steps[k] = k * stride;
                    }
                    return steps;
                }
            }
            throw new IllegalArgumentException(
                    "no integer stride gives exactly " + desired + " of " + numTimesteps + " steps");
        }
        String[] parts = spec.split(",");
        int[] counts = new int[parts.length];
        for (int i = 0; i < parts.length; i++) {
            counts[i] = Integer.parseInt(parts[i].trim());
        }
        return spaceTimesteps(numTimesteps, counts);
    }

    /** The kept original timesteps, ascending, for explicit per-section counts (see the string form). */
    public static int[] spaceTimesteps(int numTimesteps, int... sectionCounts) {
        if (sectionCounts.length == 0) {
            throw new IllegalArgumentException("at least one section count is needed");
        }
        int sizePer = numTimesteps / sectionCounts.length;
        int extra = numTimesteps % sectionCounts.length;
        int start = 0;
        TreeSet<Integer> kept = new TreeSet<>();
        for (int i = 0; i < sectionCounts.length; i++) {
            int size = sizePer + (i < extra ? 1 : 0);
            int count = sectionCounts[i];
            if (size < count) {
                throw new IllegalArgumentException("cannot take " + count + " steps from a section of " + size);
            }
            double stride = count <= 1 ? 1 : (double) (size - 1) / (count - 1);
            double position = 0.0;
            for (int k = 0; k < count; k++) {
                kept.add(start + (int) Math.rint(position));
                position += stride;
            }
            start += size;
        }
        return kept.stream().mapToInt(Integer::intValue).toArray();
    }
}
