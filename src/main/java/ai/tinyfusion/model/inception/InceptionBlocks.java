package ai.tinyfusion.model.inception;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.norm.BatchNorm;
import ai.djl.nn.pooling.Pool;
import ai.tinyfusion.nn.Module;
import ai.tinyfusion.nn.Parameter;

/**
 * The building blocks of the FID Inception-v3 as pytorch-fid assembles it
 * ({@code mseitzer/pytorch-fid:src/pytorch_fid/inception.py}): torchvision's {@code BasicConv2d},
 * {@code InceptionB} and {@code InceptionD} unchanged, and its {@code InceptionA}, {@code InceptionC}
 * and {@code InceptionE} with the FID patches (the pool branch averages without counting the zero
 * padding, as TensorFlow does; the last E block max-pools instead). Parameter names and their order
 * are torchvision's, so state-dict keys are those of {@code pt_inception-2015-12-05-6726825d.pth}.
 * All parameters are frozen: this network only extracts features. Shapes are for a 299×299 input.
 */
public final class InceptionBlocks {
    private InceptionBlocks() {}

    /** TensorFlow's batch-norm epsilon, which torchvision's Inception keeps. */
    public static final float BN_EPS = 1e-3f;

    /** A bias-free convolution: {@code weight} (out, in, kh, kw); stride on both axes, padding (ph, pw). */
    public static final class Conv extends Module {
        private final Parameter weight;
        private final Shape stride;
        private final Shape padding;

        Conv(NDManager m, int in, int out, int kh, int kw, int stride, int ph, int pw) {
            super(m);
            this.weight = param("weight", m.zeros(new Shape(out, in, kh, kw), DataType.FLOAT32), false);
            this.stride = new Shape(stride, stride);
            this.padding = new Shape(ph, pw);
        }

        NDArray forward(NDArray x) {
            return ai.djl.nn.convolutional.Conv2d.conv2d(x, weight.value(), null, stride, padding, new Shape(1, 1), 1)
                    .singletonOrThrow();
        }
    }

    /** BatchNorm2d in eval mode: (x − running_mean) / √(running_var + 0.001) · weight + bias. */
    public static final class BatchNorm2d extends Module {
        private final Parameter weight;
        private final Parameter bias;
        private final Parameter runningMean;
        private final Parameter runningVar;

        BatchNorm2d(NDManager m, int channels) {
            super(m);
            weight = param("weight", m.ones(new Shape(channels), DataType.FLOAT32), false);
            bias = param("bias", m.zeros(new Shape(channels), DataType.FLOAT32), false);
            runningMean = param("running_mean", m.zeros(new Shape(channels), DataType.FLOAT32), false);
            runningVar = param("running_var", m.ones(new Shape(channels), DataType.FLOAT32), false);
        }

        NDArray forward(NDArray x) {
            return BatchNorm.batchNorm(
                            x,
                            runningMean.value(),
                            runningVar.value(),
                            weight.value(),
                            bias.value(),
                            1,
                            0.1f,
                            BN_EPS,
                            false)
                    .singletonOrThrow();
        }
    }

    /** conv (no bias) → BN → ReLU; keys {@code conv.weight}, {@code bn.{weight,bias,running_mean,running_var}}. */
    public static final class BasicConv2d extends Module {
        private final Conv conv;
        private final BatchNorm2d bn;

        /** A square kernel. */
        BasicConv2d(NDManager m, int in, int out, int k, int stride, int padding) {
            this(m, in, out, k, k, stride, padding, padding);
        }

        /** A kh×kw kernel (the factorised 1×7 / 7×1 and 1×3 / 3×1 ones), stride 1. */
        BasicConv2d(NDManager m, int in, int out, int kh, int kw, int ph, int pw) {
            this(m, in, out, kh, kw, 1, ph, pw);
        }

        private BasicConv2d(NDManager m, int in, int out, int kh, int kw, int stride, int ph, int pw) {
            super(m);
            conv = child("conv", new Conv(m, in, out, kh, kw, stride, ph, pw));
            bn = child("bn", new BatchNorm2d(m, out));
        }

        public NDArray forward(NDArray x) {
            return Activation.relu(bn.forward(conv.forward(x)));
        }
    }

    private static BasicConv2d conv1x1(NDManager m, int in, int out) {
        return new BasicConv2d(m, in, out, 1, 1, 0);
    }

    /** 1×7 then 7×1 (or 1×3, 3×1 with k = 3) factorised kernels, "same" padding. */
    private static BasicConv2d conv1xk(NDManager m, int in, int out, int k) {
        return new BasicConv2d(m, in, out, 1, k, 0, k / 2);
    }

    private static BasicConv2d convkx1(NDManager m, int in, int out, int k) {
        return new BasicConv2d(m, in, out, k, 1, k / 2, 0);
    }

    /**
     * 3×3 average pool, stride 1, padding 1, the padded zeros not counted (TensorFlow's behaviour,
     * {@code count_include_pad=False}). DJL 0.36's PyTorch engine ignores the {@code countIncludePad}
     * flag of {@code Pool.avgPool2d} and always counts the padding (measured: a 4×4 map of ones
     * averages to 4/9 in the corners either way), so the padded average is divided by the padded
     * average of ones, i.e. by the fraction of each window inside the image.
     */
    static NDArray avgPool3ExcludePad(NDArray x) {
        Shape s = x.getShape();
        try (NDArray ones = x.getManager().ones(new Shape(1, 1, s.get(2), s.get(3)), x.getDataType());
                NDArray inside = avgPool3(ones)) { // (1, 1, H, W)
            return avgPool3(x).div(inside);
        }
    }

    private static NDArray avgPool3(NDArray x) {
        return Pool.avgPool2d(x, new Shape(3, 3), new Shape(1, 1), new Shape(1, 1), false, true);
    }

    static NDArray maxPool3(NDArray x, int stride, int padding) {
        return Pool.maxPool2d(x, new Shape(3, 3), new Shape(stride, stride), new Shape(padding, padding), false);
    }

    /** Concatenation along channels. */
    static NDArray cat(NDArray... parts) {
        return NDArrays.concat(new NDList(parts), 1);
    }

    /** The convolutions applied one after the other. */
    private static NDArray chain(BasicConv2d[] convs, NDArray x) {
        NDArray h = x;
        for (BasicConv2d c : convs) {
            h = c.forward(h);
        }
        return h;
    }

    /** A block whose output is the channel concatenation of its branches. */
    public abstract static class Mixed extends Module {
        Mixed(NDManager m) {
            super(m);
        }

        /** The branch outputs in concatenation order; the first is always the 1×1 (or 3×3) conv branch. */
        public abstract NDList branches(NDArray x);

        public NDArray forward(NDArray x) {
            return NDArrays.concat(branches(x), 1);
        }
    }

    /** FIDInceptionA (Mixed_5b/5c/5d): 35×35, in → 64 + 64 + 96 + poolFeatures channels. */
    public static final class InceptionA extends Mixed {
        private final BasicConv2d branch1x1;
        private final BasicConv2d[] branch5x5 = new BasicConv2d[2];
        private final BasicConv2d[] branch3x3dbl = new BasicConv2d[3];
        private final BasicConv2d branchPool;

        InceptionA(NDManager m, int in, int poolFeatures) {
            super(m);
            branch1x1 = child("branch1x1", conv1x1(m, in, 64));
            branch5x5[0] = child("branch5x5_1", conv1x1(m, in, 48));
            branch5x5[1] = child("branch5x5_2", new BasicConv2d(m, 48, 64, 5, 1, 2));
            branch3x3dbl[0] = child("branch3x3dbl_1", conv1x1(m, in, 64));
            branch3x3dbl[1] = child("branch3x3dbl_2", new BasicConv2d(m, 64, 96, 3, 1, 1));
            branch3x3dbl[2] = child("branch3x3dbl_3", new BasicConv2d(m, 96, 96, 3, 1, 1));
            branchPool = child("branch_pool", conv1x1(m, in, poolFeatures));
        }

        @Override
        public NDList branches(NDArray x) {
            return new NDList(
                    branch1x1.forward(x),
                    chain(branch5x5, x),
                    chain(branch3x3dbl, x),
                    branchPool.forward(avgPool3ExcludePad(x)));
        }
    }

    /** InceptionB (Mixed_6a): 35×35×288 → 17×17×768 (384 + 96 + 288), stride-2 reduction. */
    public static final class InceptionB extends Mixed {
        private final BasicConv2d branch3x3;
        private final BasicConv2d[] branch3x3dbl = new BasicConv2d[3];

        InceptionB(NDManager m, int in) {
            super(m);
            branch3x3 = child("branch3x3", new BasicConv2d(m, in, 384, 3, 2, 0));
            branch3x3dbl[0] = child("branch3x3dbl_1", conv1x1(m, in, 64));
            branch3x3dbl[1] = child("branch3x3dbl_2", new BasicConv2d(m, 64, 96, 3, 1, 1));
            branch3x3dbl[2] = child("branch3x3dbl_3", new BasicConv2d(m, 96, 96, 3, 2, 0));
        }

        @Override
        public NDList branches(NDArray x) {
            return new NDList(branch3x3.forward(x), chain(branch3x3dbl, x), maxPool3(x, 2, 0));
        }
    }

    /** FIDInceptionC (Mixed_6b..6e): 17×17×768 → 768 (192 each), factorised 7×7 with c7 channels. */
    public static final class InceptionC extends Mixed {
        private final BasicConv2d branch1x1;
        private final BasicConv2d[] branch7x7 = new BasicConv2d[3];
        private final BasicConv2d[] branch7x7dbl = new BasicConv2d[5];
        private final BasicConv2d branchPool;

        InceptionC(NDManager m, int in, int c7) {
            super(m);
            branch1x1 = child("branch1x1", conv1x1(m, in, 192));
            branch7x7[0] = child("branch7x7_1", conv1x1(m, in, c7));
            branch7x7[1] = child("branch7x7_2", conv1xk(m, c7, c7, 7));
            branch7x7[2] = child("branch7x7_3", convkx1(m, c7, 192, 7));
            branch7x7dbl[0] = child("branch7x7dbl_1", conv1x1(m, in, c7));
            branch7x7dbl[1] = child("branch7x7dbl_2", convkx1(m, c7, c7, 7));
            branch7x7dbl[2] = child("branch7x7dbl_3", conv1xk(m, c7, c7, 7));
            branch7x7dbl[3] = child("branch7x7dbl_4", convkx1(m, c7, c7, 7));
            branch7x7dbl[4] = child("branch7x7dbl_5", conv1xk(m, c7, 192, 7));
            branchPool = child("branch_pool", conv1x1(m, in, 192));
        }

        @Override
        public NDList branches(NDArray x) {
            return new NDList(
                    branch1x1.forward(x),
                    chain(branch7x7, x),
                    chain(branch7x7dbl, x),
                    branchPool.forward(avgPool3ExcludePad(x)));
        }
    }

    /** InceptionD (Mixed_7a): 17×17×768 → 8×8×1280 (320 + 192 + 768), stride-2 reduction. */
    public static final class InceptionD extends Mixed {
        private final BasicConv2d[] branch3x3 = new BasicConv2d[2];
        private final BasicConv2d[] branch7x7x3 = new BasicConv2d[4];

        InceptionD(NDManager m, int in) {
            super(m);
            branch3x3[0] = child("branch3x3_1", conv1x1(m, in, 192));
            branch3x3[1] = child("branch3x3_2", new BasicConv2d(m, 192, 320, 3, 2, 0));
            branch7x7x3[0] = child("branch7x7x3_1", conv1x1(m, in, 192));
            branch7x7x3[1] = child("branch7x7x3_2", conv1xk(m, 192, 192, 7));
            branch7x7x3[2] = child("branch7x7x3_3", convkx1(m, 192, 192, 7));
            branch7x7x3[3] = child("branch7x7x3_4", new BasicConv2d(m, 192, 192, 3, 2, 0));
        }

        @Override
        public NDList branches(NDArray x) {
            return new NDList(chain(branch3x3, x), chain(branch7x7x3, x), maxPool3(x, 2, 0));
        }
    }

    /**
     * FIDInceptionE_1 (Mixed_7b, average pool without padding) or FIDInceptionE_2 (Mixed_7c, max
     * pool): 8×8 → 2048 channels (320 + 2·384 + 2·384 + 192).
     */
    public static final class InceptionE extends Mixed {
        private final BasicConv2d branch1x1;
        private final BasicConv2d branch3x3n1;
        private final BasicConv2d branch3x3n2a;
        private final BasicConv2d branch3x3n2b;
        private final BasicConv2d branch3x3dbl1;
        private final BasicConv2d branch3x3dbl2;
        private final BasicConv2d branch3x3dbl3a;
        private final BasicConv2d branch3x3dbl3b;
        private final BasicConv2d branchPool;
        private final boolean maxPoolBranch;

        InceptionE(NDManager m, int in, boolean maxPoolBranch) {
            super(m);
            this.maxPoolBranch = maxPoolBranch;
            branch1x1 = child("branch1x1", conv1x1(m, in, 320));
            branch3x3n1 = child("branch3x3_1", conv1x1(m, in, 384));
            branch3x3n2a = child("branch3x3_2a", conv1xk(m, 384, 384, 3));
            branch3x3n2b = child("branch3x3_2b", convkx1(m, 384, 384, 3));
            branch3x3dbl1 = child("branch3x3dbl_1", conv1x1(m, in, 448));
            branch3x3dbl2 = child("branch3x3dbl_2", new BasicConv2d(m, 448, 384, 3, 1, 1));
            branch3x3dbl3a = child("branch3x3dbl_3a", conv1xk(m, 384, 384, 3));
            branch3x3dbl3b = child("branch3x3dbl_3b", convkx1(m, 384, 384, 3));
            branchPool = child("branch_pool", conv1x1(m, in, 192));
        }

        @Override
        public NDList branches(NDArray x) {
            NDArray t = branch3x3n1.forward(x);
            NDArray b3 = cat(branch3x3n2a.forward(t), branch3x3n2b.forward(t));
            NDArray d = branch3x3dbl2.forward(branch3x3dbl1.forward(x));
            NDArray b3dbl = cat(branch3x3dbl3a.forward(d), branch3x3dbl3b.forward(d));
            NDArray pooled = maxPoolBranch ? maxPool3(x, 1, 1) : avgPool3ExcludePad(x);
            return new NDList(branch1x1.forward(x), b3, b3dbl, branchPool.forward(pooled));
        }
    }
}
