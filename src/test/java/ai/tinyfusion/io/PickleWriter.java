package ai.tinyfusion.io;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/** Test helper: emits pickle opcodes by hand, to build streams the reader must accept or refuse. */
final class PickleWriter {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();

    PickleWriter op(int opcode) {
        out.write(opcode);
        return this;
    }

    PickleWriter raw(byte... bytes) {
        out.writeBytes(bytes);
        return this;
    }

    PickleWriter proto(int version) {
        return op(0x80).op(version);
    }

    PickleWriter global(String module, String name) {
        op('c');
        out.writeBytes((module + "\n" + name + "\n").getBytes(StandardCharsets.UTF_8));
        return this;
    }

    PickleWriter str(String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        op('X');
        le(b.length, 4);
        out.writeBytes(b);
        return this;
    }

    PickleWriter shortStr(String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        op(0x8c).op(b.length);
        out.writeBytes(b);
        return this;
    }

    /** The smallest integer opcode that holds {@code v}. */
    PickleWriter integer(long v) {
        if (v >= 0 && v < 256) {
            return op('K').op((int) v);
        }
        if (v >= 0 && v < 65536) {
            op('M');
            return le(v, 2);
        }
        if (v >= Integer.MIN_VALUE && v <= Integer.MAX_VALUE) {
            op('J');
            return le(v, 4);
        }
        op(0x8a).op(8);
        return le(v, 8);
    }

    PickleWriter mark() {
        return op('(');
    }

    PickleWriter tuple() {
        return op('t');
    }

    PickleWriter put(int index) {
        return op('q').op(index);
    }

    PickleWriter get(int index) {
        return op('h').op(index);
    }

    PickleWriter reduce() {
        return op('R');
    }

    PickleWriter stop() {
        return op('.');
    }

    /** A tuple of integers (shape or stride). */
    PickleWriter ints(long... values) {
        mark();
        for (long v : values) {
            integer(v);
        }
        return tuple();
    }

    /**
     * {@code _rebuild_tensor_v2(('storage', torch.<type>, key, 'cpu', numel), offset, shape, stride,
     * False, OrderedDict())}.
     */
    PickleWriter tensor(String storageType, String key, long numel, long offset, long[] shape, long[] stride) {
        global("torch._utils", "_rebuild_tensor_v2");
        mark();
        mark().str("storage")
                .global("torch", storageType)
                .str(key)
                .str("cpu")
                .integer(numel)
                .tuple();
        op('Q');
        integer(offset).ints(shape).ints(stride);
        op(0x89);
        global("collections", "OrderedDict").op(')').reduce();
        tuple();
        return reduce();
    }

    byte[] bytes() {
        return out.toByteArray();
    }

    private PickleWriter le(long v, int n) {
        for (int i = 0; i < n; i++) {
            out.write((int) (v >>> (8 * i)) & 0xff);
        }
        return this;
    }
}
