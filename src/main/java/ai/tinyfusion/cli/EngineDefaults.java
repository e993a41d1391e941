package ai.tinyfusion.cli;

/** Process-wide settings applied before the engine loads. */
final class EngineDefaults {
    private EngineDefaults() {}

    static void configure() {
        // Never download anything: the native libtorch comes from the jar on the classpath.
        setDefault("ai.djl.offline", "true");
        int cores = Runtime.getRuntime().availableProcessors();
        setDefault("ai.djl.pytorch.num_threads", Integer.toString(cores));
        setDefault("ai.djl.pytorch.num_interop_threads", "1");
        setDefault("org.slf4j.simpleLogger.defaultLogLevel", "info");
        setDefault("org.slf4j.simpleLogger.log.ai.djl", "warn");
        setDefault("org.slf4j.simpleLogger.showThreadName", "false");
        setDefault("org.slf4j.simpleLogger.showDateTime", "true");
        setDefault("org.slf4j.simpleLogger.dateTimeFormat", "HH:mm:ss");
    }

    private static void setDefault(String key, String value) {
        if (System.getProperty(key) == null) {
            System.setProperty(key, value);
        }
    }
}
