package ai.tinyfusion.io;

import java.io.IOException;
import java.util.List;

/**
 * A PyTorch storage named by a pickle persistent id: its element type, the key of its raw data
 * ({@code <archive>/data/<key>} in the zip) and its length in elements.
 *
 * @param dtype    element type of the storage
 * @param key      name of the storage's data entry
 * @param location device it was saved from (e.g. {@code cpu}, {@code cuda:0}); data is always
 *                 loaded to host memory
 * @param numel    number of elements
 */
public record TorchStorageRef(DType dtype, String key, String location, long numel) {

    /**
     * Decodes the persistent id {@code ('storage', StorageType, key, location, numel)}.
     *
     * @throws IOException for any other persistent id
     */
    public static TorchStorageRef fromPersistentId(Object pid) throws IOException {
        if (!(pid instanceof List) || ((List<?>) pid).size() != 5 || !"storage".equals(((List<?>) pid).get(0))) {
            throw new IOException("unsupported persistent id " + describe(pid)
                    + " (expected ('storage', type, key, location, numel))");
        }
        List<?> t = (List<?>) pid;
        if (!(t.get(1) instanceof DType)) {
            throw new IOException("persistent id names no storage type: " + describe(t.get(1)));
        }
        if (!(t.get(2) instanceof String) || !(t.get(3) instanceof String) || !(t.get(4) instanceof Long)) {
            throw new IOException("malformed storage persistent id");
        }
        long numel = (Long) t.get(4);
        if (numel < 0) {
            throw new IOException("storage " + t.get(2) + " has negative size " + numel);
        }
        return new TorchStorageRef((DType) t.get(1), (String) t.get(2), (String) t.get(3), numel);
    }

    private static String describe(Object o) {
        return o == null ? "None" : o.getClass().getSimpleName();
    }
}
