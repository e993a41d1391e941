package ai.tinyfusion.spark;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

/**
 * What an executor keeps between tasks: loaded models and feature networks, by key. A model is not safe to run from
 * two threads at once (a step attaches its arrays to the step's memory scope), so an executor running several tasks
 * at a time holds one instance per concurrently running task, each loaded once and reused by every later task.
 */
final class ExecutorPools {
    private static final Map<String, ConcurrentLinkedDeque<Object>> FREE = new ConcurrentHashMap<>();
    private static final Map<String, AtomicInteger> LOADS = new ConcurrentHashMap<>();

    private ExecutorPools() {}

    /** A free instance for {@code key}, or a new one from {@code load}; hand it back with {@link #release}. */
    static <T> T acquire(String key, Supplier<T> load) {
        Object free =
                FREE.computeIfAbsent(key, k -> new ConcurrentLinkedDeque<>()).pollFirst();
        if (free != null) {
            @SuppressWarnings("unchecked")
            T t = (T) free;
            return t;
        }
        T loaded = load.get();
        LOADS.computeIfAbsent(key, k -> new AtomicInteger()).incrementAndGet();
        return loaded;
    }

    /** Makes {@code instance} available to the next task. */
    static void release(String key, Object instance) {
        FREE.computeIfAbsent(key, k -> new ConcurrentLinkedDeque<>()).addFirst(instance);
    }

    /** How many instances for {@code key} this process has loaded. */
    static int loads(String key) {
        AtomicInteger n = LOADS.get(key);
        return n == null ? 0 : n.get();
    }

    /**
     * Engine settings for a task's process, unless given (spark.executor.extraJavaOptions): DJL never downloads, and
     * libtorch uses {@code cpus} threads per task (spark.task.cpus), so that concurrent tasks do not oversubscribe the
     * executor's cores.
     */
    static void engineDefaults(int cpus) {
        setDefault("ai.djl.offline", "true");
        setDefault("ai.djl.pytorch.num_threads", Integer.toString(Math.max(1, cpus)));
        setDefault("ai.djl.pytorch.num_interop_threads", "1");
    }

    private static void setDefault(String key, String value) {
        if (System.getProperty(key) == null) {
            System.setProperty(key, value);
        }
    }
}
