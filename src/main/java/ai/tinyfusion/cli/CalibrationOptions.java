package ai.tinyfusion.cli;

import ai.tinyfusion.data.Dataset;
import ai.tinyfusion.diffusion.Objective;
import ai.tinyfusion.prune.CalibrationSet;
import picocli.CommandLine.Option;

/** The calibration set of the score-based pruning methods and the calibration-loss study. */
public final class CalibrationOptions {
    @Option(
            names = "--calib-samples",
            description =
                    "Calibration images, drawn without replacement from --data (default: 1024 for prune, 128 for study).")
    Integer samples;

    @Option(names = "--calib-batch", defaultValue = "128", description = "Calibration batch size (${DEFAULT-VALUE}).")
    int batch;

    @Option(
            names = "--calib-seed",
            defaultValue = "0",
            description = "Seed of the calibration images, their timesteps and noise (${DEFAULT-VALUE}).")
    long seed;

    /**
     * Draws the set from {@code dataset}, with {@code defaultSamples} unless --calib-samples was given; its losses are
     * {@code objective}'s.
     */
    CalibrationSet draw(Dataset dataset, String dataName, int defaultSamples, Objective objective) {
        CalibrationSet cal = CalibrationSet.draw(
                dataset, samples == null ? defaultSamples : samples, batch, seed, dataName, objective);
        System.out.printf(
                java.util.Locale.ROOT,
                "calibration: %d images of %s in batches of %d, seed %d, losses of %s%n",
                cal.size(),
                dataName,
                cal.batchSize(),
                cal.seed(),
                objective.summary());
        return cal;
    }
}
