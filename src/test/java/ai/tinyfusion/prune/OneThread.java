package ai.tinyfusion.prune;

import ai.djl.engine.Engine;
import ai.djl.pytorch.jni.JniUtils;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Runs a test class with one intra-op libtorch thread, restoring the previous count afterwards.
 * The pruning tests use tiny models whose ops take microseconds: a second thread only adds
 * synchronisation, and when another job keeps the two cores busy (a background training run),
 * OpenMP's spin-waiting made each step about ten times slower (measured: 10 tiny steps 5.7 s with
 * two threads, 0.54 s with one).
 */
public final class OneThread implements BeforeAllCallback, AfterAllCallback {
    private static final ExtensionContext.Namespace NS = ExtensionContext.Namespace.create(OneThread.class);

    @Override
    public void beforeAll(ExtensionContext context) {
        Engine.getInstance(); // load libtorch
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
