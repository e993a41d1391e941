package ai.tinyfusion.eval;

import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.markers.SeriesMarkers;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

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
    public static void lines(Path png, String title, String xLabel, String yLabel, double[] x,
            Map<String, double[]> series, int smooth, boolean logY) throws IOException {
        XYChart chart = new XYChartBuilder().width(900).height(500).title(title).xAxisTitle(xLabel).yAxisTitle(yLabel).build();
        chart.getStyler().setYAxisLogarithmic(logY);
        chart.getStyler().setMarkerSize(0);
        for (Map.Entry<String, double[]> e : series.entrySet()) {
            double[][] clean = finite(x, e.getValue(), logY);
            if (clean[0].length == 0) {
                continue;
            }
            XYSeries s = chart.addSeries(e.getKey(), clean[0], clean[1]);
            s.setMarker(SeriesMarkers.NONE);
            if (smooth > 1 && clean[0].length > smooth) {
                XYSeries a = chart.addSeries(e.getKey() + " (avg " + smooth + ")", clean[0], movingAverage(clean[1], smooth));
                a.setMarker(SeriesMarkers.NONE);
            }
        }
        save(chart, png);
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
