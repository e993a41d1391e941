package ai.tinyfusion.io;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/** Gathers a strided view of a buffer into a new row-major buffer. */
public final class StridedCopy {
    private StridedCopy() {}

    /**
     * Copies the elements of a strided view into a fresh contiguous little-endian heap buffer.
     *
     * @param source   the storage; indices are absolute (its position is ignored)
     * @param offset   element index of the view's first element
     * @param shape    view shape
     * @param strides  view strides in elements (non-negative)
     * @param elemSize bytes per element
     * @throws IllegalArgumentException if the view reaches outside {@code source} or is too large
     *                                  for one buffer
     */
    public static ByteBuffer gather(ByteBuffer source, long offset, long[] shape, long[] strides, int elemSize) {
        long numel = Shapes.numel(shape);
        long maxIndex = Shapes.maxRelativeIndex(shape, strides);
        long totalBytes;
        long end;
        try {
            totalBytes = Math.multiplyExact(numel, (long) elemSize);
            end = offset < 0 ? -1 : Math.multiplyExact(Math.addExact(Math.addExact(offset, maxIndex), 1), elemSize);
        } catch (ArithmeticException e) {
            end = Long.MAX_VALUE;
            totalBytes = Long.MAX_VALUE;
        }
        if (offset < 0 || (numel > 0 && end > source.capacity())) {
            throw new IllegalArgumentException("strided view (offset " + offset + ", shape "
                    + Shapes.format(shape) + ", stride " + Shapes.format(strides)
                    + ") reaches outside its storage of " + source.capacity() / elemSize + " elements");
        }
        if (totalBytes > LoadLimits.BUFFER_MAX) {
            throw new IllegalArgumentException("view of " + totalBytes + " bytes is too large for one buffer");
        }
        byte[] out = new byte[(int) totalBytes];
        if (numel > 0) {
            copy(source, offset, shape, strides, elemSize, out);
        }
        return ByteBuffer.wrap(out).order(ByteOrder.LITTLE_ENDIAN);
    }

    private static void copy(ByteBuffer source, long offset, long[] shape, long[] strides, int elemSize, byte[] out) {
        int rank = shape.length;
        if (rank == 0) {
            source.get((int) (offset * elemSize), out, 0, elemSize);
            return;
        }
        int inner = rank - 1;
        long innerLen = shape[inner];
        long innerStride = strides[inner];
        long[] index = new long[rank];
        long base = offset;
        int outPos = 0;
        while (true) {
            if (innerStride == 1) {
                int len = (int) (innerLen * elemSize);
                source.get((int) (base * elemSize), out, outPos, len);
                outPos += len;
            } else {
                for (long j = 0; j < innerLen; j++) {
                    source.get((int) ((base + j * innerStride) * elemSize), out, outPos, elemSize);
                    outPos += elemSize;
                }
            }
            // Odometer over the outer dimensions.
            int d = inner - 1;
            while (d >= 0) {
                index[d]++;
                base += strides[d];
                if (index[d] < shape[d]) {
                    break;
                }
                base -= strides[d] * shape[d];
                index[d] = 0;
                d--;
            }
            if (d < 0) {
                return;
            }
        }
    }
}
