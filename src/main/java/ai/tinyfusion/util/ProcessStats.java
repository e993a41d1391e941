package ai.tinyfusion.util;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Memory of this process as Linux reports it in {@code /proc/self/status}. */
public final class ProcessStats {
    private ProcessStats() {}

    /** Peak resident set size of this process in bytes (VmHWM), or -1 where /proc is absent. */
    public static long peakRssBytes() {
        return procStatus("VmHWM:");
    }

    /** Current resident set size in bytes (VmRSS), or -1. */
    public static long rssBytes() {
        return procStatus("VmRSS:");
    }

    private static long procStatus(String field) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith(field)) {
                    return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
                }
            }
        } catch (IOException | NumberFormatException e) {
            return -1;
        }
        return -1;
    }
}
