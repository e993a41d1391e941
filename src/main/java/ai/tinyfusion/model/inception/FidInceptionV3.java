package ai.tinyfusion.model.inception;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.pooling.Pool;
import ai.tinyfusion.data.Resizer;
import ai.tinyfusion.io.HostTensor;
import ai.tinyfusion.io.StateDicts;
import ai.tinyfusion.model.inception.InceptionBlocks.BasicConv2d;
import ai.tinyfusion.model.inception.InceptionBlocks.InceptionA;
import ai.tinyfusion.model.inception.InceptionBlocks.InceptionB;
import ai.tinyfusion.model.inception.InceptionBlocks.InceptionC;
import ai.tinyfusion.model.inception.InceptionBlocks.InceptionD;
import ai.tinyfusion.model.inception.InceptionBlocks.InceptionE;
import ai.tinyfusion.model.inception.InceptionBlocks.Mixed;
import ai.tinyfusion.nn.Linear;
import ai.tinyfusion.nn.LoadReport;
import ai.tinyfusion.nn.Module;
import ai.tinyfusion.nn.NoGrad;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Function;

/**
 * The Inception-v3 that FID is computed with: TensorFlow's 2015-12-05 ImageNet graph as pytorch-fid
 * ports it ({@code mseitzer/pytorch-fid:src/pytorch_fid/inception.py}, {@code fid_inception_v3} and
 * {@code InceptionV3} with the default block 3), loading its weights file
 * {@code pt_inception-2015-12-05-6726825d.pth} (or the same state dict as safetensors) with the
 * project's pickle-free loaders. One forward pass gives the FID pool features, the ADM evaluator's
 * sFID spatial features and the Inception-Score logits ({@link InceptionFeatures}).
 *
 * <p>Preprocessing is pytorch-fid's: images in [0, 1] (uint8 images are divided by 255 first, as
 * {@code ToTensor} does), bilinear resize to 299×299 without corner alignment or antialiasing
 * ({@code F.interpolate(mode="bilinear", align_corners=False)}), then {@code 2x − 1}. The ADM
 * evaluator feeds the same weights through TensorFlow, which resizes differently (TF1 bilinear,
 * no half-pixel offset) and normalises with (x − 128)/128, so its numbers differ slightly on
 * images that are not 299×299; this class follows pytorch-fid.
 *
 * <p>sFID tensor: the ADM evaluator ({@code openai/guided-diffusion:evaluations/evaluator.py}) reads
 * {@code mixed_6/conv:0} and keeps channels 0..6. In the TF graph the Inception blocks are named
 * {@code mixed, mixed_1, …, mixed_10} = Mixed_5b … Mixed_7c, and torch-fidelity's weight converter
 * ({@code toshas/torch-fidelity:utils/util_convert_inception_weights.py}) maps
 * {@code mixed_6/conv/{conv2d_params,batchnorm}} to {@code Mixed_6d.branch1x1.{conv,bn}}. The op
 * named by the scope itself ({@code mixed_6/conv}, beside its children {@code …/conv2d_params},
 * {@code …/Conv2D}, {@code …/batchnorm}) is the layer's ReLU, as for the stem layers {@code conv},
 * {@code conv_1}, … whose {@code :0} outputs are the layer activations; so the spatial features are
 * Mixed_6d.branch1x1 after BN and ReLU, i.e. the first 7 channels of Mixed_6d's output.
 *
 * <p>Tensor shapes in comments are for one batch of N images at 299×299, NCHW.
 */
public final class FidInceptionV3 extends Module {
    /** The side the images are resized to. */
    public static final int INPUT_SIZE = 299;

    private final BasicConv2d conv1a;
    private final BasicConv2d conv2a;
    private final BasicConv2d conv2b;
    private final BasicConv2d conv3b;
    private final BasicConv2d conv4a;
    private final Mixed[] mixed5;
    private final Mixed mixed6a;
    private final Mixed mixed6b;
    private final Mixed mixed6c;
    private final InceptionC mixed6d;
    private final Mixed mixed6e;
    private final Mixed[] mixed7;
    private final Linear fc;

    /** The network with zero convolutions and identity batch norms; load weights with {@link #load}. */
    public FidInceptionV3(NDManager m) {
        super(m);
        conv1a = child("Conv2d_1a_3x3", new BasicConv2d(m, 3, 32, 3, 2, 0));
        conv2a = child("Conv2d_2a_3x3", new BasicConv2d(m, 32, 32, 3, 1, 0));
        conv2b = child("Conv2d_2b_3x3", new BasicConv2d(m, 32, 64, 3, 1, 1));
        conv3b = child("Conv2d_3b_1x1", new BasicConv2d(m, 64, 80, 1, 1, 0));
        conv4a = child("Conv2d_4a_3x3", new BasicConv2d(m, 80, 192, 3, 1, 0));
        mixed5 = new Mixed[] {
            child("Mixed_5b", new InceptionA(m, 192, 32)),
            child("Mixed_5c", new InceptionA(m, 256, 64)),
            child("Mixed_5d", new InceptionA(m, 288, 64)),
        };
        mixed6a = child("Mixed_6a", new InceptionB(m, 288));
        mixed6b = child("Mixed_6b", new InceptionC(m, 768, 128));
        mixed6c = child("Mixed_6c", new InceptionC(m, 768, 160));
        mixed6d = child("Mixed_6d", new InceptionC(m, 768, 160));
        mixed6e = child("Mixed_6e", new InceptionC(m, 768, 192));
        mixed7 = new Mixed[] {
            child("Mixed_7a", new InceptionD(m, 768)),
            child("Mixed_7b", new InceptionE(m, 1280, false)),
            child("Mixed_7c", new InceptionE(m, 2048, true)),
        };
        fc = child("fc", new Linear(m, InceptionFeatures.POOL_DIM, InceptionFeatures.NUM_LOGITS, true));
        for (var p : namedParameters().values()) {
            p.setTrainable(false);
        }
    }

    /**
     * Loads a pytorch-fid weights file ({@code .pt}/{@code .pth} zip written by {@code torch.save},
     * or safetensors with the same keys), strictly: every key of the network must be present with its
     * shape and nothing else may be, except BatchNorm's {@code num_batches_tracked} counters.
     *
     * @throws IOException naming the file and listing missing, unexpected or mis-shaped keys
     */
    public static FidInceptionV3 load(Path weights, NDManager manager) throws IOException {
        return fromTensors(StateDicts.load(weights), manager, weights.toString());
    }

    /** Builds the network from an already-read state dict (see {@link #load}). */
    public static FidInceptionV3 fromTensors(Map<String, HostTensor> tensors, NDManager manager, String origin)
            throws IOException {
        FidInceptionV3 net = new FidInceptionV3(manager);
        try (NDManager tmp = manager.newSubManager()) {
            LinkedHashMap<String, NDArray> arrays = new LinkedHashMap<>();
            tensors.forEach((k, v) -> {
                if (!k.endsWith(".num_batches_tracked")) {
                    arrays.put(k, v.toNDArray(tmp));
                }
            });
            LoadReport report = net.loadStateDict(arrays, false);
            int total = net.namedParameters().size();
            int found = total - report.missing().size() - report.mismatched().size();
            if (found < total / 2) {
                throw new IOException(origin + " is not a pytorch-fid Inception-v3 state dict: only " + found
                        + " of the "
                        + "network's " + total + " tensors (Conv2d_1a_3x3.conv.weight, ..., fc.weight) are in it with "
                        + "their shapes; it holds " + tensors.size() + " tensors such as "
                        + tensors.keySet().stream().limit(3).toList()
                        + ". Pass pytorch-fid's pt_inception-2015-12-05-6726825d.pth (or a safetensors copy of it).");
            }
            if (!report.isClean()) {
                throw new IOException(origin + " is not a pytorch-fid Inception-v3 state dict (the keys of "
                        + "pt_inception-2015-12-05-6726825d.pth: 1008-class fc, no AuxLogits):\n" + report.describe());
            }
        }
        return net;
    }

    /**
     * Features of a batch of images, without autograd. Accepted inputs:
     * <ul>
     *   <li>uint8 (N, H, W, 3), values 0..255 (the ADM {@code .npz} layout);</li>
     *   <li>float32 or float64 (N, 3, H, W), values in [0, 1] (pytorch-fid's model input).</li>
     * </ul>
     * Any H×W is resized to 299×299. The results belong to the images' manager.
     */
    public InceptionFeatures extract(NDArray images) {
        NDManager owner = images.getManager();
        try (NoGrad ignored = NoGrad.enter();
                NDManager scope = owner.newSubManager()) {
            scope.tempAttachAll(images);
            NDArray x = preprocess(images); // (N, 3, 299, 299) in [-1, 1]
            x = scoped(x, this::stem); // (N, 192, 35, 35)
            for (Mixed block : mixed5) {
                x = scoped(x, block::forward); // (N, 256 | 288 | 288, 35, 35)
            }
            x = scoped(x, mixed6a::forward); // (N, 768, 17, 17)
            x = scoped(x, mixed6b::forward);
            x = scoped(x, mixed6c::forward);
            NDList six = scopedList(x, h -> {
                NDList branches = mixed6d.branches(h); // branch1x1 (N, 192, 17, 17) first
                return new NDList(InceptionBlocks.cat(branches.toArray(new NDArray[0])), branches.get(0));
            });
            NDArray spatial = six.get(1)
                    .get(":, 0:" + InceptionFeatures.SPATIAL_CHANNELS)
                    .transpose(0, 2, 3, 1) // (N, 17, 17, 7): NHWC as TF
                    .reshape(-1, InceptionFeatures.SPATIAL_DIM); // (N, 2023)
            x = scoped(six.get(0), mixed6e::forward); // (N, 768, 17, 17)
            for (Mixed block : mixed7) {
                x = scoped(x, block::forward); // (N, 1280 | 2048 | 2048, 8, 8)
            }
            NDArray pool = Pool.globalAvgPool2d(x).reshape(-1, InceptionFeatures.POOL_DIM); // (N, 2048)
            NDArray logits = Linear.linear(pool, fc.weight().value(), null); // (N, 1008), no bias
            InceptionFeatures out = new InceptionFeatures(pool, spatial, logits);
            out.pool().attach(owner);
            out.spatial().attach(owner);
            out.logits().attach(owner);
            return out;
        }
    }

    /** (N, 3, H, W) images in [−1, 1] at 299×299, from the inputs {@link #extract} accepts. */
    public static NDArray preprocess(NDArray images) {
        Shape s = images.getShape();
        NDArray x;
        if (images.getDataType() == DataType.UINT8 && s.dimension() == 4 && s.get(3) == 3) {
            x = images.toType(DataType.FLOAT32, false).div(255).transpose(0, 3, 1, 2);
        } else if ((images.getDataType() == DataType.FLOAT32 || images.getDataType() == DataType.FLOAT64)
                && s.dimension() == 4
                && s.get(1) == 3) {
            x = images.toType(DataType.FLOAT32, false);
        } else {
            throw new IllegalArgumentException("FID Inception takes uint8 (N, H, W, 3) images in 0..255 or float "
                    + "(N, 3, H, W) images in [0, 1]; got " + images.getDataType() + " " + s);
        }
        if (x.getShape().get(2) != INPUT_SIZE || x.getShape().get(3) != INPUT_SIZE) {
            x = resize299(x);
        }
        return x.mul(2).sub(1);
    }

    /**
     * Bilinear resize of (N, 3, H, W) to 299×299 as {@code F.interpolate(mode="bilinear",
     * align_corners=False)} without antialiasing ({@link Resizer#bilinear}). Not libtorch's
     * interpolate through DJL: DJL 0.36 calls it with antialiasing on, which matches on upsampling
     * but differs by up to 0.11 (of 1) when shrinking 320 → 299 (measured).
     */
    private static NDArray resize299(NDArray x) {
        int n = (int) x.getShape().get(0);
        int h = (int) x.getShape().get(2);
        int w = (int) x.getShape().get(3);
        Resizer resizer = Resizer.bilinear(INPUT_SIZE, INPUT_SIZE);
        float[] all = x.toFloatArray();
        float[] image = new float[3 * h * w];
        int outSize = 3 * INPUT_SIZE * INPUT_SIZE;
        float[] out = new float[n * outSize];
        for (int i = 0; i < n; i++) {
            System.arraycopy(all, i * image.length, image, 0, image.length);
            System.arraycopy(resizer.apply(image, 3, h, w), 0, out, i * outSize, outSize);
        }
        return x.getManager().create(out, new Shape(n, 3, INPUT_SIZE, INPUT_SIZE));
    }

    /** Conv2d_1a … Conv2d_4a with both max pools: (N, 3, 299, 299) → (N, 192, 35, 35). */
    private NDArray stem(NDArray x) {
        NDArray h = conv1a.forward(x); // (N, 32, 149, 149)
        h = conv2b.forward(conv2a.forward(h)); // (N, 64, 147, 147)
        h = InceptionBlocks.maxPool3(h, 2, 0); // (N, 64, 73, 73)
        h = conv4a.forward(conv3b.forward(h)); // (N, 192, 71, 71)
        return InceptionBlocks.maxPool3(h, 2, 0); // (N, 192, 35, 35)
    }

    private String fingerprint;

    /** A hash of the weights (see {@link Module#stateFingerprint}), computed once; keys feature caches. */
    public synchronized String fingerprint() {
        if (fingerprint == null) {
            fingerprint = stateFingerprint();
        }
        return fingerprint;
    }

    /** Runs {@code f} on {@code x} in a sub-manager so that its temporaries are freed at once. */
    private static NDArray scoped(NDArray x, Function<NDArray, NDArray> f) {
        return scopedList(x, h -> new NDList(f.apply(h))).singletonOrThrow();
    }

    private static NDList scopedList(NDArray x, Function<NDArray, NDList> f) {
        NDManager owner = x.getManager();
        try (NDManager scope = owner.newSubManager()) {
            scope.tempAttachAll(x);
            NDList out = f.apply(x);
            out.attach(owner);
            return out;
        }
    }
}
