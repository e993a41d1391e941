package ai.tinyfusion.nn;

import ai.djl.engine.Engine;
import ai.djl.pytorch.jni.JniUtils;

/**
 * A region in which libtorch records no autograd graph, as PyTorch's {@code torch.no_grad()}, even
 * inside an open {@code GradientCollector} (which switches grad mode on for its lifetime): used for
 * a frozen teacher's forward pass during distillation. Restores the previous mode on close.
 *
 * <pre>{@code try (NoGrad ignored = NoGrad.enter()) { teacher.forward(...); } }</pre>
 */
public final class NoGrad implements AutoCloseable {
    private final boolean previous;

    private NoGrad(boolean previous) {
        this.previous = previous;
    }

    public static NoGrad enter() {
        Engine.getInstance(); // libtorch loaded
        boolean before = JniUtils.isGradMode();
        JniUtils.setGradMode(false);
        return new NoGrad(before);
    }

    @Override
    public void close() {
        JniUtils.setGradMode(previous);
    }
}
