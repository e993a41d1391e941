/**
 * Files in and out, without executing foreign code: a restricted pickle reader and PyTorch zip
 * checkpoints (the official {@code DiT-XL-2-256x256.pt}), safetensors (memory-mapped, sharded,
 * over 2 GiB), and the one NumPy codec ({@link ai.tinyfusion.io.Npy}, {@link ai.tinyfusion.io.Npz}:
 * lazy named members, memory-mapped {@code .npy}). Mirrors {@code torch.load}/{@code torch.save},
 * {@code safetensors} and {@code numpy.load}/{@code numpy.savez}. Bottom layer (uses only {@code util}).
 */
package ai.tinyfusion.io;
