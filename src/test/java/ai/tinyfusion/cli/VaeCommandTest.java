package ai.tinyfusion.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.tinyfusion.io.DType;
import ai.tinyfusion.io.HostTensor;
import ai.tinyfusion.io.Npy;
import ai.tinyfusion.io.Npz;
import java.awt.image.BufferedImage;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Map;
import java.util.Random;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code tinyfusion vae encode|decode} on the small SD-layout VAE fixture (z 4, factor 8). */
class VaeCommandTest {
    @TempDir
    Path tmp;

    static Path fixture(String name) throws Exception {
        return Paths.get(
                VaeCommandTest.class.getResource("/fixtures/vae/" + name).toURI());
    }

    static void ok(String... args) {
        StringWriter err = new StringWriter();
        assertEquals(0, CliRun.run(err, args), err.toString());
    }

    static String fails(String... args) {
        StringWriter err = new StringWriter();
        assertEquals(1, CliRun.run(err, args), err.toString());
        return err.toString();
    }

    @Test
    void folderRoundTripWritesLatentsAndImagesOfTheRightShapes() throws Exception {
        Path dir = tmp.resolve("images");
        Files.createDirectories(dir.resolve("sub"));
        Random r = new Random(1);
        byte[] pixels = new byte[2 * 24 * 32 * 3];
        r.nextBytes(pixels);
        for (int i = 0; i < 2; i++) {
            BufferedImage im = new BufferedImage(32, 24, BufferedImage.TYPE_INT_RGB);
            for (int y = 0; y < 24; y++) {
                for (int x = 0; x < 32; x++) {
                    int o = ((i * 24 + y) * 32 + x) * 3;
                    im.setRGB(
                            x, y, ((pixels[o] & 0xff) << 16) | ((pixels[o + 1] & 0xff) << 8) | (pixels[o + 2] & 0xff));
                }
            }
            ImageIO.write(im, "png", dir.resolve(i == 0 ? "a.png" : "sub/b.png").toFile());
        }
        String vae = fixture("sd_small-diffusers").toString();
        Path latents = tmp.resolve("lat/latents.npy");
        ok("vae", "encode", dir.toString(), "--vae", vae, "--out", latents.toString(), "--batch", "1");
        HostTensor z = Npy.read(latents);
        assertEquals(DType.F32, z.dtype());
        assertArrayEquals(new long[] {2, 4, 3, 4}, z.shape());

        // The same images as an ADM .npz: the same latents, and the labels carried over.
        Path adm = tmp.resolve("images.npz");
        Npz.write(
                adm,
                Map.of(
                        "arr_0", HostTensor.ofBytes(DType.U8, pixels, 2, 24, 32, 3),
                        "arr_1", HostTensor.ofLongs(new long[] {3, 5}, 2)));
        Path fromNpz = tmp.resolve("from-npz.npz");
        ok("vae", "encode", adm.toString(), "--vae", vae, "--out", fromNpz.toString(), "--batch", "1");
        Map<String, HostTensor> encoded = Npz.read(fromNpz);
        assertEquals(z, encoded.get("arr_0"));
        assertArrayEquals(new long[] {3, 5}, encoded.get("arr_1").toLongArray());

        Path sampled = tmp.resolve("sampled.npy");
        ok("vae", "encode", dir.toString(), "--vae", vae, "--out", sampled.toString(), "--sample", "--seed", "5");
        Path again = tmp.resolve("again.npy");
        ok("vae", "encode", dir.toString(), "--vae", vae, "--out", again.toString(), "--sample", "--seed", "5");
        assertArrayEquals(Npy.read(sampled).toFloatArray(), Npy.read(again).toFloatArray(), 0f);
        assertFalse(java.util.Arrays.equals(z.toFloatArray(), Npy.read(sampled).toFloatArray()));

        Path out = tmp.resolve("decoded");
        ok("vae", "decode", latents.toString(), "--vae", vae, "--out", out.toString(), "--batch", "1");
        HostTensor images = Npz.read(out.resolve("samples.npz")).get("arr_0");
        assertEquals(DType.U8, images.dtype());
        assertArrayEquals(new long[] {2, 24, 32, 3}, images.shape());
        assertTrue(Files.isRegularFile(out.resolve("grid.png")));
        byte[] all = new byte[(int) images.byteSize()];
        images.data().get(all);
        for (int i = 0; i < 2; i++) {
            BufferedImage png = ImageIO.read(
                    out.resolve(String.format("images/%06d.png", i)).toFile());
            assertEquals(32, png.getWidth());
            assertEquals(24, png.getHeight());
            for (int y = 0; y < 24; y += 5) {
                for (int x = 0; x < 32; x += 3) {
                    int base = ((i * 24 + y) * 32 + x) * 3;
                    int rgb = ((all[base] & 0xff) << 16) | ((all[base + 1] & 0xff) << 8) | (all[base + 2] & 0xff);
                    assertEquals(rgb, png.getRGB(x, y) & 0xffffff, "image " + i + " at " + x + "," + y);
                }
            }
        }
    }

    @Test
    void imagesOfDifferentSizesNeedACentreCrop() throws Exception {
        Path dir = Files.createDirectories(tmp.resolve("mixed"));
        ImageIO.write(
                new BufferedImage(32, 24, BufferedImage.TYPE_INT_RGB),
                "png",
                dir.resolve("a.png").toFile());
        ImageIO.write(
                new BufferedImage(40, 24, BufferedImage.TYPE_INT_RGB),
                "png",
                dir.resolve("b.png").toFile());
        String vae = fixture("sd_small-diffusers").toString();
        Path out = tmp.resolve("mixed.npy");
        String err = fails("vae", "encode", dir.toString(), "--vae", vae, "--out", out.toString());
        assertTrue(err.contains("b.png is 40x24, not 32x24") && err.contains("--image-size"), err);
        ok("vae", "encode", dir.toString(), "--vae", vae, "--out", out.toString(), "--image-size", "16");
        assertArrayEquals(new long[] {2, 4, 2, 2}, Npy.read(out).shape());
    }

    /** Decoding the fixture's z (scale 1) gives the reference decode, mapped as DiT's sample_ddp.py, to one level. */
    @Test
    void decodeMatchesTheReferenceDecoderWithDiTsPixelMapping() throws Exception {
        Map<String, HostTensor> io = Npz.read(fixture("sd_small-io.npz"));
        Path latents = tmp.resolve("z.npz");
        Npz.write(latents, Map.of("arr_0", io.get("z"), "arr_1", HostTensor.ofLongs(new long[] {7, 9}, 2)));
        Path out = tmp.resolve("ref");
        ok(
                "vae",
                "decode",
                latents.toString(),
                "--vae",
                fixture("sd_small-diffusers/diffusion_pytorch_model.safetensors")
                        .toString(),
                "--scale",
                "1",
                "--no-png",
                "--grid-max",
                "0",
                "--out",
                out.toString());
        Map<String, HostTensor> npz = Npz.read(out.resolve("samples.npz"));
        assertArrayEquals(new long[] {7, 9}, npz.get("arr_1").toLongArray());
        assertFalse(Files.exists(out.resolve("grid.png")));
        assertFalse(Files.exists(out.resolve("images")));
        HostTensor got = npz.get("arr_0");
        float[] ref = io.get("decoded").toFloatArray(); // (2, 3, 64, 64)
        long[] s = io.get("decoded").shape();
        assertArrayEquals(new long[] {s[0], s[2], s[3], 3}, got.shape());
        byte[] bytes = new byte[(int) got.byteSize()];
        got.data().get(bytes);
        int exact = 0;
        for (int n = 0; n < s[0]; n++) {
            for (int c = 0; c < 3; c++) {
                for (int y = 0; y < s[2]; y++) {
                    for (int x = 0; x < s[3]; x++) {
                        float v = ref[(int) (((n * 3 + c) * s[2] + y) * s[3] + x)];
                        int expected = (int) Math.min(255f, Math.max(0f, 127.5f * v + 128f));
                        int actual = bytes[(int) (((n * s[2] + y) * s[3] + x) * 3 + c)] & 0xff;
                        assertTrue(Math.abs(expected - actual) <= 1, expected + " vs " + actual);
                        exact += expected == actual ? 1 : 0;
                    }
                }
            }
        }
        assertTrue(exact > 0.99 * bytes.length, exact + " of " + bytes.length + " exact");
    }

    @Test
    void aBarePresetNeedsRandomWeights() throws Exception {
        Path z = tmp.resolve("z.npy");
        Npy.write(z, HostTensor.ofFloats(new float[4], 1, 4, 1, 1));
        String err = fails("vae", "decode", z.toString(), "--vae", "sd-vae-ft-ema", "--out", tmp.toString());
        assertTrue(err.contains("is a preset name, not weights") && err.contains("--random-weights"), err);
        err = fails(
                "vae",
                "decode",
                z.toString(),
                "--vae",
                fixture("sd_small-ldm.ckpt").toString(),
                "--out",
                tmp.toString());
        assertTrue(err.contains("no diffusers config.json"), err);
    }

    /** Writes {@code n} random-pixel PNGs of w×h into {@code dir}. */
    static void randomPngs(Path dir, int n, int w, int h, long seed) throws Exception {
        Files.createDirectories(dir);
        Random r = new Random(seed);
        for (int i = 0; i < n; i++) {
            BufferedImage im = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
            for (int y = 0; y < h; y++) {
                for (int x = 0; x < w; x++) {
                    im.setRGB(x, y, r.nextInt(1 << 24));
                }
            }
            ImageIO.write(im, "png", dir.resolve("img" + i + ".png").toFile());
        }
    }

    /** {@code vae extract DATA --vae <small SD fixture> --image-size 16 --out OUT more...} succeeds. */
    private static void extract(Path data, Path out, String... more) throws Exception {
        String[] base = {
            "vae",
            "extract",
            data.toString(),
            "--vae",
            fixture("sd_small-diffusers").toString(),
            "--image-size",
            "16",
            "--out",
            out.toString()
        };
        String[] args = java.util.Arrays.copyOf(base, base.length + more.length);
        System.arraycopy(more, 0, args, base.length, more.length);
        ok(args);
    }

    private static byte[] bytes(Path dir, String folder, int i) throws Exception {
        return Files.readAllBytes(dir.resolve(folder + "/" + i + ".npy"));
    }

    /**
     * {@code vae extract}: ImageFolder order and labels, the original's file layout read back by the latent-folder
     * dataset, mirror copies, other batch sizes, and a resume that rewrites exactly the missing files.
     */
    @Test
    void extractWritesTheOriginalLayoutAndResumes() throws Exception {
        Path data = tmp.resolve("data");
        randomPngs(data.resolve("cat"), 2, 24, 20, 1);
        randomPngs(data.resolve("ant"), 3, 20, 20, 2);
        Path a = tmp.resolve("a");
        extract(data, a, "--batch", "2");
        // ImageFolder order: classes sorted (ant = 0, cat = 1), files sorted within each
        long[] labels = new long[5];
        for (int i = 0; i < 5; i++) {
            HostTensor f = Npy.read(a.resolve("imagenet16_features/" + i + ".npy"));
            assertEquals(DType.F32, f.dtype());
            assertArrayEquals(new long[] {1, 4, 2, 2}, f.shape());
            HostTensor y = Npy.read(a.resolve("imagenet16_labels/" + i + ".npy"));
            assertArrayEquals(new long[] {1}, y.shape());
            labels[i] = y.toLongArray()[0];
        }
        assertArrayEquals(new long[] {0, 0, 0, 1, 1}, labels);
        assertEquals("ant\ncat\n", Files.readString(a.resolve("imagenet16_classes.txt")));
        var dataset = new ai.tinyfusion.data.LatentFolderDataset(
                a.resolve("imagenet16_features"), a.resolve("imagenet16_labels"), 2);
        assertEquals(5, dataset.size());

        // another batch size: the same latents up to float rounding (the same noise per index)
        Path b = tmp.resolve("b");
        extract(data, b, "--batch", "3");
        for (int i = 0; i < 5; i++) {
            assertArrayEquals(
                    Npy.read(a.resolve("imagenet16_features/" + i + ".npy")).toFloatArray(),
                    Npy.read(b.resolve("imagenet16_features/" + i + ".npy")).toFloatArray(),
                    1e-4f,
                    "image " + i);
        }

        // a resume after losing files rewrites them byte for byte; a batch without missing files is not touched
        Path copy = tmp.resolve("a-copy");
        extract(data, copy, "--batch", "2");
        Files.delete(a.resolve("imagenet16_features/1.npy"));
        Files.delete(a.resolve("imagenet16_labels/4.npy"));
        long untouched = Files.getLastModifiedTime(a.resolve("imagenet16_features/2.npy"))
                .toMillis();
        extract(data, a, "--batch", "2");
        for (int i = 0; i < 5; i++) {
            assertArrayEquals(bytes(copy, "imagenet16_features", i), bytes(a, "imagenet16_features", i));
            assertArrayEquals(bytes(copy, "imagenet16_labels", i), bytes(a, "imagenet16_labels", i));
        }
        assertEquals(
                untouched,
                Files.getLastModifiedTime(a.resolve("imagenet16_features/2.npy"))
                        .toMillis());

        // mirror copies: (2, C, h, w), the first the unflipped posterior mean, the second the mirror's
        Path c = tmp.resolve("c");
        extract(data, c, "--flip", "copies", "--mean", "--prefix", "train");
        HostTensor pair = Npy.read(c.resolve("train_features/3.npy"));
        assertArrayEquals(new long[] {2, 4, 2, 2}, pair.shape());
        Path d = tmp.resolve("d");
        extract(data, d, "--flip", "none", "--mean", "--prefix", "train");
        float[] first = java.util.Arrays.copyOf(pair.toFloatArray(), 16);
        assertArrayEquals(Npy.read(d.resolve("train_features/3.npy")).toFloatArray(), first, 1e-5f);
        assertFalse(java.util.Arrays.equals(first, java.util.Arrays.copyOfRange(pair.toFloatArray(), 16, 32)));

        String err =
                fails("vae", "extract", data.toString(), "--vae", "x.safetensors", "--flip", "sideways", "--out", "o");
        assertTrue(err.contains("unknown --flip 'sideways'"), err);
    }
}
