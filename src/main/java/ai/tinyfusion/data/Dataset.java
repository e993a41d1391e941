package ai.tinyfusion.data;

import java.util.ArrayList;
import java.util.List;

/**
 * Random-access labelled images: item {@code i} is a C×H×W float array (C order) and a class index.
 * Pixel datasets return values in [-1, 1] (torchvision's {@code ToTensor} then
 * {@code Normalize(0.5, 0.5)}); latent datasets return VAE latents as stored.
 *
 * <p>Augmentation randomness is not kept in datasets: {@link #get(int, boolean)} takes the
 * horizontal-flip decision as an argument and the {@link Batcher} draws it from its seeded,
 * restorable generator. For pixel datasets a flip mirrors the columns; for pre-extracted latents
 * it selects the stored latent of the mirrored image. Implementations are read-only and safe to
 * call from several threads.
 */
public interface Dataset {
    int size();

    int channels();

    int height();

    int width();

    int numClasses();

    /** Human-readable class names, {@code numClasses()} of them; by default "0", "1", ... */
    default List<String> classNames() {
        List<String> names = new ArrayList<>();
        for (int i = 0; i < numClasses(); i++) {
            names.add(Integer.toString(i));
        }
        return names;
    }

    /** Item {@code index}, horizontally flipped if {@code hflip}. I/O failures are UncheckedIOExceptions. */
    Sample get(int index, boolean hflip);

    /** Item {@code index}, not flipped. */
    default Sample get(int index) {
        return get(index, false);
    }

    /** Mirrors each row of a C×H×W array (a new array). */
    static float[] flipHorizontal(float[] chw, int c, int h, int w) {
        float[] out = new float[chw.length];
        for (int ch = 0; ch < c; ch++) {
            for (int y = 0; y < h; y++) {
                int row = (ch * h + y) * w;
                for (int x = 0; x < w; x++) {
                    out[row + x] = chw[row + w - 1 - x];
                }
            }
        }
        return out;
    }
}
