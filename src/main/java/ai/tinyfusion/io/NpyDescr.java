package ai.tinyfusion.io;

import java.io.IOException;

/** NumPy dtype strings ({@code descr}) such as {@code <f4}, {@code >i8} or {@code |b1}. */
final class NpyDescr {
    private NpyDescr() {}

    /** The descr numpy writes for a little-endian array of {@code dtype}. */
    static String descr(DType dtype) {
        switch (dtype) {
            case F64:
                return "<f8";
            case F32:
                return "<f4";
            case F16:
                return "<f2";
            case I64:
                return "<i8";
            case I32:
                return "<i4";
            case I16:
                return "<i2";
            case I8:
                return "|i1";
            case U8:
                return "|u1";
            case BOOL:
                return "|b1";
            default:
                throw new IllegalArgumentException(dtype + " has no NumPy dtype; convert it to F32 first");
        }
    }

    /** The element type of a descr. */
    static DType dtype(String descr) throws IOException {
        if (descr.length() < 2 || "<>|=".indexOf(descr.charAt(0)) < 0) {
            throw new IOException("unsupported .npy dtype '" + descr + "'");
        }
        String code = descr.substring(1);
        DType t;
        switch (code) {
            case "f8":
                t = DType.F64;
                break;
            case "f4":
                t = DType.F32;
                break;
            case "f2":
                t = DType.F16;
                break;
            case "i8":
                t = DType.I64;
                break;
            case "i4":
                t = DType.I32;
                break;
            case "i2":
                t = DType.I16;
                break;
            case "i1":
                t = DType.I8;
                break;
            case "u1":
                t = DType.U8;
                break;
            case "b1":
                t = DType.BOOL;
                break;
            default:
                throw new IOException("unsupported .npy dtype '" + descr + "' (supported: f8 f4 f2 i8 i4 i2 i1 u1 b1)");
        }
        if (descr.charAt(0) == '|' && t.byteSize() > 1) {
            throw new IOException(".npy dtype '" + descr + "' lacks a byte order");
        }
        return t;
    }

    /** Whether a descr stores multi-byte elements big-endian ({@code =} means this machine's order). */
    static boolean isBigEndian(String descr) {
        char order = descr.charAt(0);
        return order == '>' || (order == '=' && java.nio.ByteOrder.nativeOrder() == java.nio.ByteOrder.BIG_ENDIAN);
    }
}
