package ai.tinyfusion.train;

import java.util.Locale;

/** Learning rate as a function of the step: constant, or cosine decay from {@code lr} to {@code lrMin}. */
public record LrSchedule(String kind, double lr, double lrMin, long warmupSteps) {
    public LrSchedule {
        String k = kind.toLowerCase(Locale.ROOT);
        if (!k.equals("constant") && !k.equals("cosine")) {
            throw new IllegalArgumentException("unknown learning-rate schedule '" + kind + "' (constant, cosine)");
        }
        if (!(lr > 0) || lrMin < 0) {
            throw new IllegalArgumentException("learning rate must be > 0 and lr-min >= 0, got " + lr + ", " + lrMin);
        }
        kind = k;
    }

    public static LrSchedule constant(double lr) {
        return new LrSchedule("constant", lr, lr, 0);
    }

    /** The rate for step {@code step} (0-based) of {@code total}. */
    public double at(long step, long total) {
        double base = lr;
        if (kind.equals("cosine") && total > 1) {
            double progress = Math.min(1.0, (double) step / (total - 1));
            base = lrMin + 0.5 * (lr - lrMin) * (1 + Math.cos(Math.PI * progress));
        }
        if (warmupSteps > 0 && step < warmupSteps) {
            base *= (step + 1.0) / warmupSteps;
        }
        return base;
    }
}
