package ai.tinyfusion.data;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.nio.FloatBuffer;
import java.util.stream.IntStream;

/**
 * Endless stream of mini-batches over a {@link Dataset}, epoch after epoch, reproducible from a seed
 * and resumable at any batch boundary.
 *
 * <p><b>Randomness.</b> Nothing uses {@code java.util.Random}. The order of epoch {@code e} is a
 * Fisher-Yates shuffle driven by {@code SplitMix64(derive(seed, e, 0))}, so it depends only on the
 * seed and the epoch number. Flip decisions (probability {@code p}, one {@code nextDouble() < p} per
 * sample in batch order, only when {@code p > 0}) come from a second generator that starts each
 * epoch at {@code derive(seed, e, 1)} and whose current state is part of {@link State}. Saving
 * {@link #state()} after a batch and {@link #restore(State) restoring} it in a new Batcher built with
 * the same dataset, seed and options yields exactly the batches the original would have produced
 * next.
 *
 * <p><b>Epochs.</b> With {@code dropLast} (as the original training loop's DataLoader) an epoch has
 * ⌊N/B⌋ full batches; without it, ⌈N/B⌉ batches, the last possibly short. After the last batch the
 * next call starts the following epoch.
 *
 * <p><b>Output.</b> {@link #next(NDManager)} returns images (B, C, H, W) float32 and labels (B,)
 * int64. The arrays are created from Java buffers and immediately {@code duplicate()}d into
 * libtorch-owned memory (the Java-backed temporaries are closed), so they are safe to keep across
 * autograd (see the project's DJL notes). An optional {@link Resizer} brings every image to a
 * target size first.
 */
public final class Batcher {
    private final Dataset dataset;
    private final int batchSize;
    private final long seed;
    private final boolean shuffle;
    private final boolean dropLast;
    private final double flipProbability;
    private final Resizer resizer;
    private final boolean parallel;

    private long epoch;
    private int position;
    private int[] order;
    private final SplitMix64 flipRng = new SplitMix64(0);

    /**
     * Where a Batcher stands: the next batch starts at {@code position} within epoch {@code epoch}'s
     * order, and the flip generator's state is {@code flipRngState}.
     */
    public record State(long seed, long epoch, int position, long flipRngState) {}

    /**
     * One batch. {@code indices} are the dataset indices in batch order, {@code flipped} the flip
     * decisions; closing it closes both arrays.
     */
    public record Batch(NDArray images, NDArray labels, long epoch, int[] indices, boolean[] flipped)
            implements AutoCloseable {
        public int size() {
            return indices.length;
        }

        @Override
        public void close() {
            images.close();
            labels.close();
        }
    }

    /** A batch in Java memory: images (B·C·H·W floats, C order) and labels. */
    public record HostBatch(float[] images, long[] labels, long epoch, int[] indices, boolean[] flipped) {}

    private Batcher(Builder b) {
        this.dataset = b.dataset;
        this.batchSize = b.batchSize;
        this.seed = b.seed;
        this.shuffle = b.shuffle;
        this.dropLast = b.dropLast;
        this.flipProbability = b.flipProbability;
        this.resizer = b.resizer;
        this.parallel = b.parallel;
        if (epochEnd() == 0) {
            throw new IllegalArgumentException("dataset of " + dataset.size() + " items yields no batch of " + batchSize
                    + (dropLast ? " with dropLast" : ""));
        }
        startEpoch(0);
    }

    /** Starts building a Batcher for {@code dataset} with batches of {@code batchSize}. */
    public static Builder builder(Dataset dataset, int batchSize) {
        return new Builder(dataset, batchSize);
    }

    /** Options; defaults: seed 0, shuffle on, dropLast off, no flips, no resizing, sequential loading. */
    public static final class Builder {
        private final Dataset dataset;
        private final int batchSize;
        private long seed;
        private boolean shuffle = true;
        private boolean dropLast;
        private double flipProbability;
        private Resizer resizer;
        private boolean parallel;

        private Builder(Dataset dataset, int batchSize) {
            if (batchSize <= 0) {
                throw new IllegalArgumentException("batchSize must be positive, got " + batchSize);
            }
            this.dataset = dataset;
            this.batchSize = batchSize;
        }

        public Builder seed(long seed) {
            this.seed = seed;
            return this;
        }

        /** Shuffle each epoch (default) or keep dataset order. */
        public Builder shuffle(boolean shuffle) {
            this.shuffle = shuffle;
            return this;
        }

        /** Drop the last incomplete batch of every epoch. */
        public Builder dropLast(boolean dropLast) {
            this.dropLast = dropLast;
            return this;
        }

        /** Horizontal flip with probability {@code p} per sample (0.5 is torchvision's and the original's choice). */
        public Builder randomFlip(double p) {
            if (!(p >= 0 && p <= 1)) {
                throw new IllegalArgumentException("flip probability must be in [0, 1], got " + p);
            }
            this.flipProbability = p;
            return this;
        }

        /** Resize/pad every image (after flipping) with {@code resizer}; null for none. */
        public Builder resize(Resizer resizer) {
            this.resizer = resizer;
            return this;
        }

        /** Load the samples of a batch on the common fork-join pool (datasets are thread-safe). */
        public Builder parallel(boolean parallel) {
            this.parallel = parallel;
            return this;
        }

        public Batcher build() {
            return new Batcher(this);
        }
    }

    public Dataset dataset() {
        return dataset;
    }

    public int batchSize() {
        return batchSize;
    }

    /** Batches per epoch. */
    public int batchesPerEpoch() {
        int n = dataset.size();
        return dropLast ? n / batchSize : (n + batchSize - 1) / batchSize;
    }

    public int channels() {
        return dataset.channels();
    }

    /** Output image height (after resizing). */
    public int height() {
        return resizer == null ? dataset.height() : resizer.height();
    }

    /** Output image width (after resizing). */
    public int width() {
        return resizer == null ? dataset.width() : resizer.width();
    }

    /** The epoch of the next batch (0-based; may advance when the current one is exhausted). */
    public long epoch() {
        return epoch;
    }

    /** Samples of the current epoch already delivered. */
    public int position() {
        return position;
    }

    public State state() {
        return new State(seed, epoch, position, flipRng.state());
    }

    /** Continues from {@code state}, which must come from a Batcher with the same seed and dataset size. */
    public void restore(State state) {
        if (state.seed() != seed) {
            throw new IllegalArgumentException(
                    "state was saved with seed " + state.seed() + ", this Batcher uses " + seed);
        }
        if (state.epoch() < 0 || state.position() < 0 || state.position() > epochEnd()) {
            throw new IllegalArgumentException(
                    "invalid state " + state + " for an epoch of " + epochEnd() + " samples");
        }
        epoch = state.epoch();
        order = epochOrder(epoch);
        position = state.position();
        flipRng.setState(state.flipRngState());
    }

    /** The dataset indices of epoch {@code e} in delivery order. */
    public int[] epochOrder(long e) {
        int[] o = IntStream.range(0, dataset.size()).toArray();
        if (shuffle) {
            new SplitMix64(SplitMix64.derive(seed, e, 0)).shuffle(o);
        }
        return o;
    }

    private int epochEnd() {
        int n = dataset.size();
        return dropLast ? n / batchSize * batchSize : n;
    }

    private void startEpoch(long e) {
        epoch = e;
        order = epochOrder(e);
        position = 0;
        flipRng.setState(SplitMix64.derive(seed, e, 1));
    }

    /** The next batch in Java memory. */
    public HostBatch nextHost() {
        if (position >= epochEnd()) {
            startEpoch(epoch + 1);
        }
        int count = Math.min(batchSize, epochEnd() - position);
        int[] indices = new int[count];
        boolean[] flips = new boolean[count];
        for (int k = 0; k < count; k++) {
            indices[k] = order[position + k];
            flips[k] = flipProbability > 0 && flipRng.nextDouble() < flipProbability;
        }
        int c = channels();
        int per = c * height() * width();
        float[] images = new float[count * per];
        long[] labels = new long[count];
        IntStream ks = IntStream.range(0, count);
        (parallel ? ks.parallel() : ks).forEach(k -> {
            Sample s = dataset.get(indices[k], flips[k]);
            float[] img = s.image();
            if (resizer != null) {
                img = resizer.apply(img, c, dataset.height(), dataset.width());
            }
            if (img.length != per) {
                throw new IllegalStateException(
                        "item " + indices[k] + " has " + img.length + " values, expected " + per);
            }
            System.arraycopy(img, 0, images, k * per, per);
            labels[k] = s.label();
        });
        long e = epoch;
        position += count;
        return new HostBatch(images, labels, e, indices, flips);
    }

    /** The next batch as NDArrays in {@code manager}: images (B, C, H, W) float32, labels (B,) int64. */
    public Batch next(NDManager manager) {
        HostBatch h = nextHost();
        int b = h.labels().length;
        NDArray images;
        NDArray labels;
        try (NDArray tmp = manager.create(FloatBuffer.wrap(h.images()), new Shape(b, channels(), height(), width()))) {
            images = tmp.duplicate();
        }
        try (NDArray tmp = manager.create(h.labels())) {
            labels = tmp.duplicate();
        }
        return new Batch(images, labels, h.epoch(), h.indices(), h.flipped());
    }
}
