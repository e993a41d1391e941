package ai.tinyfusion.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ImageFolderDatasetTest {
    @TempDir
    Path root;

    /** The test pattern, also generated with numpy for the expected values below. */
    private static int pattern(int x, int y, int c) {
        return (x * 37 + y * 91 + c * 53 + ((x * y) % 17) * 11) & 255;
    }

    private static int grayPattern(int x, int y) {
        return (x * 13 + y * 29 + ((x * y) % 7) * 5) & 255;
    }

    private static void writeRgb(Path file, int w, int h) throws IOException {
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                img.setRGB(x, y, (pattern(x, y, 0) << 16) | (pattern(x, y, 1) << 8) | pattern(x, y, 2));
            }
        }
        Files.createDirectories(file.getParent());
        String fmt = file.toString().toLowerCase().endsWith(".jpg") ? "jpg" : "png";
        assertTrue(ImageIO.write(img, fmt, file.toFile()));
    }

    private static void writeGray(Path file, int w, int h) throws IOException {
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_BYTE_GRAY);
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                img.getRaster().setSample(x, y, 0, grayPattern(x, y));
            }
        }
        Files.createDirectories(file.getParent());
        assertTrue(ImageIO.write(img, "png", file.toFile()));
    }

    private static String sha256(byte[] b) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
    }

    private static long sum(byte[] b) {
        long s = 0;
        for (byte v : b) {
            s += v & 0xff;
        }
        return s;
    }

    @Test
    void centreCropMatchesPillowBitForBit() throws Exception {
        // Expected: ADM's center_crop_arr with Pillow 9.4 on the same pattern (SHA-256 of the HxWx3 uint8
        // array, its sum, and two pixels).
        Object[][] cases = {
            {
                70,
                45,
                16,
                "3fa28fd82565ef6a0dfafd2de9c219f1aaaacfbcfdef25db7788350ffe36210e",
                98199L,
                new int[] {159, 126, 88},
                new int[] {132, 140, 139}
            },
            {
                37,
                101,
                8,
                "afe63f2aa13a7df2e0fb31dd0e9b486b8ac83931a909db557a2d8ce606bc67f6",
                24815L,
                new int[] {117, 141, 137},
                new int[] {121, 132, 141}
            },
            {
                10,
                7,
                12,
                "167039960ac20bd1f3fe157745cbf4463cd321e0f07509b442f853518a496ada",
                54599L,
                new int[] {28, 81, 134},
                new int[] {40, 103, 174}
            },
            {
                64,
                64,
                32,
                "2c08b4856a2e9ef48bc85773bfbc498abe570269a5a210a85cc04c0324e78711",
                394836L,
                new int[] {67, 120, 173},
                new int[] {69, 122, 175}
            },
            {
                33,
                33,
                33,
                "2980f4d4b9c5c04d38488ed7002b5877edd8565807729501f3d9ee6b6f8af074",
                418144L,
                new int[] {0, 53, 106},
                new int[] {198, 251, 48}
            },
            {
                300,
                257,
                64,
                "cf206398a28b99610b32c6b4cb660685493c28383cf5c5e6d1947021350c0ac0",
                1580389L,
                new int[] {132, 121, 142},
                new int[] {134, 91, 128}
            },
        };
        for (Object[] c : cases) {
            int w = (int) c[0];
            int h = (int) c[1];
            int size = (int) c[2];
            Path dir = root.resolve("case" + w + "x" + h);
            writeRgb(dir.resolve("only/img.png"), w, h);
            ImageFolderDataset ds = new ImageFolderDataset(dir, size);
            byte[] crop = ds.croppedRgb(0);
            assertEquals(size * size * 3, crop.length);
            int[] p00 = {crop[0] & 0xff, crop[1] & 0xff, crop[2] & 0xff};
            int o = ((size - 1) * size + size / 2) * 3;
            int[] pLast = {crop[o] & 0xff, crop[o + 1] & 0xff, crop[o + 2] & 0xff};
            String what = w + "x" + h + " -> " + size;
            assertArrayEquals((int[]) c[5], p00, what);
            assertArrayEquals((int[]) c[6], pLast, what);
            assertEquals((long) c[4], sum(crop), what);
            assertEquals(c[3], sha256(crop), what);
        }
    }

    @Test
    void greyPngIsReplicatedWithoutColourConversion() throws Exception {
        writeGray(root.resolve("g/img.png"), 50, 40);
        ImageFolderDataset ds = new ImageFolderDataset(root, 20);
        byte[] crop = ds.croppedRgb(0);
        assertEquals("c85a3bcac977b5833058fbe2bcb12fdfa993b0d510baaa76d74a03ae7ffab5e6", sha256(crop));
        assertEquals(154332L, sum(crop));
        // Uncropped read keeps the raw grey levels.
        PilResample.Image raw = ImageFolderDataset.readRgb(ds.files().get(0));
        int o = (7 * 50 + 9) * 3;
        assertEquals(grayPattern(9, 7), raw.pixels()[o] & 0xff);
        assertEquals(grayPattern(9, 7), raw.pixels()[o + 2] & 0xff);
    }

    @Test
    void classesFilesLabelsAndTensorLayout() throws Exception {
        writeRgb(root.resolve("zebra/b.png"), 8, 8);
        writeRgb(root.resolve("zebra/a.PNG"), 8, 8);
        writeRgb(root.resolve("zebra/sub/0.png"), 8, 8);
        writeRgb(root.resolve("ant/x.jpg"), 12, 9);
        Files.writeString(root.resolve("ant/notes.txt"), "ignored");
        writeRgb(root.resolve("bee/q.png"), 4, 6);
        ImageFolderDataset ds = new ImageFolderDataset(root, 4);
        assertEquals(List.of("ant", "bee", "zebra"), ds.classNames());
        assertEquals(5, ds.size());
        List<String> names =
                ds.files().stream().map(p -> root.relativize(p).toString()).toList();
        assertEquals(List.of("ant/x.jpg", "bee/q.png", "zebra/a.PNG", "zebra/b.png", "zebra/sub/0.png"), names);
        assertArrayEquals(
                new int[] {0, 1, 2, 2, 2}, new int[] {ds.label(0), ds.label(1), ds.label(2), ds.label(3), ds.label(4)});
        assertEquals(3, ds.channels());
        // 8x8 -> 4x4 is one exact BOX halving: every output pixel is the rounded mean of a 2x2 block.
        Sample s = ds.get(2);
        assertEquals(2, s.label());
        assertEquals(3 * 4 * 4, s.image().length);
        byte[] crop = ds.croppedRgb(2);
        for (int c = 0; c < 3; c++) {
            for (int y = 0; y < 4; y++) {
                for (int x = 0; x < 4; x++) {
                    int mean = (pattern(2 * x, 2 * y, c)
                                    + pattern(2 * x + 1, 2 * y, c)
                                    + pattern(2 * x, 2 * y + 1, c)
                                    + pattern(2 * x + 1, 2 * y + 1, c)
                                    + 2)
                            / 4;
                    int got = crop[(y * 4 + x) * 3 + c] & 0xff;
                    assertTrue(
                            Math.abs(got - mean) <= 1, "pixel " + x + "," + y + "," + c + ": " + got + " vs " + mean);
                    float expected = (got / 255f - 0.5f) / 0.5f;
                    assertEquals(expected, s.image()[(c * 4 + y) * 4 + x], 0f);
                    assertEquals(expected, ds.get(2, true).image()[(c * 4 + y) * 4 + (3 - x)], 0f);
                }
            }
        }
        // The bee image (4x6) needs no resize: a plain centre crop of rows 1..4.
        byte[] bee = ds.croppedRgb(1);
        assertEquals(pattern(0, 1, 0), bee[0] & 0xff);
        assertEquals(pattern(3, 4, 2), bee[(3 * 4 + 3) * 3 + 2] & 0xff);
        // The JPEG decodes to the right size.
        assertEquals(48, ds.get(0).image().length);
    }

    @Test
    void emptyClassesAndMissingRootAreErrors() throws IOException {
        Files.createDirectories(root.resolve("empty"));
        writeRgb(root.resolve("full/a.png"), 4, 4);
        IOException e = assertThrows(IOException.class, () -> new ImageFolderDataset(root, 4));
        assertTrue(e.getMessage().contains("empty"), e.getMessage());
        assertThrows(IOException.class, () -> new ImageFolderDataset(root.resolve("nope"), 4));
    }
}
