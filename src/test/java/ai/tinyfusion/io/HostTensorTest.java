package ai.tinyfusion.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HostTensorTest {
    @TempDir
    Path tmp;

    private static HostTensor shorts(DType dtype, int... bits) {
        ByteBuffer b = ByteBuffer.allocate(bits.length * 2).order(ByteOrder.LITTLE_ENDIAN);
        for (int v : bits) {
            b.putShort((short) v);
        }
        return HostTensor.ofBytes(dtype, b.array(), bits.length);
    }

    @Test
    void halfPrecisionWidening() {
        float[] f16 = shorts(DType.F16, 0x3c00, 0xc000, 0x7bff, 0x0001, 0x03ff, 0x8000, 0x7c00, 0xfc00, 0x7e00, 0x3555)
                .toFloatArray();
        assertEquals(1f, f16[0]);
        assertEquals(-2f, f16[1]);
        assertEquals(65504f, f16[2]);
        assertEquals(0x1p-24f, f16[3]); // smallest subnormal
        assertEquals(1023 * 0x1p-24f, f16[4]); // largest subnormal
        assertEquals(Float.floatToIntBits(-0f), Float.floatToIntBits(f16[5]));
        assertEquals(Float.POSITIVE_INFINITY, f16[6]);
        assertEquals(Float.NEGATIVE_INFINITY, f16[7]);
        assertTrue(Float.isNaN(f16[8]));
        assertEquals(0.333251953125f, f16[9]);
        float[] bf16 = shorts(DType.BF16, 0x3fc0, 0xc000, 0x3eaa, 0x7f80).toFloatArray();
        assertArrayEquals(new float[] {1.5f, -2f, Float.intBitsToFloat(0x3eaa0000), Float.POSITIVE_INFINITY}, bf16);
    }

    @Test
    void integerAndBoolConversions() {
        HostTensor u8 = HostTensor.ofBytes(DType.U8, new byte[] {(byte) 200, 0, (byte) 255}, 3);
        assertArrayEquals(new long[] {200, 0, 255}, u8.toLongArray());
        assertArrayEquals(new float[] {200, 0, 255}, u8.toFloatArray());
        HostTensor i8 = HostTensor.ofBytes(DType.I8, new byte[] {(byte) 200, 0, 127}, 3);
        assertArrayEquals(new long[] {-56, 0, 127}, i8.toLongArray());
        assertArrayEquals(
                new long[] {1, 0},
                HostTensor.ofBytes(DType.BOOL, new byte[] {1, 0}, 2).toLongArray());
        assertArrayEquals(new long[] {-32768, 7}, shorts(DType.I16, 0x8000, 7).toLongArray());
        assertArrayEquals(
                new long[] {-1, 1 << 30},
                HostTensor.ofInts(new int[] {-1, 1 << 30}, 2).toLongArray());
        assertArrayEquals(
                new double[] {1e300, -0.5},
                HostTensor.ofDoubles(new double[] {1e300, -0.5}, 2).toDoubleArray());
        assertArrayEquals(
                new double[] {3, 4}, HostTensor.ofLongs(new long[] {3, 4}, 2).toDoubleArray());
        assertThrows(IllegalStateException.class, () -> HostTensor.ofFloats(new float[] {1}, 1)
                .toLongArray());
    }

    @Test
    void shapeAndByteCountMustAgree() {
        assertThrows(IllegalArgumentException.class, () -> HostTensor.ofFloats(new float[] {1, 2, 3}, 2, 2));
        assertThrows(IllegalArgumentException.class, () -> HostTensor.ofFloats(new float[0], -1));
        HostTensor scalar = HostTensor.ofFloats(new float[] {5}, new long[0]);
        assertEquals(1, scalar.numel());
        assertEquals(0, scalar.rank());
        assertEquals(0, HostTensor.ofFloats(new float[0], 0, 7).numel());
    }

    @Test
    void dataIsReadOnlyAndCopiedFromArrays() {
        float[] values = {1, 2};
        HostTensor t = HostTensor.ofFloats(values, 2);
        values[0] = 99;
        assertEquals(1f, t.toFloatArray()[0]);
        assertTrue(t.data().isReadOnly());
        assertEquals(ByteOrder.LITTLE_ENDIAN, t.data().order());
        long[] shape = t.shape();
        shape[0] = 5;
        assertArrayEquals(new long[] {2}, t.shape());
    }

    @Test
    void equalityIsByContent() {
        HostTensor a = HostTensor.ofFloats(new float[] {1, 2, 3, 4}, 2, 2);
        assertEquals(a, HostTensor.ofFloats(new float[] {1, 2, 3, 4}, 2, 2));
        assertEquals(
                a.hashCode(),
                HostTensor.ofFloats(new float[] {1, 2, 3, 4}, 2, 2).hashCode());
        assertNotEquals(a, HostTensor.ofFloats(new float[] {1, 2, 3, 4}, 4));
        assertNotEquals(a, HostTensor.ofFloats(new float[] {1, 2, 3, 5}, 2, 2));
        assertNotEquals(a, HostTensor.ofInts(new int[] {1, 2, 3, 4}, 2, 2));
        assertEquals("HostTensor[F32 [2, 2]]", a.toString());
    }

    @Test
    void toNDArrayForEveryDtype() {
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray f32 =
                    HostTensor.ofFloats(new float[] {1, 2, 3, 4, 5, 6}, 2, 3).toNDArray(m);
            assertEquals(new Shape(2, 3), f32.getShape());
            assertEquals(DataType.FLOAT32, f32.getDataType());
            assertArrayEquals(new float[] {1, 2, 3, 4, 5, 6}, f32.toFloatArray());

            NDArray bf16 = shorts(DType.BF16, 0x3fc0, 0xc000).toNDArray(m);
            assertEquals(DataType.FLOAT32, bf16.getDataType());
            assertArrayEquals(new float[] {1.5f, -2f}, bf16.toFloatArray());

            NDArray f16 = shorts(DType.F16, 0x3c00, 0xc000).toNDArray(m);
            assertEquals(DataType.FLOAT16, f16.getDataType());
            assertArrayEquals(
                    new float[] {1f, -2f}, f16.toType(DataType.FLOAT32, false).toFloatArray());

            NDArray i16 = shorts(DType.I16, 0x8000, 9).toNDArray(m);
            assertEquals(DataType.INT32, i16.getDataType());
            assertArrayEquals(new int[] {-32768, 9}, i16.toIntArray());

            assertArrayEquals(
                    new long[] {-7, 1L << 40},
                    HostTensor.ofLongs(new long[] {-7, 1L << 40}, 2)
                            .toNDArray(m)
                            .toLongArray());
            assertArrayEquals(
                    new int[] {-7, 8},
                    HostTensor.ofInts(new int[] {-7, 8}, 2).toNDArray(m).toIntArray());
            assertArrayEquals(
                    new double[] {0.1},
                    HostTensor.ofDoubles(new double[] {0.1}, 1).toNDArray(m).toDoubleArray());
            NDArray u8 =
                    HostTensor.ofBytes(DType.U8, new byte[] {(byte) 200, 1}, 2).toNDArray(m);
            assertEquals(DataType.UINT8, u8.getDataType());
            assertArrayEquals(
                    new int[] {200, 1}, u8.toType(DataType.INT32, false).toIntArray());
            NDArray i8 = HostTensor.ofBytes(DType.I8, new byte[] {-3, 4}, 2).toNDArray(m);
            assertArrayEquals(new byte[] {-3, 4}, i8.toByteArray());
            NDArray bool =
                    HostTensor.ofBytes(DType.BOOL, new byte[] {1, 0, 1}, 3).toNDArray(m);
            assertArrayEquals(new boolean[] {true, false, true}, bool.toBooleanArray());

            NDArray scalar = HostTensor.ofFloats(new float[] {3}, new long[0]).toNDArray(m);
            assertEquals(new Shape(), scalar.getShape());
            assertEquals(3f, scalar.getFloat());
            assertEquals(
                    new Shape(0, 4),
                    HostTensor.ofFloats(new float[0], 0, 4).toNDArray(m).getShape());
        }
    }

    /** Arrays made from memory-mapped tensors stay valid after the mapping is gone and after GC. */
    @Test
    void toNDArrayFromAMappedFileOwnsItsData() throws IOException {
        Map<String, HostTensor> tensors = new LinkedHashMap<>();
        float[] values = new float[1000];
        for (int i = 0; i < values.length; i++) {
            values[i] = i * 0.5f;
        }
        tensors.put("x", HostTensor.ofFloats(values, 10, 100));
        Path file = tmp.resolve("x.safetensors");
        Safetensors.write(file, tensors, Map.of());
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray a = Safetensors.read(file).get("x").toNDArray(m);
            System.gc();
            NDArray sum = a.sum();
            assertEquals(249750f, sum.getFloat(), 0f);
            assertArrayEquals(values, a.toFloatArray());
        }
    }

    @Test
    void fromNDArrayCopiesAnyLayout() {
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray a = m.arange(6f).reshape(2, 3).transpose();
            HostTensor t = HostTensor.fromNDArray(a);
            assertEquals(DType.F32, t.dtype());
            assertArrayEquals(new long[] {3, 2}, t.shape());
            assertArrayEquals(new float[] {0, 3, 1, 4, 2, 5}, t.toFloatArray());
            HostTensor longs = HostTensor.fromNDArray(m.create(new long[] {5, -6}));
            assertEquals(HostTensor.ofLongs(new long[] {5, -6}, 2), longs);
            HostTensor bools = HostTensor.fromNDArray(m.create(new boolean[] {true, false}));
            assertEquals(DType.BOOL, bools.dtype());
            HostTensor back = HostTensor.fromNDArray(
                    HostTensor.ofFloats(new float[] {1, 2}, 1, 2).toNDArray(m));
            assertEquals(HostTensor.ofFloats(new float[] {1, 2}, 1, 2), back);
        }
    }
}
