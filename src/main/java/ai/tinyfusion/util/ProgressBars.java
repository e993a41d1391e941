package ai.tinyfusion.util;

import me.tongfei.progressbar.DelegatingProgressBarConsumer;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/**
 * Progress bars for long work, one style everywhere. On a terminal the bar redraws in place every
 * second. When stderr goes to a file or a pipe (a script's log), a redrawn bar would write a line per
 * second glued together with carriage returns, so the bar is instead printed as a plain line every
 * 30 seconds. Disabled bars print nothing.
 */
public final class ProgressBars {
    /** Redraw interval on a terminal. */
    static final int TERMINAL_MILLIS = 1000;
    /** Line interval when the output is not a terminal. */
    static final int LOG_MILLIS = 30_000;

    private ProgressBars() {}

    /** A builder for a bar named {@code task} over {@code max} units; the caller may add options and builds it. */
    public static ProgressBarBuilder builder(String task, long max, boolean enabled) {
        return builder(task, max, enabled, System.console() != null);
    }

    static ProgressBarBuilder builder(String task, long max, boolean enabled, boolean terminal) {
        ProgressBarBuilder b = new ProgressBarBuilder()
                .setTaskName(task)
                .setInitialMax(max)
                .setStyle(ProgressBarStyle.ASCII)
                .showSpeed();
        if (!enabled) {
            return b.setConsumer(new DelegatingProgressBarConsumer(line -> {}));
        }
        if (terminal) {
            return b.setUpdateIntervalMillis(TERMINAL_MILLIS);
        }
        return b.setUpdateIntervalMillis(LOG_MILLIS)
                .setConsumer(new DelegatingProgressBarConsumer(System.err::println));
    }
}
