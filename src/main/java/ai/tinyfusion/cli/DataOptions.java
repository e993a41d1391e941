package ai.tinyfusion.cli;

import ai.tinyfusion.data.Dataset;
import ai.tinyfusion.data.FashionMnist;
import ai.tinyfusion.data.ImageFolderDataset;
import ai.tinyfusion.data.LatentFolderDataset;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import picocli.CommandLine.Option;

/** Where training data comes from. */
public final class DataOptions {
    @Option(
            names = "--data",
            defaultValue = "fashion-mnist",
            description =
                    "fashion-mnist (train split), fashion-mnist-test, an image folder (root/<class>/*.png|jpg), "
                            + "or a folder of pre-extracted latents (<root>/*_features/N.npy + *_labels/N.npy). Default: ${DEFAULT-VALUE}.")
    String data;

    @Option(
            names = "--data-dir",
            description = "Directory holding the Fashion-MNIST IDX .gz files "
                    + "(default: $FASHION_MNIST_DIR or /usr/share/datasets/fashion-mnist).")
    Path dataDir;

    @Option(names = "--crop-size", description = "Image-folder data: ADM center-crop size in pixels (default 256).")
    int imageSize = 256;

    @Option(
            names = "--latent-prefix",
            defaultValue = "imagenet256",
            description = "Latent-folder data: the prefix of <prefix>_features / <prefix>_labels (${DEFAULT-VALUE}).")
    String latentPrefix;

    public Dataset open() throws IOException {
        String d = data.trim();
        if (d.equals("fashion-mnist") || d.equals("fashion-mnist-test")) {
            FashionMnist.Split split = d.endsWith("test") ? FashionMnist.Split.TEST : FashionMnist.Split.TRAIN;
            return FashionMnist.load(fashionDir(), split);
        }
        Path root = Path.of(d);
        if (!Files.isDirectory(root)) {
            throw new IOException("--data " + d + ": not fashion-mnist[-test] and not a directory");
        }
        try (Stream<Path> s = Files.list(root)) {
            if (s.anyMatch(p -> p.getFileName().toString().endsWith("_features"))) {
                return new LatentFolderDataset(root, latentPrefix);
            }
        }
        return new ImageFolderDataset(root, imageSize);
    }

    /** The Fashion-MNIST directory from --data-dir, $FASHION_MNIST_DIR or the Debian package. */
    public Path fashionDir() {
        return fashionDir(dataDir);
    }

    /** {@code dataDir} when given, else $FASHION_MNIST_DIR, else the Debian package's directory. */
    static Path fashionDir(Path dataDir) {
        if (dataDir != null) {
            return dataDir;
        }
        String env = System.getenv("FASHION_MNIST_DIR");
        return env != null && !env.isBlank() ? Path.of(env) : FashionMnist.DEFAULT_DIR;
    }
}
