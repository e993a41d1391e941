package ai.tinyfusion.data;

import java.io.IOException;
import java.nio.file.FileVisitOption;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/**
 * A plain folder of images (no classes), read as {@link ImageFolderDataset} reads its files: 8-bit RGB as PIL's
 * {@code convert("RGB")}, optionally ADM's centre crop.
 */
public final class ImageFiles {
    private ImageFiles() {}

    /** Interleaved 8-bit RGB pixels, row-major (H×W×3). */
    public record Rgb(byte[] pixels, int width, int height) {}

    /**
     * The image files under {@code folder} (recursively, following links; the extensions of
     * {@link ImageFolderDataset}), ordered by their path relative to the folder.
     */
    public static List<Path> list(Path folder) throws IOException {
        if (!Files.isDirectory(folder)) {
            throw new IOException("image folder " + folder + " does not exist");
        }
        List<Path> files;
        try (Stream<Path> s = Files.walk(folder, FileVisitOption.FOLLOW_LINKS)) {
            files = s.filter(Files::isRegularFile)
                    .filter(ImageFolderDataset::hasImageExtension)
                    .sorted(Comparator.comparing(p -> folder.relativize(p).toString()))
                    .toList();
        }
        if (files.isEmpty()) {
            throw new IOException("no images (png, jpg, jpeg, bmp, tif, tiff) in " + folder);
        }
        return files;
    }

    /** Reads an image as 8-bit RGB; {@code size > 0} centre-crops it to size×size as ADM's {@code center_crop_arr}. */
    public static Rgb read(Path file, int size) throws IOException {
        PilResample.Image im = ImageFolderDataset.readRgb(file);
        if (size > 0) {
            im = PilResample.centerCropArr(im, size);
        }
        return new Rgb(im.pixels(), im.width(), im.height());
    }
}
