package ai.tinyfusion.model.dit;

import java.util.List;
import java.util.Locale;

/** This project's small pixel-space models for Fashion-MNIST (28×28, 1 channel, 10 classes). */
final class SmallPresets {
    private SmallPresets() {}

    static final List<String> NAMES = List.of("DiT-F28 (Fashion-MNIST teacher, 28 layers)", "DiT-F14", "DiT-F7");

    static DiTConfig get(String name) {
        String n = name.trim().toUpperCase(Locale.ROOT);
        int depth;
        switch (n) {
            case "DIT-F28" -> depth = 28;
            case "DIT-F14" -> depth = 14;
            case "DIT-F7" -> depth = 7;
            default -> {
                return null;
            }
        }
        // 28x28 grey images, patch 4 → 7x7 = 49 tokens; width 64 with 4 heads. Measured here (2 cores):
        // fwd+bwd ≈ 110 img/s at batch 64, so one Fashion-MNIST epoch takes about 9-10 minutes, and the
        // 28-layer model has 2.1M parameters (8.5 MB as float32 safetensors).
        return new DiTConfig(28, 4, 1, 64, depth, 4, 4.0, 10, true, 0.1);
    }
}
