package ai.tinyfusion.prune;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.geom.Ellipse2D;
import java.awt.geom.Path2D;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import javax.imageio.ImageIO;

/**
 * The decision-dynamics chart of the paper (Fig. 6): x = training iteration, y = layer index; for
 * each kept slot a line through the layer it currently keeps, with dots whose opacity is the
 * confidence of its pattern block rescaled from chance level (1/C) to 1, so undecided stretches fade
 * out and settled ones are solid. Drawn with Java2D (per-point alpha).
 */
public final class DecisionPlot {
    private DecisionPlot() {}

    static {
        System.setProperty("java.awt.headless", "true");
    }

    private static final Color[] PALETTE = {
        new Color(0x1f77b4), new Color(0xd62728), new Color(0x2ca02c), new Color(0x9467bd), new Color(0xff7f0e),
        new Color(0x8c564b), new Color(0xe377c2), new Color(0x17becf), new Color(0x7f7f7f), new Color(0xbcbd22),
        new Color(0x393b79), new Color(0x843c39), new Color(0x637939), new Color(0x7b4173), new Color(0x8c6d31),
        new Color(0x3182bd), new Color(0xe6550d), new Color(0x31a354), new Color(0x756bb1), new Color(0x636363),
    };

    /** Dot opacity for a block with {@code candidates} choices at confidence {@code conf}. */
    static float alpha(double conf, int candidates) {
        if (candidates <= 1) {
            return 1f;
        }
        double base = 1.0 / candidates;
        double a = (conf - base) / (1 - base);
        return (float) Math.max(0.04, Math.min(1.0, a));
    }

    /** Renders the rows of a decision log (see {@link DecisionLog}) for {@code pattern} to a PNG. */
    public static void render(List<DecisionLog.Row> rows, Pattern pattern, String title, Path png) throws IOException {
        if (rows.isEmpty()) {
            throw new IllegalArgumentException("no decision rows to plot");
        }
        int depth = pattern.depth();
        int slots = pattern.keptCount();
        int[] blockOfSlot = new int[slots];
        int s = 0;
        for (Pattern.Block b : pattern.blocks()) {
            for (int i = 0; i < b.n(); i++) {
                blockOfSlot[s++] = b.index();
            }
        }
        int left = 70;
        int right = 30;
        int top = 50;
        int bottom = 60;
        int rowPx = Math.max(12, Math.min(24, 560 / Math.max(depth, 1)));
        int plotH = rowPx * Math.max(depth - 1, 1);
        int width = 1000;
        int height = top + plotH + bottom;
        int plotW = width - left - right;
        long x0 = rows.get(0).step();
        long x1 = rows.get(rows.size() - 1).step();
        double span = Math.max(1, x1 - x0);

        BufferedImage img = new BufferedImage(width, height, BufferedImage.TYPE_INT_ARGB);
        Graphics2D g = img.createGraphics();
        try {
            g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
            g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
            g.setColor(Color.WHITE);
            g.fillRect(0, 0, width, height);
            Font small = new Font(Font.SANS_SERIF, Font.PLAIN, 11);
            Font label = new Font(Font.SANS_SERIF, Font.PLAIN, 13);
            // Grid and y ticks: one per layer.
            g.setFont(small);
            FontMetrics fm = g.getFontMetrics();
            for (int l = 0; l < depth; l++) {
                int y = yOf(l, depth, top, plotH);
                g.setColor(new Color(0, 0, 0, 18));
                g.drawLine(left, y, left + plotW, y);
                g.setColor(Color.DARK_GRAY);
                String t = Integer.toString(l);
                g.drawString(t, left - 8 - fm.stringWidth(t), y + fm.getAscent() / 2 - 1);
            }
            // x ticks.
            long step = niceStep(span / 8);
            for (long v = (x0 + step - 1) / step * step; v <= x1; v += step) {
                int x = left + (int) Math.round((v - x0) / span * plotW);
                g.setColor(new Color(0, 0, 0, 18));
                g.drawLine(x, top, x, top + plotH);
                g.setColor(Color.DARK_GRAY);
                String t = Long.toString(v);
                g.drawString(t, x - fm.stringWidth(t) / 2, top + plotH + 18);
            }
            // Curves.
            for (int slot = 0; slot < slots; slot++) {
                Color c = PALETTE[slot % PALETTE.length];
                int b = blockOfSlot[slot];
                int cands = pattern.blocks().get(b).candidateCount();
                Path2D.Double line = new Path2D.Double();
                for (int r = 0; r < rows.size(); r++) {
                    DecisionLog.Row row = rows.get(r);
                    double x = left + (row.step() - x0) / span * plotW;
                    double y = yOf(row.kept()[slot], depth, top, plotH);
                    if (r == 0) {
                        line.moveTo(x, y);
                    } else {
                        line.lineTo(x, y);
                    }
                }
                g.setStroke(new BasicStroke(1.4f));
                g.setColor(new Color(c.getRed(), c.getGreen(), c.getBlue(), 100));
                g.draw(line);
                for (DecisionLog.Row row : rows) {
                    double x = left + (row.step() - x0) / span * plotW;
                    double y = yOf(row.kept()[slot], depth, top, plotH);
                    int a = Math.round(255 * alpha(row.confidence()[b], cands));
                    g.setColor(new Color(c.getRed(), c.getGreen(), c.getBlue(), a));
                    g.fill(new Ellipse2D.Double(x - 3, y - 3, 6, 6));
                }
            }
            // Labels.
            g.setColor(Color.BLACK);
            g.setFont(label);
            FontMetrics lm = g.getFontMetrics();
            String xl = "Train iterations";
            g.drawString(xl, left + (plotW - lm.stringWidth(xl)) / 2, height - 18);
            g.drawString(title, left + (plotW - lm.stringWidth(title)) / 2, 24);
            Graphics2D r = (Graphics2D) g.create();
            r.rotate(-Math.PI / 2);
            String yl = "Winner layers";
            r.drawString(yl, -(top + (plotH + lm.stringWidth(yl)) / 2), 22);
            r.dispose();
        } finally {
            g.dispose();
        }
        if (png.getParent() != null) {
            Files.createDirectories(png.getParent());
        }
        Path tmp = png.resolveSibling(png.getFileName() + ".tmp");
        if (!ImageIO.write(img, "png", tmp.toFile())) {
            throw new IOException("no PNG writer available");
        }
        Files.move(tmp, png, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    private static int yOf(int layer, int depth, int top, int plotH) {
        return top + plotH - (int) Math.round(depth <= 1 ? 0 : (double) layer / (depth - 1) * plotH);
    }

    private static long niceStep(double raw) {
        if (raw <= 1) {
            return 1;
        }
        double p = Math.pow(10, Math.floor(Math.log10(raw)));
        double f = raw / p;
        double nice = f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10;
        return Math.max(1, (long) (nice * p));
    }
}
