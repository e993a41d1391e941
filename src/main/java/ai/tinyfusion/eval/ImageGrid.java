package ai.tinyfusion.eval;

import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import javax.imageio.ImageIO;

/** Writes uint8 NHWC images as a PNG grid, optionally with a caption under each tile. */
public final class ImageGrid {
    private ImageGrid() {}

    /**
     * Writes {@code n} images as a PNG of {@code columns} tiles per row, atomically.
     *
     * @param nhwc N·H·W·C bytes (C = 1 grey or 3 RGB)
     * @param captions one caption per image, or null
     * @param columns tiles per row
     * @param scale integer upscaling of each tile (nearest neighbour)
     */
    public static void write(
            Path png, byte[] nhwc, int n, int h, int w, int c, List<String> captions, int columns, int scale)
            throws IOException {
        if (c != 1 && c != 3) {
            throw new IllegalArgumentException("image grid needs 1 or 3 channels, got " + c);
        }
        if ((long) n * h * w * c != nhwc.length) {
            throw new IllegalArgumentException(
                    "image bytes " + nhwc.length + " do not match " + n + "x" + h + "x" + w + "x" + c);
        }
        int cols = Math.max(1, Math.min(columns, n));
        int rows = (n + cols - 1) / cols;
        int pad = 2;
        int captionH = captions == null ? 0 : 14;
        int tw = w * scale + pad;
        int th = h * scale + pad + captionH;
        BufferedImage img = new BufferedImage(cols * tw + pad, rows * th + pad, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, img.getWidth(), img.getHeight());
        g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 10));
        for (int i = 0; i < n; i++) {
            int x0 = pad + (i % cols) * tw;
            int y0 = pad + (i / cols) * th;
            for (int y = 0; y < h * scale; y++) {
                for (int x = 0; x < w * scale; x++) {
                    int base = ((i * h + y / scale) * w + x / scale) * c;
                    int r = nhwc[base] & 0xff;
                    int gg = c == 3 ? nhwc[base + 1] & 0xff : r;
                    int b = c == 3 ? nhwc[base + 2] & 0xff : r;
                    img.setRGB(x0 + x, y0 + y, (r << 16) | (gg << 8) | b);
                }
            }
            if (captions != null) {
                g.setColor(Color.DARK_GRAY);
                String cap = captions.get(i);
                int maxChars = Math.max(3, tw / 6);
                g.drawString(cap.length() > maxChars ? cap.substring(0, maxChars) : cap, x0, y0 + h * scale + 11);
            }
        }
        g.dispose();
        save(img, png);
    }

    /** Writes image {@code index} of uint8 NHWC images (C = 1 grey or 3 RGB) as a PNG of its own, atomically. */
    public static void writeOne(Path png, byte[] nhwc, int index, int h, int w, int c) throws IOException {
        if (c != 1 && c != 3) {
            throw new IllegalArgumentException("a PNG needs 1 or 3 channels, got " + c);
        }
        BufferedImage img =
                new BufferedImage(w, h, c == 3 ? BufferedImage.TYPE_3BYTE_BGR : BufferedImage.TYPE_BYTE_GRAY);
        int base = index * h * w * c;
        int[] px = new int[c];
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                for (int k = 0; k < c; k++) {
                    px[k] = nhwc[base + (y * w + x) * c + k] & 0xff;
                }
                img.getRaster().setPixel(x, y, px);
            }
        }
        save(img, png);
    }

    private static void save(BufferedImage img, Path png) throws IOException {
        if (png.getParent() != null) {
            Files.createDirectories(png.getParent());
        }
        Path tmp = png.resolveSibling(png.getFileName() + ".tmp");
        ImageIO.write(img, "png", tmp.toFile());
        Files.move(tmp, png, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }
}
