package ai.tinyfusion.util;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.markers.SeriesMarkers;

/** PNG line charts (XChart, headless). */
public final class Plots {
    private Plots() {}

    static {
        System.setProperty("java.awt.headless", "true");
    }

    /**
     * Plots each named series against x, plus a moving average (window {@code smooth}, 0 = none) of
     * each, on a log y axis when {@code logY}.
     */
    public static void lines(
            Path png,
            String title,
            String xLabel,
            String yLabel,
            double[] x,
            Map<String, double[]> series,
            int smooth,
            boolean logY)
            throws IOException {
        XYChart chart = lineChart(title, xLabel, yLabel, logY && spansDecade(series.values()));
        for (Map.Entry<String, double[]> e : series.entrySet()) {
            double[][] clean = finite(x, e.getValue(), logY);
            if (clean[0].length == 0) {
                continue;
            }
            XYSeries s = chart.addSeries(e.getKey(), clean[0], clean[1]);
            s.setMarker(SeriesMarkers.NONE);
            if (smooth > 1 && clean[0].length > smooth) {
                XYSeries a = chart.addSeries(
                        e.getKey() + " (avg " + smooth + ")", clean[0], movingAverage(clean[1], smooth));
                a.setMarker(SeriesMarkers.NONE);
            }
        }
        save(chart, png);
    }

    /**
     * One moving-average line (window {@code smooth}) per named run, each with its own x values: for
     * comparing training curves of runs of different lengths on one chart.
     *
     * @param runs name → {x, y}
     */
    public static void smoothedLines(
            Path png,
            String title,
            String xLabel,
            String yLabel,
            Map<String, double[][]> runs,
            int smooth,
            boolean logY)
            throws IOException {
        List<double[]> ys = new ArrayList<>();
        runs.values().forEach(r -> ys.add(r[1]));
        XYChart chart = lineChart(title, xLabel, yLabel, logY && spansDecade(ys));
        for (Map.Entry<String, double[][]> e : runs.entrySet()) {
            double[][] clean = finite(e.getValue()[0], e.getValue()[1], logY);
            if (clean[0].length == 0) {
                continue;
            }
            double[] y = smooth > 1 ? movingAverage(clean[1], smooth) : clean[1];
            chart.addSeries(e.getKey(), clean[0], y).setMarker(SeriesMarkers.NONE);
        }
        save(chart, png);
    }

    /**
     * A scatter plot with one labelled point per entry (the label is the legend entry). Points with a
     * non-finite coordinate are left out.
     *
     * @param points name → {x, y}
     */
    public static void scatter(Path png, String title, String xLabel, String yLabel, Map<String, double[]> points)
            throws IOException {
        XYChart chart = new XYChartBuilder()
                .width(900)
                .height(560)
                .title(title)
                .xAxisTitle(xLabel)
                .yAxisTitle(yLabel)
                .build();
        chart.getStyler().setDefaultSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Scatter);
        chart.getStyler().setMarkerSize(10);
        chart.getStyler().setXAxisDecimalPattern("0.###");
        for (Map.Entry<String, double[]> e : points.entrySet()) {
            double[] p = e.getValue();
            if (Double.isFinite(p[0]) && Double.isFinite(p[1])) {
                chart.addSeries(e.getKey(), new double[] {p[0]}, new double[] {p[1]});
            }
        }
        if (chart.getSeriesMap().isEmpty()) {
            throw new IllegalArgumentException("scatter '" + title + "': no point has both coordinates");
        }
        save(chart, png);
    }

    /**
     * One line with markers and error bars per named series (e.g. FID ± sd against recovery steps),
     * plus a dashed horizontal line per reference value (e.g. the unpruned teacher).
     *
     * @param series name → {x, y, error} (error may hold zeros)
     * @param references name → y of a horizontal line from step 0 to the last x
     */
    public static void linesWithErrors(
            Path png,
            String title,
            String xLabel,
            String yLabel,
            Map<String, double[][]> series,
            Map<String, Double> references)
            throws IOException {
        XYChart chart = new XYChartBuilder()
                .width(1000)
                .height(600)
                .title(title)
                .xAxisTitle(xLabel)
                .yAxisTitle(yLabel)
                .build();
        chart.getStyler().setXAxisDecimalPattern("#,##0");
        chart.getStyler().setYAxisDecimalPattern("0.##");
        chart.getStyler().setErrorBarsColorSeriesColor(true);
        chart.getStyler().setMarkerSize(7);
        double lo = Double.POSITIVE_INFINITY;
        double hi = Double.NEGATIVE_INFINITY;
        for (Map.Entry<String, double[][]> e : series.entrySet()) {
            double[][] v = e.getValue();
            if (v[0].length == 0) {
                continue;
            }
            chart.addSeries(e.getKey(), v[0], v[1], v[2]);
            for (double x : v[0]) {
                lo = Math.min(lo, x);
                hi = Math.max(hi, x);
            }
        }
        if (chart.getSeriesMap().isEmpty()) {
            throw new IllegalArgumentException("'" + title + "': no series has a point");
        }
        for (Map.Entry<String, Double> r : references.entrySet()) {
            XYSeries line = chart.addSeries(
                    r.getKey(), new double[] {Math.min(0, lo), hi}, new double[] {r.getValue(), r.getValue()});
            line.setMarker(SeriesMarkers.NONE);
            line.setLineStyle(new java.awt.BasicStroke(
                    2f, java.awt.BasicStroke.CAP_BUTT, java.awt.BasicStroke.JOIN_MITER, 10f, new float[] {8f, 6f}, 0f));
        }
        save(chart, png);
    }

    /**
     * A histogram of {@code values} in {@code bins} equal-width bins (drawn as a filled step line), with a
     * vertical line at each named mark.
     *
     * @param marks name → x position (may be empty); the name is the legend entry
     */
    public static void histogram(
            Path png, String title, String xLabel, double[] values, int bins, Map<String, Double> marks)
            throws IOException {
        if (values.length == 0 || bins < 1) {
            throw new IllegalArgumentException("a histogram needs values and at least one bin");
        }
        double lo = Double.POSITIVE_INFINITY;
        double hi = Double.NEGATIVE_INFINITY;
        for (double v : values) {
            if (Double.isFinite(v)) {
                lo = Math.min(lo, v);
                hi = Math.max(hi, v);
            }
        }
        for (double v : marks.values()) {
            if (Double.isFinite(v)) {
                lo = Math.min(lo, v);
                hi = Math.max(hi, v);
            }
        }
        if (!(hi > lo)) { // all equal (or none finite): one unit-wide bin around the value
            lo = Double.isFinite(lo) ? lo - 0.5 : 0;
            hi = lo + 1;
        }
        double width = (hi - lo) / bins;
        int[] counts = new int[bins];
        for (double v : values) {
            if (Double.isFinite(v)) {
                counts[Math.min(bins - 1, (int) ((v - lo) / width))]++;
            }
        }
        double[] x = new double[2 * bins];
        double[] y = new double[2 * bins];
        int max = 1;
        for (int b = 0; b < bins; b++) {
            x[2 * b] = lo + b * width;
            x[2 * b + 1] = lo + (b + 1) * width;
            y[2 * b] = counts[b];
            y[2 * b + 1] = counts[b];
            max = Math.max(max, counts[b]);
        }
        XYChart chart = new XYChartBuilder()
                .width(900)
                .height(500)
                .title(title)
                .xAxisTitle(xLabel)
                .yAxisTitle("count")
                .build();
        chart.getStyler().setYAxisMin(0.0);
        chart.getStyler().setYAxisMax(max * 1.1);
        chart.getStyler().setXAxisDecimalPattern("0.####");
        chart.getStyler().setYAxisDecimalPattern("0");
        XYSeries h = chart.addSeries("masks (" + values.length + ")", x, y);
        h.setXYSeriesRenderStyle(org.knowm.xchart.XYSeries.XYSeriesRenderStyle.Area);
        h.setMarker(SeriesMarkers.NONE);
        for (Map.Entry<String, Double> e : marks.entrySet()) {
            if (!Double.isFinite(e.getValue())) {
                continue;
            }
            XYSeries m = chart.addSeries(
                    e.getKey(), new double[] {e.getValue(), e.getValue()}, new double[] {0, max * 1.05});
            m.setXYSeriesRenderStyle(org.knowm.xchart.XYSeries.XYSeriesRenderStyle.Line);
            m.setMarker(SeriesMarkers.NONE);
        }
        save(chart, png);
    }

    /**
     * An empty line chart. A log y axis is only used when asked for and the data span at least a decade:
     * XChart labels a log axis only at powers of ten, so a narrower range would show no y labels.
     */
    private static XYChart lineChart(String title, String xLabel, String yLabel, boolean logY) {
        XYChart chart = new XYChartBuilder()
                .width(900)
                .height(500)
                .title(title)
                .xAxisTitle(xLabel)
                .yAxisTitle(yLabel)
                .build();
        chart.getStyler().setYAxisLogarithmic(logY);
        chart.getStyler().setMarkerSize(0);
        chart.getStyler().setXAxisTickMarkSpacingHint(120);
        chart.getStyler().setXAxisDecimalPattern("#,##0");
        if (!logY) {
            chart.getStyler().setYAxisDecimalPattern("0.####");
        }
        return chart;
    }

    /** Whether the positive finite values of the series span at least a factor of ten. */
    public static boolean spansDecade(Iterable<double[]> series) {
        double lo = Double.POSITIVE_INFINITY;
        double hi = 0;
        for (double[] ys : series) {
            for (double v : ys) {
                if (Double.isFinite(v) && v > 0) {
                    lo = Math.min(lo, v);
                    hi = Math.max(hi, v);
                }
            }
        }
        return hi >= 10 * lo;
    }

    static void save(XYChart chart, Path png) throws IOException {
        if (png.getParent() != null) {
            Files.createDirectories(png.getParent());
        }
        Path tmp = png.resolveSibling(png.getFileName() + ".tmp.png");
        BitmapEncoder.saveBitmap(chart, tmp.toString(), BitmapEncoder.BitmapFormat.PNG);
        Files.move(tmp, png, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    private static double[][] finite(double[] x, double[] y, boolean positive) {
        List<double[]> pts = new ArrayList<>();
        for (int i = 0; i < Math.min(x.length, y.length); i++) {
            if (Double.isFinite(y[i]) && (!positive || y[i] > 0)) {
                pts.add(new double[] {x[i], y[i]});
            }
        }
        double[][] out = new double[2][pts.size()];
        for (int i = 0; i < pts.size(); i++) {
            out[0][i] = pts.get(i)[0];
            out[1][i] = pts.get(i)[1];
        }
        return out;
    }

    static double[] movingAverage(double[] v, int w) {
        double[] out = new double[v.length];
        double sum = 0;
        for (int i = 0; i < v.length; i++) {
            sum += v[i];
            if (i >= w) {
                sum -= v[i - w];
            }
            out[i] = sum / Math.min(i + 1, w);
        }
        return out;
    }
}
