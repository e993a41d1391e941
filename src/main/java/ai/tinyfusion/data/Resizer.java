package ai.tinyfusion.data;

/**
 * Brings C×H×W float images to a target size, e.g. Fashion-MNIST's 28×28 to the 32×32 a DiT with
 * patch size 2 or 4 and a power-of-two grid prefers.
 *
 * <ul>
 *   <li>{@link #padConstant}: the image is centred on a canvas of the target size filled with a
 *       constant. When the margin is odd the extra row/column goes to the bottom/right (top =
 *       (H' − H)/2 rounded down). For normalised [-1, 1] images a fill of −1 equals padding the
 *       original 0..255 image with black (0), which is what {@code transforms.Pad(2)} before
 *       {@code ToTensor} does for 28 → 32; a fill of 0 is mid-grey.</li>
 *   <li>{@link #padEdge}: same placement, the border pixels are repeated ("replicate" padding).</li>
 *   <li>{@link #bilinear}: bilinear resampling with PyTorch's {@code F.interpolate(mode="bilinear",
 *       align_corners=False, antialias=False)} convention: output pixel i samples input coordinate
 *       (i + 0.5)·(in/out) − 0.5, clamped below at 0, neighbours clamped to the last index.</li>
 * </ul>
 * If the target is smaller than the image in a padding mode, the image is centre-cropped instead
 * (offset (H − H')/2 rounded down).
 */
public final class Resizer {
    /** How the size is changed. */
    public enum Mode {
        PAD_CONSTANT,
        PAD_EDGE,
        BILINEAR
    }

    private final Mode mode;
    private final int height;
    private final int width;
    private final float fill;

    private Resizer(Mode mode, int height, int width, float fill) {
        if (height <= 0 || width <= 0) {
            throw new IllegalArgumentException("target size must be positive, got " + height + "x" + width);
        }
        this.mode = mode;
        this.height = height;
        this.width = width;
        this.fill = fill;
    }

    /** Centre on a canvas filled with {@code fill}. */
    public static Resizer padConstant(int height, int width, float fill) {
        return new Resizer(Mode.PAD_CONSTANT, height, width, fill);
    }

    /** Centre, repeating the border pixels outwards. */
    public static Resizer padEdge(int height, int width) {
        return new Resizer(Mode.PAD_EDGE, height, width, 0f);
    }

    /** Bilinear resampling (PyTorch align_corners=False). */
    public static Resizer bilinear(int height, int width) {
        return new Resizer(Mode.BILINEAR, height, width, 0f);
    }

    public Mode mode() {
        return mode;
    }

    public int height() {
        return height;
    }

    public int width() {
        return width;
    }

    /** The resized copy of {@code chw} (C×H×W, C order). */
    public float[] apply(float[] chw, int c, int h, int w) {
        if (chw.length != c * h * w) {
            throw new IllegalArgumentException(chw.length + " values are not " + c + "x" + h + "x" + w);
        }
        return mode == Mode.BILINEAR ? bilinear(chw, c, h, w) : pad(chw, c, h, w);
    }

    private float[] pad(float[] src, int c, int h, int w) {
        float[] out = new float[c * height * width];
        int top = Math.floorDiv(height - h, 2);
        int left = Math.floorDiv(width - w, 2);
        for (int ch = 0; ch < c; ch++) {
            for (int y = 0; y < height; y++) {
                int sy = y - top;
                boolean rowInside = sy >= 0 && sy < h;
                int cy = Math.min(Math.max(sy, 0), h - 1);
                for (int x = 0; x < width; x++) {
                    int sx = x - left;
                    boolean inside = rowInside && sx >= 0 && sx < w;
                    float v;
                    if (inside) {
                        v = src[(ch * h + sy) * w + sx];
                    } else if (mode == Mode.PAD_EDGE) {
                        v = src[(ch * h + cy) * w + Math.min(Math.max(sx, 0), w - 1)];
                    } else {
                        v = fill;
                    }
                    out[(ch * height + y) * width + x] = v;
                }
            }
        }
        return out;
    }

    private float[] bilinear(float[] src, int c, int h, int w) {
        int[] y0 = new int[height];
        int[] y1 = new int[height];
        float[] ly = new float[height];
        coords(h, height, y0, y1, ly);
        int[] x0 = new int[width];
        int[] x1 = new int[width];
        float[] lx = new float[width];
        coords(w, width, x0, x1, lx);
        float[] out = new float[c * height * width];
        for (int ch = 0; ch < c; ch++) {
            int base = ch * h * w;
            for (int y = 0; y < height; y++) {
                float wy1 = ly[y];
                float wy0 = 1f - wy1;
                int r0 = base + y0[y] * w;
                int r1 = base + y1[y] * w;
                for (int x = 0; x < width; x++) {
                    float wx1 = lx[x];
                    float wx0 = 1f - wx1;
                    float v = wy0 * (wx0 * src[r0 + x0[x]] + wx1 * src[r0 + x1[x]])
                            + wy1 * (wx0 * src[r1 + x0[x]] + wx1 * src[r1 + x1[x]]);
                    out[(ch * height + y) * width + x] = v;
                }
            }
        }
        return out;
    }

    /** PyTorch's area_pixel_compute_source_index for align_corners=False, and the two neighbours. */
    private static void coords(int in, int out, int[] i0, int[] i1, float[] lambda) {
        float scale = (float) in / out;
        for (int i = 0; i < out; i++) {
            float srcPos = Math.max((i + 0.5f) * scale - 0.5f, 0f);
            int lo = Math.min((int) srcPos, in - 1);
            i0[i] = lo;
            i1[i] = Math.min(lo + 1, in - 1);
            lambda[i] = srcPos - lo;
        }
    }
}
