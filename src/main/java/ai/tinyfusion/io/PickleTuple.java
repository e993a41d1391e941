package ai.tinyfusion.io;

import java.util.AbstractList;
import java.util.RandomAccess;

/** An immutable Python tuple read from a pickle; elements may be {@code null} (Python None). */
public final class PickleTuple extends AbstractList<Object> implements RandomAccess {
    private final Object[] items;

    PickleTuple(Object... items) {
        this.items = items.clone();
    }

    @Override
    public Object get(int index) {
        return items[index];
    }

    @Override
    public int size() {
        return items.length;
    }
}
