package ai.tinyfusion.diffusion.transport;

/** The time grids of the samplers, as the original builds them. */
public final class TimeGrid {
    private TimeGrid() {}

    /**
     * {@code torch.linspace(start, end, n)} in float32, value for value: step = (end − start)/(n − 1) in float; the
     * first half counts up from start, the second half down from end.
     */
    public static float[] linspace(double start, double end, int n) {
        if (n < 1) {
            throw new IllegalArgumentException("a grid needs at least one point, got " + n);
        }
        float[] out = new float[n];
        float s = (float) start;
        float e = (float) end;
        if (n == 1) {
            out[0] = s;
            return out;
        }
        float step = (e - s) / (n - 1);
        int halfway = n / 2;
        for (int i = 0; i < n; i++) {
            out[i] = i < halfway ? s + step * i : e - step * (n - i - 1);
        }
        return out;
    }
}
