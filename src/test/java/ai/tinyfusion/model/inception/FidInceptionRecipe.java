package ai.tinyfusion.model.inception;

import ai.tinyfusion.io.HostTensor;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.LinkedHashMap;

/** The parity fixture's folder and its random weights ({@link RandomInceptionWeights}). */
final class FidInceptionRecipe {
    private FidInceptionRecipe() {}

    /** The fixture folder (generated files, committed). */
    static Path dir() {
        return Paths.get("src/test/resources/fixtures/inception").toAbsolutePath();
    }

    /** The recipe state dict for every parameter of {@code net}, in its order. */
    static LinkedHashMap<String, HostTensor> stateDict(FidInceptionV3 net) {
        return RandomInceptionWeights.stateDict(net);
    }
}
