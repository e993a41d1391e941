package ai.tinyfusion.train;

import java.util.Locale;

/**
 * Learning rate as a function of the step: constant, or cosine decay from {@code lr} to {@code lrMin}
 * over {@code decaySteps} steps (0: over the whole run), then {@code lrMin}. A fixed horizon makes a run
 * that is later extended (resumed with more steps) continue at {@code lrMin} instead of re-shaping the
 * schedule it has already followed.
 */
public record LrSchedule(String kind, double lr, double lrMin, long warmupSteps, long decaySteps) {
    public LrSchedule(String kind, double lr, double lrMin, long warmupSteps) {
        this(kind, lr, lrMin, warmupSteps, 0);
    }

    public LrSchedule {
        if (decaySteps < 0) {
            throw new IllegalArgumentException(
                    "the cosine horizon must be >= 0 steps (0 = the whole run), got " + decaySteps);
        }
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
        long horizon = decaySteps > 0 ? decaySteps : total;
        if (kind.equals("cosine") && horizon > 1) {
            double progress = Math.min(1.0, (double) step / (horizon - 1));
            base = lrMin + 0.5 * (lr - lrMin) * (1 + Math.cos(Math.PI * progress));
        }
        if (warmupSteps > 0 && step < warmupSteps) {
            base *= (step + 1.0) / warmupSteps;
        }
        return base;
    }
}
