package ai.tinyfusion.io;

import static ai.tinyfusion.io.PickleOpcodes.*;

import java.io.IOException;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A restricted pickle virtual machine for the opcodes {@code torch.save} emits (protocols 2–5).
 *
 * <p>It never executes or reflectively instantiates anything: each GLOBAL is handed to a
 * {@link GlobalResolver}, which returns a plain Java value or a {@link PickleCallable} for an
 * allowed name and throws {@link UnsafeCheckpointException} for anything else. Persistent ids
 * (PyTorch storages) go to a {@link PersistentLoader}.
 *
 * <p>Python values become: None → {@code null}, bool → {@link Boolean}, int → {@link Long} (or
 * {@link BigInteger} beyond 64 bits), float → {@link Double}, str → {@link String}, bytes →
 * {@code byte[]}, tuple → {@link PickleTuple}, list → {@link ArrayList}, dict → {@link LinkedHashMap},
 * set → {@link LinkedHashSet}.
 *
 * <p>Malformed input always ends in an {@link IOException} naming the problem and its offset:
 * unsupported opcodes, lengths beyond the end of the data, stack underflow, a missing STOP.
 * Work is bounded by the input size (every opcode consumes input, and the copying done by
 * constructors is capped), so no input loops forever or exhausts memory.
 */
public final class PickleReader {
    private static final Logger LOG = LoggerFactory.getLogger(PickleReader.class);
    /** Most items a dict key or set item may hold, counting every nested tuple's items (and the tuples). */
    private static final int MAX_KEY_ITEMS = 4096;

    /** Maps a pickle global to a value; refuses anything not allowed. */
    @FunctionalInterface
    public interface GlobalResolver {
        /**
         * The value of {@code module.name}.
         *
         * @throws UnsafeCheckpointException if the global is not allowed
         */
        Object resolve(String module, String name) throws IOException;
    }

    /** Maps a persistent id (from BINPERSID) to a value. */
    @FunctionalInterface
    public interface PersistentLoader {
        /** The value a persistent id stands for. */
        Object load(Object pid) throws IOException;
    }

    private final GlobalResolver globals;
    private final PersistentLoader persistentLoader;

    /** A reader with the given allow-list and persistent-id handler. */
    public PickleReader(GlobalResolver globals, PersistentLoader persistentLoader) {
        this.globals = globals;
        this.persistentLoader = persistentLoader;
    }

    /**
     * A reader for {@code torch.save} state dicts: the {@link TorchGlobals} allow-list, and
     * persistent ids decoded into {@link TorchStorageRef}s.
     */
    public static PickleReader forStateDicts() {
        return new PickleReader(TorchGlobals::resolve, TorchStorageRef::fromPersistentId);
    }

    /**
     * Runs a pickle stream and returns the object it builds.
     *
     * @throws UnsafeCheckpointException if it names a global outside the allow-list
     * @throws IOException               if it is corrupt, truncated or uses an unsupported opcode
     */
    public Object load(byte[] pickle) throws IOException {
        Machine machine = new Machine(pickle);
        try {
            return machine.run();
        } catch (IOException e) {
            throw e;
        } catch (RuntimeException | StackOverflowError e) {
            throw new IOException("malformed pickle near offset " + machine.opOffset + ": " + e, e);
        }
    }

    /** State of one run. */
    private final class Machine {
        private final PickleInput in;
        private final List<Object> stack = new ArrayList<>();
        private int[] marks = new int[16];
        private int markCount;
        private final Map<Long, Object> memo = new HashMap<>();
        private long copyBudget;
        int opOffset;

        Machine(byte[] data) {
            this.in = new PickleInput(data);
            this.copyBudget = 2L * data.length + 100_000L;
        }

        Object run() throws IOException {
            while (true) {
                opOffset = in.position();
                if (in.remaining() == 0) {
                    throw new IOException("truncated pickle: stream ended at offset " + opOffset + " without STOP");
                }
                int op = in.u8();
                switch (op) {
                    case PROTO: {
                        int version = in.u8();
                        if (version > 5) {
                            throw error("unsupported pickle protocol " + version);
                        }
                        break;
                    }
                    case FRAME:
                        in.requireAvailable(in.i64(), "frame");
                        break;
                    case GLOBAL: {
                        String module = in.line("GLOBAL module name");
                        String name = in.line("GLOBAL name");
                        push(globals.resolve(module, name));
                        break;
                    }
                    case STACK_GLOBAL: {
                        Object name = pop();
                        Object module = pop();
                        if (!(module instanceof String) || !(name instanceof String)) {
                            throw error("STACK_GLOBAL needs two strings");
                        }
                        push(globals.resolve((String) module, (String) name));
                        break;
                    }
                    case BINPUT:
                        memo.put((long) in.u8(), peek());
                        break;
                    case LONG_BINPUT:
                        memo.put(in.u32(), peek());
                        break;
                    case MEMOIZE:
                        memo.put((long) memo.size(), peek());
                        break;
                    case BINGET:
                        push(memoGet(in.u8()));
                        break;
                    case LONG_BINGET:
                        push(memoGet(in.u32()));
                        break;
                    case MARK:
                        pushMark();
                        break;
                    case EMPTY_DICT:
                        push(new LinkedHashMap<Object, Object>());
                        break;
                    case DICT: {
                        Map<Object, Object> dict = new LinkedHashMap<>();
                        putPairs(dict, popMark());
                        push(dict);
                        break;
                    }
                    case EMPTY_LIST:
                        push(new ArrayList<Object>());
                        break;
                    case LIST:
                        push(new ArrayList<>(popMark()));
                        break;
                    case EMPTY_TUPLE:
                        push(new PickleTuple());
                        break;
                    case TUPLE:
                        push(new PickleTuple(popMark().toArray()));
                        break;
                    case TUPLE1:
                        push(new PickleTuple(pop()));
                        break;
                    case TUPLE2: {
                        Object b = pop();
                        push(new PickleTuple(pop(), b));
                        break;
                    }
                    case TUPLE3: {
                        Object c = pop();
                        Object b = pop();
                        push(new PickleTuple(pop(), b, c));
                        break;
                    }
                    case SETITEM: {
                        Object value = pop();
                        Object key = pop();
                        putPairs(dictOnTop(), Arrays.asList(key, value));
                        break;
                    }
                    case SETITEMS: {
                        List<Object> items = popMark();
                        putPairs(dictOnTop(), items);
                        break;
                    }
                    case APPEND: {
                        Object value = pop();
                        listOnTop().add(value);
                        break;
                    }
                    case APPENDS: {
                        List<Object> items = popMark();
                        listOnTop().addAll(items);
                        break;
                    }
                    case BININT:
                        push((long) in.i32());
                        break;
                    case BININT1:
                        push((long) in.u8());
                        break;
                    case BININT2:
                        push((long) in.u16());
                        break;
                    case LONG1:
                        push(decodeLong(in.bytes(in.u8(), "LONG1 integer")));
                        break;
                    case BINFLOAT:
                        push(in.f64BigEndian());
                        break;
                    case NEWTRUE:
                        push(Boolean.TRUE);
                        break;
                    case NEWFALSE:
                        push(Boolean.FALSE);
                        break;
                    case NONE:
                        push(null);
                        break;
                    case BINUNICODE:
                        push(in.utf8(in.u32(), "BINUNICODE string"));
                        break;
                    case SHORT_BINUNICODE:
                        push(in.utf8(in.u8(), "SHORT_BINUNICODE string"));
                        break;
                    case BINUNICODE8:
                        push(in.utf8(in.i64(), "BINUNICODE8 string"));
                        break;
                    case BINSTRING:
                        push(in.utf8(in.i32(), "BINSTRING string"));
                        break;
                    case SHORT_BINSTRING:
                        push(in.utf8(in.u8(), "SHORT_BINSTRING string"));
                        break;
                    case BINBYTES:
                        push(in.bytes(in.u32(), "BINBYTES data"));
                        break;
                    case SHORT_BINBYTES:
                        push(in.bytes(in.u8(), "SHORT_BINBYTES data"));
                        break;
                    case BINPERSID:
                        push(persistentLoader.load(pop()));
                        break;
                    case REDUCE:
                    case NEWOBJ: {
                        Object args = pop();
                        Object callable = pop();
                        push(call(op, callable, args));
                        break;
                    }
                    case BUILD: {
                        Object state = pop();
                        build(peek(), state);
                        break;
                    }
                    case EMPTY_SET:
                        push(new LinkedHashSet<Object>());
                        break;
                    case ADDITEMS: {
                        List<Object> items = popMark();
                        Set<Object> set = setOnTop();
                        for (Object item : items) {
                            requireHashable(item);
                            set.add(item);
                        }
                        break;
                    }
                    case STOP: {
                        if (stack.isEmpty()) {
                            throw error("STOP with an empty stack");
                        }
                        return pop();
                    }
                    default:
                        throw error("unsupported pickle opcode " + PickleOpcodes.describe(op));
                }
            }
        }

        private Object call(int op, Object callable, Object args) throws IOException {
            String opName = op == REDUCE ? "REDUCE" : "NEWOBJ";
            if (!(callable instanceof PickleCallable)) {
                throw error(opName + " on a value that cannot be called (" + typeName(callable) + ")");
            }
            if (!(args instanceof PickleTuple)) {
                throw error(opName + " arguments are not a tuple (" + typeName(args) + ")");
            }
            for (Object arg : (PickleTuple) args) {
                charge(arg);
            }
            return ((PickleCallable) callable).call((PickleTuple) args);
        }

        private void build(Object instance, Object state) throws IOException {
            if (instance instanceof PickleBuildable) {
                charge(state);
                ((PickleBuildable) instance).setState(state);
            } else if (instance instanceof Map) {
                // Attributes set on a dict (e.g. the _metadata of a state dict's OrderedDict) hold
                // only module version numbers; the dict's items are already in place.
                if (!(state instanceof Map || state instanceof PickleTuple)) {
                    throw error("BUILD on a dict with state of type " + typeName(state));
                }
                LOG.trace("ignoring attributes set on a pickled dict");
            } else {
                throw error("BUILD on an unsupported value (" + typeName(instance) + ")");
            }
        }

        private void charge(Object arg) throws IOException {
            long size = arg instanceof Collection
                    ? ((Collection<?>) arg).size()
                    : arg instanceof Map ? ((Map<?, ?>) arg).size() : 0;
            copyBudget -= size;
            if (copyBudget < 0) {
                throw error("pickle builds too many objects for its size (corrupt or hostile stream)");
            }
        }

        private void putPairs(Map<Object, Object> dict, List<Object> items) throws IOException {
            if (items.size() % 2 != 0) {
                throw error("odd number of items for a dict");
            }
            for (int i = 0; i < items.size(); i += 2) {
                requireHashable(items.get(i));
                dict.put(items.get(i), items.get(i + 1));
            }
        }

        /**
         * Allows only immutable keys of bounded size, so no key can make hashing recurse without end.
         * Hashing and comparing a tuple visit every element of every nested tuple, counting a tuple
         * that the memo shares as often as it is reached: a key under 1 KB can unfold to 2^32 items
         * that way, so the count is capped before the key is ever hashed.
         */
        private void requireHashable(Object key) throws IOException {
            List<Object> pending = new ArrayList<>();
            pending.add(key);
            long visited = 0;
            while (!pending.isEmpty()) {
                Object k = pending.remove(pending.size() - 1);
                if (++visited > MAX_KEY_ITEMS) {
                    throw error("dict key or set item unfolds to more than " + MAX_KEY_ITEMS
                            + " nested tuple items (a memo-shared tuple counted each time it is reached),"
                            + " so hashing it could take exponential time");
                }
                if (k instanceof PickleTuple) {
                    pending.addAll((PickleTuple) k);
                } else if (!(k == null
                        || k instanceof String
                        || k instanceof Long
                        || k instanceof BigInteger
                        || k instanceof Double
                        || k instanceof Boolean
                        || k instanceof DType)) {
                    throw error("unsupported dict key or set item of type " + typeName(k));
                }
            }
        }

        @SuppressWarnings("unchecked")
        private Map<Object, Object> dictOnTop() throws IOException {
            Object top = peek();
            if (!(top instanceof Map)) {
                throw error("SETITEM(S) on a " + typeName(top) + ", not a dict");
            }
            return (Map<Object, Object>) top;
        }

        @SuppressWarnings("unchecked")
        private List<Object> listOnTop() throws IOException {
            Object top = peek();
            if (!(top instanceof ArrayList)) {
                throw error("APPEND(S) on a " + typeName(top) + ", not a list");
            }
            return (List<Object>) top;
        }

        @SuppressWarnings("unchecked")
        private Set<Object> setOnTop() throws IOException {
            Object top = peek();
            if (!(top instanceof Set)) {
                throw error("ADDITEMS on a " + typeName(top) + ", not a set");
            }
            return (Set<Object>) top;
        }

        private Object memoGet(long index) throws IOException {
            if (!memo.containsKey(index)) {
                throw error("memo entry " + index + " read before it was written");
            }
            return memo.get(index);
        }

        private void push(Object value) {
            stack.add(value);
        }

        private Object pop() throws IOException {
            int floor = markCount > 0 ? marks[markCount - 1] : 0;
            if (stack.size() <= floor) {
                throw error("stack underflow");
            }
            return stack.remove(stack.size() - 1);
        }

        private Object peek() throws IOException {
            int floor = markCount > 0 ? marks[markCount - 1] : 0;
            if (stack.size() <= floor) {
                throw error("stack underflow");
            }
            return stack.get(stack.size() - 1);
        }

        private void pushMark() {
            if (markCount == marks.length) {
                marks = Arrays.copyOf(marks, marks.length * 2);
            }
            marks[markCount++] = stack.size();
        }

        /** Removes and returns the items above the topmost mark, and the mark. */
        private List<Object> popMark() throws IOException {
            if (markCount == 0) {
                throw error("no MARK on the stack");
            }
            int start = marks[--markCount];
            List<Object> top = stack.subList(start, stack.size());
            List<Object> items = new ArrayList<>(top);
            top.clear();
            return items;
        }

        private IOException error(String message) {
            return new IOException(message + " at offset " + opOffset);
        }
    }

    private static Object decodeLong(byte[] littleEndian) {
        if (littleEndian.length == 0) {
            return 0L;
        }
        byte[] bigEndian = new byte[littleEndian.length];
        for (int i = 0; i < littleEndian.length; i++) {
            bigEndian[i] = littleEndian[littleEndian.length - 1 - i];
        }
        BigInteger value = new BigInteger(bigEndian);
        return value.bitLength() < 64 ? (Object) value.longValue() : value;
    }

    private static String typeName(Object o) {
        return o == null ? "None" : o.getClass().getSimpleName();
    }
}
