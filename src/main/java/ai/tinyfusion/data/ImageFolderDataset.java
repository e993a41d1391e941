package ai.tinyfusion.data;

import java.awt.color.ColorSpace;
import java.awt.image.BufferedImage;
import java.awt.image.ColorModel;
import java.awt.image.IndexColorModel;
import java.awt.image.Raster;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileVisitOption;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;
import java.util.stream.Stream;
import javax.imageio.ImageIO;

/**
 * Images in class folders, {@code root/<class_name>/**.png|jpg|jpeg|bmp|tif|tiff}, read like the
 * original training script: torchvision's {@code ImageFolder} ordering, RGB conversion, ADM's
 * {@code center_crop_arr} to {@code imageSize}², optional horizontal flip, then
 * {@code ToTensor} + {@code Normalize(0.5, 0.5)} to [-1, 1].
 *
 * <ul>
 *   <li>Classes are the sub-directories of {@code root} sorted by name (label = position). Files are
 *       found recursively (following links) and ordered as {@code sorted(os.walk(...))} then
 *       {@code sorted(fnames)} order them: by containing directory path, then file name. Extensions
 *       are matched case-insensitively; formats javax.imageio cannot decode (ppm, pgm, webp) are
 *       not listed. A class without images is an error, as in torchvision.</li>
 *   <li>Pixels are converted to 8-bit RGB as PIL's {@code convert("RGB")} does: grey replicated to
 *       three channels (16-bit grey keeps its high byte), palette expanded, alpha dropped. JPEG
 *       decoding by javax.imageio may differ from libjpeg's by a level or two on some pixels; PNG
 *       and BMP decode exactly.</li>
 *   <li>The centre crop reproduces Pillow's BOX and BICUBIC resampling bit for bit (see
 *       {@link PilResample}).</li>
 *   <li>A flip ({@link #get(int, boolean)}, normally decided by the {@link Batcher}) mirrors the
 *       cropped image, as {@code RandomHorizontalFlip} after the crop does.</li>
 * </ul>
 * Images are decoded on every access (no caching).
 */
public final class ImageFolderDataset implements Dataset {
    private static final Set<String> EXTENSIONS = Set.of("png", "jpg", "jpeg", "bmp", "tif", "tiff");

    private final Path root;
    private final int imageSize;
    private final List<String> classes;
    private final List<Path> files;
    private final int[] labels;

    /** Indexes {@code root}; images will be centre-cropped to {@code imageSize}×{@code imageSize}. */
    public ImageFolderDataset(Path root, int imageSize) throws IOException {
        if (imageSize <= 0) {
            throw new IllegalArgumentException("imageSize must be positive, got " + imageSize);
        }
        if (!Files.isDirectory(root)) {
            throw new IOException("image folder " + root + " does not exist");
        }
        this.root = root;
        this.imageSize = imageSize;
        List<String> cls = new ArrayList<>();
        try (Stream<Path> s = Files.list(root)) {
            s.filter(Files::isDirectory).map(p -> p.getFileName().toString()).forEach(cls::add);
        }
        cls.sort(String::compareTo);
        if (cls.isEmpty()) {
            throw new IOException("no class directories in " + root);
        }
        List<Path> all = new ArrayList<>();
        List<Integer> lab = new ArrayList<>();
        for (int c = 0; c < cls.size(); c++) {
            Path dir = root.resolve(cls.get(c));
            List<Path> found = new ArrayList<>();
            try (Stream<Path> s = Files.walk(dir, FileVisitOption.FOLLOW_LINKS)) {
                s.filter(Files::isRegularFile)
                        .filter(ImageFolderDataset::hasImageExtension)
                        .forEach(found::add);
            }
            found.sort(Comparator.comparing((Path p) -> p.getParent().toString())
                    .thenComparing(p -> p.getFileName().toString()));
            if (found.isEmpty()) {
                throw new IOException(
                        "class directory " + dir + " holds no image (" + String.join(", ", EXTENSIONS) + ")");
            }
            for (Path p : found) {
                all.add(p);
                lab.add(c);
            }
        }
        this.classes = List.copyOf(cls);
        this.files = List.copyOf(all);
        this.labels = lab.stream().mapToInt(Integer::intValue).toArray();
    }

    static boolean hasImageExtension(Path p) {
        String name = p.getFileName().toString();
        int dot = name.lastIndexOf('.');
        return dot >= 0 && EXTENSIONS.contains(name.substring(dot + 1).toLowerCase(Locale.ROOT));
    }

    public Path root() {
        return root;
    }

    /** Image files in item order. */
    public List<Path> files() {
        return files;
    }

    /** Label of item {@code index}, without decoding the image. */
    public int label(int index) {
        return labels[Objects.checkIndex(index, labels.length)];
    }

    @Override
    public int size() {
        return files.size();
    }

    @Override
    public int channels() {
        return 3;
    }

    @Override
    public int height() {
        return imageSize;
    }

    @Override
    public int width() {
        return imageSize;
    }

    @Override
    public int numClasses() {
        return classes.size();
    }

    @Override
    public List<String> classNames() {
        return classes;
    }

    @Override
    public Sample get(int index, boolean hflip) {
        Objects.checkIndex(index, files.size());
        try {
            PilResample.Image rgb = readRgb(files.get(index));
            PilResample.Image crop = PilResample.centerCropArr(rgb, imageSize);
            return new Sample(toChw(crop, hflip), labels[index]);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The centre-cropped 8-bit RGB pixels of item {@code index} (interleaved, row-major). */
    public byte[] croppedRgb(int index) throws IOException {
        return PilResample.centerCropArr(readRgb(files.get(Objects.checkIndex(index, files.size()))), imageSize)
                .pixels();
    }

    /** Interleaved RGB → C×H×W floats (v/255 − 0.5)/0.5, optionally mirrored. */
    static float[] toChw(PilResample.Image im, boolean hflip) {
        int w = im.width();
        int h = im.height();
        byte[] px = im.pixels();
        float[] out = new float[3 * h * w];
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                int sx = hflip ? w - 1 - x : x;
                int src = (y * w + sx) * 3;
                for (int c = 0; c < 3; c++) {
                    out[(c * h + y) * w + x] = FashionMnist.normalize(px[src + c] & 0xff);
                }
            }
        }
        return out;
    }

    /** Decodes an image file to 8-bit interleaved RGB like PIL's {@code Image.open(f).convert("RGB")}. */
    static PilResample.Image readRgb(Path file) throws IOException {
        BufferedImage img = ImageIO.read(file.toFile());
        if (img == null) {
            throw new IOException(file + ": not an image format javax.imageio can decode");
        }
        int w = img.getWidth();
        int h = img.getHeight();
        byte[] out = new byte[w * h * 3];
        ColorModel cm = img.getColorModel();
        Raster r = img.getRaster();
        if (!(cm instanceof IndexColorModel) && cm.getColorSpace().getType() == ColorSpace.TYPE_GRAY) {
            // Read grey samples directly: getRGB would apply a linear-to-sRGB conversion.
            int shift = Math.max(cm.getComponentSize(0) - 8, 0);
            for (int y = 0; y < h; y++) {
                for (int x = 0; x < w; x++) {
                    byte v = (byte) (r.getSample(x, y, 0) >>> shift);
                    int o = (y * w + x) * 3;
                    out[o] = v;
                    out[o + 1] = v;
                    out[o + 2] = v;
                }
            }
        } else {
            int[] row = new int[w];
            for (int y = 0; y < h; y++) {
                img.getRGB(0, y, w, 1, row, 0, w);
                for (int x = 0; x < w; x++) {
                    int o = (y * w + x) * 3;
                    out[o] = (byte) (row[x] >>> 16);
                    out[o + 1] = (byte) (row[x] >>> 8);
                    out[o + 2] = (byte) row[x];
                }
            }
        }
        return new PilResample.Image(out, w, h, 3);
    }
}
