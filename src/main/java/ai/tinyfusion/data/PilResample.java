package ai.tinyfusion.data;

/**
 * Pillow's resampling of 8-bit images ({@code Image.resize} with {@code BOX} or {@code BICUBIC}),
 * reproduced so that {@link ImageFolderDataset}'s ADM centre crop gives the same pixels as the
 * Python pipeline.
 *
 * <p>The algorithm (Pillow's {@code Resample.c}): separable, horizontal pass first (only if the
 * width changes) into an 8-bit intermediate, then the vertical pass (only if the height changes).
 * For each output position {@code i} of a pass, with {@code scale = in/out} and
 * {@code fs = max(scale, 1)}: centre {@code (i + 0.5)·scale}, support {@code s·fs} (s = 0.5 for BOX,
 * 2 for BICUBIC), input taps {@code j ∈ [trunc(centre − support + 0.5), trunc(centre + support + 0.5))}
 * clipped to the image, weights {@code filter((j − centre + 0.5)/fs)} normalised to sum 1, then
 * turned into 22-bit fixed point (rounded half away from zero). A pixel is
 * {@code clamp((2^21 + Σ w_j·p_j) >> 22, 0, 255)} in 32-bit integer arithmetic. BOX is 1 on
 * (−0.5, 0.5]; BICUBIC is Keys' cubic with a = −0.5.
 */
final class PilResample {
    private PilResample() {}

    private static final int PRECISION_BITS = 32 - 8 - 2;

    enum Filter {
        BOX(0.5),
        BICUBIC(2.0);

        final double support;

        Filter(double support) {
            this.support = support;
        }

        double apply(double x) {
            if (this == BOX) {
                return x > -0.5 && x <= 0.5 ? 1.0 : 0.0;
            }
            double a = -0.5;
            if (x < 0) {
                x = -x;
            }
            if (x < 1.0) {
                return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
            }
            if (x < 2.0) {
                return (((x - 5) * x + 8) * x - 4) * a;
            }
            return 0.0;
        }
    }

    /** Taps of one pass: for output i, inputs start[i] .. start[i]+count[i]-1 with fixed-point weights. */
    private record Coeffs(int[] start, int[] count, int[][] weights) {}

    private static Coeffs coefficients(int inSize, int outSize, Filter filter) {
        double scale = (double) inSize / outSize;
        double filterScale = Math.max(scale, 1.0);
        double support = filter.support * filterScale;
        int[] start = new int[outSize];
        int[] count = new int[outSize];
        int[][] weights = new int[outSize][];
        for (int i = 0; i < outSize; i++) {
            double center = (i + 0.5) * scale;
            int xmin = Math.max((int) (center - support + 0.5), 0);
            int xmax = Math.min((int) (center + support + 0.5), inSize) - xmin;
            double[] k = new double[Math.max(xmax, 0)];
            double sum = 0;
            for (int x = 0; x < k.length; x++) {
                k[x] = filter.apply((x + xmin - center + 0.5) / filterScale);
                sum += k[x];
            }
            int[] fixed = new int[k.length];
            for (int x = 0; x < k.length; x++) {
                double w = sum != 0.0 ? k[x] / sum : k[x];
                fixed[x] = (int) (w < 0 ? -0.5 + w * (1 << PRECISION_BITS) : 0.5 + w * (1 << PRECISION_BITS));
            }
            start[i] = xmin;
            count[i] = k.length;
            weights[i] = fixed;
        }
        return new Coeffs(start, count, weights);
    }

    private static int clip8(int v) {
        int s = v >> PRECISION_BITS;
        return s < 0 ? 0 : Math.min(s, 255);
    }

    /**
     * Resizes an interleaved 8-bit image ({@code h} rows of {@code w} pixels of {@code channels}
     * bytes) to {@code outW}×{@code outH}.
     */
    static byte[] resize(byte[] src, int w, int h, int channels, int outW, int outH, Filter filter) {
        if (src.length != w * h * channels) {
            throw new IllegalArgumentException(
                    "image buffer of " + src.length + " bytes is not " + w + "x" + h + "x" + channels);
        }
        if (outW <= 0 || outH <= 0) {
            throw new IllegalArgumentException("output size must be positive, got " + outW + "x" + outH);
        }
        byte[] cur = src;
        int cw = w;
        if (outW != w) {
            Coeffs c = coefficients(w, outW, filter);
            byte[] out = new byte[outW * h * channels];
            for (int y = 0; y < h; y++) {
                int rowIn = y * w * channels;
                int rowOut = y * outW * channels;
                for (int x = 0; x < outW; x++) {
                    int[] k = c.weights()[x];
                    int x0 = c.start()[x];
                    for (int ch = 0; ch < channels; ch++) {
                        int ss = 1 << (PRECISION_BITS - 1);
                        for (int t = 0; t < k.length; t++) {
                            ss += (cur[rowIn + (x0 + t) * channels + ch] & 0xff) * k[t];
                        }
                        out[rowOut + x * channels + ch] = (byte) clip8(ss);
                    }
                }
            }
            cur = out;
            cw = outW;
        }
        if (outH != h) {
            Coeffs c = coefficients(h, outH, filter);
            int stride = cw * channels;
            byte[] out = new byte[outH * stride];
            for (int y = 0; y < outH; y++) {
                int[] k = c.weights()[y];
                int y0 = c.start()[y];
                for (int i = 0; i < stride; i++) {
                    int ss = 1 << (PRECISION_BITS - 1);
                    for (int t = 0; t < k.length; t++) {
                        ss += (cur[(y0 + t) * stride + i] & 0xff) * k[t];
                    }
                    out[y * stride + i] = (byte) clip8(ss);
                }
            }
            cur = out;
        }
        return cur == src ? src.clone() : cur;
    }

    /** An interleaved 8-bit image. */
    record Image(byte[] pixels, int width, int height, int channels) {}

    /**
     * ADM's {@code center_crop_arr}: halve with BOX while the shorter side is at least
     * {@code 2·size}, resize with BICUBIC so the shorter side becomes {@code size} (the other side
     * {@code round(side·size/short)}, Python's round-half-to-even), then crop the centre
     * {@code size}×{@code size} (offsets rounded down).
     */
    static Image centerCropArr(Image im, int size) {
        byte[] px = im.pixels();
        int w = im.width();
        int h = im.height();
        int ch = im.channels();
        while (Math.min(w, h) >= 2 * size) {
            int nw = w / 2;
            int nh = h / 2;
            px = resize(px, w, h, ch, nw, nh, Filter.BOX);
            w = nw;
            h = nh;
        }
        double scale = (double) size / Math.min(w, h);
        int nw = (int) Math.rint(w * scale);
        int nh = (int) Math.rint(h * scale);
        px = resize(px, w, h, ch, nw, nh, Filter.BICUBIC);
        int cropY = (nh - size) / 2;
        int cropX = (nw - size) / 2;
        byte[] out = new byte[size * size * ch];
        for (int y = 0; y < size; y++) {
            System.arraycopy(px, ((cropY + y) * nw + cropX) * ch, out, y * size * ch, size * ch);
        }
        return new Image(out, size, size, ch);
    }
}
