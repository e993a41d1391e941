package ai.tinyfusion.io;

import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * An {@code argparse.Namespace} read from a pickle, as a plain map from attribute name to value
 * (the official DiT training checkpoints store their command-line arguments this way).
 */
final class NamespaceMap extends LinkedHashMap<Object, Object> implements PickleBuildable {
    private static final long serialVersionUID = 1L;

    @Override
    public void setState(Object state) throws IOException {
        Object dict = state;
        if (state instanceof PickleTuple && ((PickleTuple) state).size() == 2) {
            dict = ((PickleTuple) state).get(0); // (instance dict, slot dict)
        }
        if (dict == null) {
            return;
        }
        if (!(dict instanceof Map)) {
            throw new IOException("argparse.Namespace state is not a dict");
        }
        putAll((Map<?, ?>) dict);
    }
}
