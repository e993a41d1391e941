package ai.tinyfusion;

import ai.djl.engine.Engine;
import ai.djl.pytorch.jni.JniUtils;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Runs a test class with one intra-op libtorch thread, restoring the previous count afterwards
 * ({@code @ExtendWith(OneThread.class)}).
 *
 * <p>On the project's 2-core machines a 2-thread OpenMP team that shares the cores with another
 * libtorch process (a background training run) waits at every parallel region's barrier for a
 * descheduled thread. Measured: a FeatureNet training step of 32 images took 0.1–0.9 s with two
 * threads and a steady 0.07 s with one; 10 tiny pruning steps 5.7 s with two threads, 0.54 s with
 * one. The tests that use this are small enough that one thread is never slower.
 */
public final class OneThread implements BeforeAllCallback, AfterAllCallback {
    private static final ExtensionContext.Namespace NS = ExtensionContext.Namespace.create(OneThread.class);

    @Override
    public void beforeAll(ExtensionContext context) {
        Engine.getInstance(); // loads libtorch
        context.getStore(NS).put("threads", JniUtils.getNumThreads());
        JniUtils.setNumThreads(1);
    }

    @Override
    public void afterAll(ExtensionContext context) {
        Integer before = context.getStore(NS).get("threads", Integer.class);
        if (before != null) {
            JniUtils.setNumThreads(before);
        }
    }
}
