package ai.tinyfusion.eval;

import ai.djl.engine.Engine;
import ai.djl.pytorch.jni.JniUtils;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Runs a test class with one libtorch intra-op thread and restores the previous count afterwards.
 *
 * <p>On the project's 2-core machines a 2-thread OpenMP team that shares the cores with another
 * libtorch process (a training run) waits at every parallel region's barrier for a descheduled
 * thread: a FeatureNet training step of 32 images measured 0.1–0.9 s with two threads and a steady
 * 0.07 s with one. The feature-network tests are small enough that one thread is never slower.
 */
final class SingleThreadedTorch implements BeforeAllCallback, AfterAllCallback {
    private static final ExtensionContext.Namespace NS = ExtensionContext.Namespace.create(SingleThreadedTorch.class);

    @Override
    public void beforeAll(ExtensionContext context) {
        Engine.getInstance(); // loads libtorch
        context.getStore(NS).put("threads", JniUtils.getNumThreads());
        JniUtils.setNumThreads(1);
    }

    @Override
    public void afterAll(ExtensionContext context) {
        Integer previous = context.getStore(NS).get("threads", Integer.class);
        if (previous != null) {
            JniUtils.setNumThreads(previous);
        }
    }
}
