package ai.tinyfusion.io;

import java.io.IOException;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The allow-list of pickle globals a {@code torch.save} state dict (or DiT training checkpoint)
 * may name, and the plain Java values they stand for.
 *
 * <ul>
 *   <li>{@code collections.OrderedDict} → a callable building a {@link LinkedHashMap};</li>
 *   <li>{@code torch._utils._rebuild_tensor}, {@code _rebuild_tensor_v2} → callables building a
 *       {@link TorchTensorRef}; {@code _rebuild_parameter}, {@code _rebuild_parameter_with_state}
 *       → callables returning the wrapped tensor;</li>
 *   <li>{@code torch.FloatStorage} … {@code torch.BoolStorage} and dtype objects such as
 *       {@code torch.float32} → the matching {@link DType};</li>
 *   <li>{@code builtins.set} ({@code __builtin__.set}) → a callable building a {@link LinkedHashSet};</li>
 *   <li>{@code argparse.Namespace} → a callable building a plain map of its attributes.</li>
 * </ul>
 *
 * Everything else, including {@code torch.storage._load_from_bytes}, {@code numpy} scalars and
 * dtypes, is refused with an {@link UnsafeCheckpointException}.
 */
public final class TorchGlobals {
    private static final Map<String, Object> ALLOWED = new LinkedHashMap<>();

    static {
        ALLOWED.put("collections.OrderedDict", (PickleCallable) TorchGlobals::orderedDict);
        ALLOWED.put("torch._utils._rebuild_tensor", (PickleCallable) args -> rebuildTensor(args, 4, 4));
        ALLOWED.put("torch._utils._rebuild_tensor_v2", (PickleCallable) args -> rebuildTensor(args, 6, 7));
        ALLOWED.put("torch._utils._rebuild_parameter", (PickleCallable) args -> rebuildParameter(args, 3));
        ALLOWED.put("torch._utils._rebuild_parameter_with_state", (PickleCallable) args -> rebuildParameter(args, 4));
        ALLOWED.put("builtins.set", (PickleCallable) TorchGlobals::set);
        ALLOWED.put("__builtin__.set", (PickleCallable) TorchGlobals::set);
        ALLOWED.put("argparse.Namespace", (PickleCallable) TorchGlobals::namespace);
        storage("Double", DType.F64);
        storage("Float", DType.F32);
        storage("Half", DType.F16);
        storage("BFloat16", DType.BF16);
        storage("Long", DType.I64);
        storage("Int", DType.I32);
        storage("Short", DType.I16);
        storage("Char", DType.I8);
        storage("Byte", DType.U8);
        storage("Bool", DType.BOOL);
        dtype(DType.F64, "float64", "double");
        dtype(DType.F32, "float32", "float");
        dtype(DType.F16, "float16", "half");
        dtype(DType.BF16, "bfloat16");
        dtype(DType.I64, "int64", "long");
        dtype(DType.I32, "int32", "int");
        dtype(DType.I16, "int16", "short");
        dtype(DType.I8, "int8");
        dtype(DType.U8, "uint8");
        dtype(DType.BOOL, "bool");
    }

    private TorchGlobals() {}

    /**
     * The value of an allowed global.
     *
     * @throws UnsafeCheckpointException for any global outside the allow-list
     */
    public static Object resolve(String module, String name) throws UnsafeCheckpointException {
        Object value = ALLOWED.get(module + "." + name);
        if (value == null) {
            throw new UnsafeCheckpointException(
                    "refused pickle global " + module + "." + name + " (only state-dict globals are allowed)");
        }
        return value;
    }

    private static void storage(String prefix, DType dtype) {
        ALLOWED.put("torch." + prefix + "Storage", dtype);
    }

    private static void dtype(DType dtype, String... names) {
        for (String n : names) {
            ALLOWED.put("torch." + n, dtype);
        }
    }

    private static Object orderedDict(PickleTuple args) throws IOException {
        Map<Object, Object> map = new LinkedHashMap<>();
        if (args.isEmpty()) {
            return map;
        }
        if (args.size() != 1) {
            throw new IOException("OrderedDict takes at most one argument, got " + args.size());
        }
        Object source = args.get(0);
        if (source instanceof Map) {
            map.putAll((Map<?, ?>) source);
        } else if (source instanceof Collection) {
            for (Object pair : (Collection<?>) source) {
                if (!(pair instanceof List) || ((List<?>) pair).size() != 2) {
                    throw new IOException("OrderedDict items must be (key, value) pairs");
                }
                Object key = ((List<?>) pair).get(0);
                if (!(key instanceof String || key instanceof Long)) {
                    throw new IOException("unsupported OrderedDict key type");
                }
                map.put(key, ((List<?>) pair).get(1));
            }
        } else {
            throw new IOException("OrderedDict argument is neither a dict nor a list of pairs");
        }
        return map;
    }

    /** {@code _rebuild_tensor(storage, offset, size, stride)} and v2 (plus requires_grad, hooks[, metadata]). */
    private static Object rebuildTensor(PickleTuple args, int minArgs, int maxArgs) throws IOException {
        if (args.size() < minArgs || args.size() > maxArgs) {
            throw new IOException("tensor rebuild expects " + minArgs + " arguments, got " + args.size());
        }
        if (!(args.get(0) instanceof TorchStorageRef)) {
            throw new IOException("tensor rebuild without a storage");
        }
        if (!(args.get(1) instanceof Long)) {
            throw new IOException("tensor storage offset is not an integer");
        }
        long[] shape = longs(args.get(2), "size");
        long[] strides = longs(args.get(3), "stride");
        if (shape.length != strides.length) {
            throw new IOException("tensor size " + Shapes.format(shape) + " and stride " + Shapes.format(strides)
                    + " differ in rank");
        }
        return new TorchTensorRef((TorchStorageRef) args.get(0), (Long) args.get(1), shape, strides);
    }

    /** {@code _rebuild_parameter(data, requires_grad, hooks[, state])}: the parameter's tensor. */
    private static Object rebuildParameter(PickleTuple args, int count) throws IOException {
        if (args.size() != count || !(args.get(0) instanceof TorchTensorRef)) {
            throw new IOException("malformed parameter rebuild");
        }
        return args.get(0);
    }

    private static Object set(PickleTuple args) throws IOException {
        Set<Object> set = new LinkedHashSet<>();
        if (args.size() == 1 && args.get(0) instanceof Collection) {
            for (Object item : (Collection<?>) args.get(0)) {
                if (!(item == null
                        || item instanceof String
                        || item instanceof Long
                        || item instanceof Boolean
                        || item instanceof Double)) {
                    throw new IOException("unsupported set item type");
                }
                set.add(item);
            }
        } else if (!args.isEmpty()) {
            throw new IOException("set() takes at most one iterable argument");
        }
        return set;
    }

    private static Object namespace(PickleTuple args) throws IOException {
        if (!args.isEmpty()) {
            throw new IOException("argparse.Namespace built with positional arguments");
        }
        return new NamespaceMap();
    }

    private static long[] longs(Object tuple, String what) throws IOException {
        if (!(tuple instanceof List)) {
            throw new IOException("tensor " + what + " is not a tuple");
        }
        List<?> list = (List<?>) tuple;
        long[] out = new long[list.size()];
        for (int i = 0; i < out.length; i++) {
            if (!(list.get(i) instanceof Long)) {
                throw new IOException("tensor " + what + " holds a non-integer");
            }
            out[i] = (Long) list.get(i);
        }
        return out;
    }
}
