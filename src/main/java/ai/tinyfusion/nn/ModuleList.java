package ai.tinyfusion.nn;

import ai.djl.ndarray.NDManager;
import java.util.ArrayList;
import java.util.List;

/**
 * An indexed list of children named "0", "1", ... like {@code nn.ModuleList}; with explicit
 * indices it also stands in for {@code nn.Sequential} whose parameter-free members (SiLU) leave
 * gaps, e.g. {@code adaLN_modulation.1}.
 */
public final class ModuleList<M extends Module> extends Module {
    private final List<M> items = new ArrayList<>();

    public ModuleList(NDManager manager) {
        super(manager);
    }

    /** Appends at the next index. */
    public M add(M module) {
        return put(items.size(), module);
    }

    /** Registers under an explicit index (gaps allowed, as in a Sequential with activations). */
    public M put(int index, M module) {
        child(Integer.toString(index), module);
        items.add(module);
        return module;
    }

    /** The i-th registered item (insertion order, not the state-dict index). */
    public M get(int i) {
        return items.get(i);
    }

    public int size() {
        return items.size();
    }

    public List<M> items() {
        return List.copyOf(items);
    }
}
