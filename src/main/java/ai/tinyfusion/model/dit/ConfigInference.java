package ai.tinyfusion.model.dit;

import java.util.Arrays;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Recovers a {@link DiTConfig} from the tensor shapes of a state dict (official checkpoints carry
 * no config). Everything is determined by shapes except the number of attention heads, which is
 * taken from the original presets by width (1152/1024 → 16, 768 → 12, 384 → 6, 128 → 4) unless
 * given, and the label-dropout probability, which is assumed 0.1 when the label table has an extra
 * (null) row.
 */
public final class ConfigInference {
    private ConfigInference() {}

    private static final Pattern BLOCK = Pattern.compile("^blocks\\.(\\d+)\\.");

    /**
     * @param shapes key → shape of every tensor in the checkpoint
     * @param heads heads to use, or null to infer from the width
     */
    public static DiTConfig infer(Map<String, long[]> shapes, Integer heads) {
        long[] proj = need(shapes, "x_embedder.proj.weight", 4); // (D, C, p, p)
        long[] pos = need(shapes, "pos_embed", 3); // (1, T, D)
        long[] table = need(shapes, "y_embedder.embedding_table.weight", 2); // (classes[+1], D)
        long[] fc1 = need(shapes, "blocks.0.mlp.fc1.weight", 2); // (H, D)
        long[] last = need(shapes, "final_layer.linear.weight", 2); // (p·p·out, D)
        int d = dimension(proj[0], "x_embedder.proj.weight width");
        int c = dimension(proj[1], "x_embedder.proj.weight input channels");
        int p = dimension(proj[2], "x_embedder.proj.weight patch size");
        if (proj[3] != p) {
            throw new IllegalArgumentException(
                    "x_embedder.proj.weight has non-square patches: " + Arrays.toString(proj));
        }
        long tokens = dimension(pos[1], "pos_embed tokens");
        int grid = (int) Math.round(Math.sqrt(tokens));
        if ((long) grid * grid != tokens) {
            throw new IllegalArgumentException("pos_embed has " + tokens + " tokens, not a square grid");
        }
        int depth = 0;
        for (String k : shapes.keySet()) {
            Matcher m = BLOCK.matcher(k);
            if (m.find()) {
                depth = Math.max(depth, Integer.parseInt(m.group(1)) + 1);
            }
        }
        long outPerToken = last[0];
        int outChannels = (int) (outPerToken / ((long) p * p));
        boolean learnSigma = outChannels == 2 * c;
        if (!learnSigma && outChannels != c) {
            throw new IllegalArgumentException("final_layer.linear.weight gives " + outChannels
                    + " output channels for " + c + " input channels (expected " + c + " or " + 2 * c + ")");
        }
        int h = heads != null ? heads : defaultHeads(d);
        // The original adds the null row only when class_dropout_prob > 0. A table with an even
        // count of rows and 1000/10 classes is ambiguous; we assume the common case (dropout 0.1).
        int rows = dimension(table[0], "y_embedder.embedding_table.weight rows");
        int classes = rows - 1;
        double dropout = 0.1;
        if (rows == 1000 || rows == 10) {
            classes = rows;
            dropout = 0.0;
        }
        int inputSize = dimension((long) grid * p, "input size (pos_embed grid × patch size)");
        return new DiTConfig(inputSize, p, c, d, depth, h, (double) fc1[0] / d, classes, learnSigma, dropout);
    }

    /** Heads of the original presets by width; otherwise 64-wide heads where possible. */
    public static int defaultHeads(int width) {
        return switch (width) {
            case 1152, 1024, 2304 -> width == 2304 ? 32 : 16;
            case 768 -> 12;
            case 384 -> 6;
            case 128, 64 -> 4;
            default -> width % 64 == 0 ? width / 64 : 1;
        };
    }

    /** A dimension that must be positive and fit an int (a corrupt shape may hold 0 or 2^40). */
    private static int dimension(long value, String what) {
        if (value <= 0 || value > Integer.MAX_VALUE) {
            throw new IllegalArgumentException(what + " is " + value + ", not a positive int");
        }
        return (int) value;
    }

    private static long[] need(Map<String, long[]> shapes, String key, int rank) {
        long[] s = shapes.get(key);
        if (s == null) {
            throw new IllegalArgumentException("not a DiT state dict: key '" + key + "' is missing");
        }
        if (s.length != rank) {
            throw new IllegalArgumentException(
                    "key '" + key + "' has shape " + Arrays.toString(s) + ", expected rank " + rank);
        }
        return s;
    }
}
