package ai.tinyfusion.io;

/**
 * A tensor as a pickle describes it: a strided view into a storage. Its data is read later, by
 * {@link TorchCheckpoint}.
 *
 * @param storage the storage the view reads
 * @param offset  element index of the first element in the storage
 * @param shape   sizes
 * @param strides strides in elements
 */
public record TorchTensorRef(TorchStorageRef storage, long offset, long[] shape, long[] strides) {}
