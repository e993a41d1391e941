package ai.tinyfusion.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class MetricsReportTest {

    @Test
    void jsonRoundTripOmitsMissingMetrics() {
        MetricsReport r = new MetricsReport("DiT-D14/2", 50000, 2.865, 4.521, 243.456, 0.8123456, 0.5712, null);
        String json = r.toJson();
        assertTrue(json.contains("\"fid\": 2.865"), json);
        assertFalse(json.contains("classAccuracy"), json);
        assertEquals(r, MetricsReport.fromJson(json));
        MetricsReport nan = new MetricsReport("x", 1, Double.NaN, null, null, null, null, 1.0);
        assertTrue(Double.isNaN(MetricsReport.fromJson(nan.toJson()).fid()));
    }

    @Test
    void tablesAreAligned() {
        MetricsReport a = new MetricsReport("DiT-XL/2", 50000, 2.27, 4.6, 278.24, 0.83, 0.57, null);
        MetricsReport b = new MetricsReport("pruned D14", 1000, 12.3456, null, 9.87654, 0.7, 0.61234, 0.9);
        assertEquals(
                """
                model     | DiT-XL/2
                samples   | 50000
                FID       | 2.27
                sFID      | 4.60
                IS        | 278.24
                Precision | 0.8300
                Recall    | 0.5700
                Accuracy  | -
                """,
                a.toTable());
        assertEquals(
                """
                model       samples    FID  sFID      IS  Precision  Recall  Accuracy
                ---------------------------------------------------------------------
                DiT-XL/2      50000   2.27  4.60  278.24     0.8300  0.5700         -
                pruned D14     1000  12.35     -    9.88     0.7000  0.6123    0.9000
                """,
                MetricsReport.table(List.of(a, b)));
    }

    @Test
    void fidSpreadIsShownAndRoundTrips() {
        MetricsReport r = new MetricsReport("m", 1000, 277.8012, 175.1, 4.5, 0.5, 0.07, 0.512, 2.345);
        assertEquals("277.80 ± 2.35", r.fidText());
        assertEquals(2.345, MetricsReport.fromJson(r.toJson()).fidStd());
        assertTrue(r.toTable().contains("FID       | 277.80 ± 2.35"), r.toTable());
        MetricsReport old = MetricsReport.fromJson("{\"model\": \"m\", \"numSamples\": 5, \"fid\": 3.0}");
        assertEquals(null, old.fidStd());
        assertEquals("3.00", old.fidText());
    }
}
