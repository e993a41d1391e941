package ai.tinyfusion.model.dit;

/** The fixed 2-D sin-cos position embedding of MAE/DiT, computed in double like numpy. */
public final class PosEmbed {
    private PosEmbed() {}

    /**
     * (grid², dim) row-major as a flat float array. Token k = row·grid + col. The first dim/2
     * channels encode the column, the last dim/2 the row (the original's meshgrid puts w first);
     * within each half: [sin(pos·ω) | cos(pos·ω)] with ω_i = 10000^(−i/(dim/4)).
     */
    public static float[] sincos2d(int dim, int grid) {
        if (dim % 4 != 0) {
            throw new IllegalArgumentException("embedding dim must be divisible by 4, got " + dim);
        }
        int quarter = dim / 4;
        double[] omega = new double[quarter];
        for (int i = 0; i < quarter; i++) {
            omega[i] = 1.0 / Math.pow(10000, (double) i / quarter);
        }
        float[] out = new float[grid * grid * dim];
        for (int row = 0; row < grid; row++) {
            for (int col = 0; col < grid; col++) {
                int base = (row * grid + col) * dim;
                for (int i = 0; i < quarter; i++) {
                    out[base + i] = (float) Math.sin(col * omega[i]);
                    out[base + quarter + i] = (float) Math.cos(col * omega[i]);
                    out[base + 2 * quarter + i] = (float) Math.sin(row * omega[i]);
                    out[base + 3 * quarter + i] = (float) Math.cos(row * omega[i]);
                }
            }
        }
        return out;
    }
}
