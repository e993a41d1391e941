package ai.tinyfusion.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.tinyfusion.io.DType;
import ai.tinyfusion.io.HostTensor;
import ai.tinyfusion.io.Npy;
import ai.tinyfusion.io.Npz;
import java.awt.image.BufferedImage;
import java.io.StringWriter;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.Map;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code tinyfusion sample}: pixel models as before, latent models through a VAE. */
class SampleCommandTest {
    @TempDir
    Path tmp;

    /**
     * A tiny Fashion-MNIST-shaped model samples to exactly the bytes the command wrote before latent
     * models could be decoded (hashes recorded at commit e0cb45a).
     */
    @Test
    void pixelModelOutputIsByteIdenticalToBefore() throws Exception {
        Path out = tmp.resolve("pixel");
        StringWriter err = new StringWriter();
        int code = CliRun.run(
                err,
                "sample",
                "-m",
                "DiT-F7",
                "--preset-depth",
                "2",
                "--hidden",
                "32",
                "--heads",
                "2",
                "-n",
                "4",
                "--steps",
                "3",
                "--cfg",
                "2",
                "--batch",
                "3",
                "--out",
                out.toString());
        assertEquals(0, code, err.toString());
        Map<String, HostTensor> npz = Npz.read(out.resolve("samples.npz"));
        assertArrayEquals(new long[] {4, 28, 28, 1}, npz.get("arr_0").shape());
        assertArrayEquals(new long[] {0, 1, 2, 3}, npz.get("arr_1").toLongArray());
        assertEquals(
                "17a1de9d287cf742844d76f5ee5e2e420befb0dbce52ddf02daf1217b2cbd416",
                sha256(npz.get("arr_0").data()));
        assertEquals(
                "a950a1b8ed3df24d0e495361eb9d22a2acc9d646f78eb924577258f53927e807",
                sha256(ByteBuffer.wrap(Files.readAllBytes(out.resolve("grid.png")))));
    }

    /** A tiny latent DiT: 8×8×4 latents (64-pixel images through a factor-8 VAE), one block. */
    static final String[] LATENT_MODEL = {
        "sample",
        "-m",
        "DiT-S/8",
        "--image-size",
        "64",
        "--patch",
        "2",
        "--preset-depth",
        "1",
        "--hidden",
        "32",
        "--heads",
        "2",
        "--num-classes",
        "4",
        "-n",
        "2",
        "--steps",
        "2",
        "--cfg",
        "2",
        "--batch",
        "1"
    };

    static String[] latentSample(String... more) {
        String[] args = java.util.Arrays.copyOf(LATENT_MODEL, LATENT_MODEL.length + more.length);
        System.arraycopy(more, 0, args, LATENT_MODEL.length, more.length);
        return args;
    }

    @Test
    void latentModelWithVaeWritesRgbImagesAsTheLatentsDecoded() throws Exception {
        String vae = VaeCommandTest.fixture("sd_small-diffusers").toString();
        Path out = tmp.resolve("rgb");
        VaeCommandTest.ok(latentSample("--vae", vae, "--decode-batch", "1", "--out", out.toString()));
        Map<String, HostTensor> npz = Npz.read(out.resolve("samples.npz"));
        HostTensor images = npz.get("arr_0");
        assertEquals(DType.U8, images.dtype());
        assertArrayEquals(new long[] {2, 64, 64, 3}, images.shape());
        assertArrayEquals(new long[] {0, 1}, npz.get("arr_1").toLongArray());
        BufferedImage grid = ImageIO.read(out.resolve("grid.png").toFile());
        assertTrue(grid.getWidth() > 128 && grid.getHeight() > 64, grid.getWidth() + "x" + grid.getHeight());

        // The same samples as float latents, decoded by `vae decode` in one batch: the very same bytes.
        Path lat = tmp.resolve("lat");
        VaeCommandTest.ok(latentSample("--latents-only", "--out", lat.toString()));
        HostTensor latents = Npy.read(lat.resolve("latents.npy"));
        assertEquals(DType.F32, latents.dtype());
        assertArrayEquals(new long[] {2, 4, 8, 8}, latents.shape());
        assertArrayEquals(new long[] {0, 1}, Npy.read(lat.resolve("labels.npy")).toLongArray());
        assertFalse(Files.exists(lat.resolve("samples.npz")));
        Path dec = tmp.resolve("dec");
        VaeCommandTest.ok(
                "vae",
                "decode",
                lat.resolve("latents.npy").toString(),
                "--vae",
                vae,
                "--no-png",
                "--out",
                dec.toString());
        assertEquals(images, Npz.read(dec.resolve("samples.npz")).get("arr_0"));
    }

    @Test
    void latentModelWithoutVaeIsRefused() {
        String err = VaeCommandTest.fails(latentSample("--out", tmp.resolve("x").toString()));
        assertTrue(err.contains("4-channel latents") && err.contains("--vae") && err.contains("--latents-only"), err);
        assertFalse(Files.exists(tmp.resolve("x")));
    }

    @Test
    void latentChannelsOtherThanTheVaesAreOneClearError() throws Exception {
        String err = VaeCommandTest.fails(latentSample(
                "--vae", VaeCommandTest.fixture("kl16_small-diffusers").toString(), "--out", tmp.toString()));
        assertTrue(err.contains("has 4 latent channels but the VAE's z has 16"), err);
        assertEquals(1, err.strip().lines().count(), err);
    }

    /** The tiny pixel model of {@link #pixelModelOutputIsByteIdenticalToBefore}, with more options. */
    static String[] pixelSample(String... more) {
        String[] base = {
            "sample", "-m", "DiT-F7", "--preset-depth", "2", "--hidden", "32", "--heads", "2", "--steps", "3"
        };
        String[] args = java.util.Arrays.copyOf(base, base.length + more.length);
        System.arraycopy(more, 0, args, base.length, more.length);
        return args;
    }

    /**
     * Sharded sampling: per-index noise makes the images independent of the batch size and of the shard size;
     * rerunning a finished command does nothing; resuming with another seed is refused.
     */
    @Test
    void shardedSamplesDependOnIndexNotOnBatching() throws Exception {
        Path a = tmp.resolve("a");
        Path b = tmp.resolve("b");
        VaeCommandTest.ok(
                pixelSample("-n", "7", "--cfg", "2", "--batch", "3", "--shard-size", "4", "--out", a.toString()));
        VaeCommandTest.ok(pixelSample(
                "-n", "7", "--cfg", "2", "--batch", "2", "--shard-size", "3", "--keep-shards", "--out", b.toString()));
        Map<String, HostTensor> npzA = Npz.read(a.resolve("samples.npz"));
        assertArrayEquals(new long[] {7, 28, 28, 1}, npzA.get("arr_0").shape());
        assertArrayEquals(new long[] {0, 1, 2, 3, 4, 5, 6}, npzA.get("arr_1").toLongArray());
        assertEquals(npzA.get("arr_0"), Npz.read(b.resolve("samples.npz")).get("arr_0"));
        assertTrue(Files.exists(a.resolve("grid.png")));
        assertFalse(Files.exists(a.resolve("shards/shard-000000.npz")), "shards are deleted after the merge");
        assertTrue(Files.exists(b.resolve("shards/shard-000002.npz")), "--keep-shards keeps them");

        byte[] before = Files.readAllBytes(a.resolve("samples.npz"));
        VaeCommandTest.ok(
                pixelSample("-n", "7", "--cfg", "2", "--batch", "3", "--shard-size", "4", "--out", a.toString()));
        assertArrayEquals(before, Files.readAllBytes(a.resolve("samples.npz")), "a finished run is left as it is");

        String err = VaeCommandTest.fails(pixelSample(
                "-n",
                "7",
                "--cfg",
                "2",
                "--batch",
                "3",
                "--shard-size",
                "4",
                "--sample-seed",
                "1",
                "--out",
                a.toString()));
        assertTrue(err.contains("other settings") && err.contains("seed: 0"), err);
    }

    /** {@code --protocol paper} fills in the original's FID-50K settings; explicit options (here -n, --steps) win. */
    @Test
    void paperProtocolDefaults() throws Exception {
        Path out = tmp.resolve("paper");
        VaeCommandTest.ok(pixelSample("--protocol", "paper", "-n", "3", "--out", out.toString()));
        String manifest = Files.readString(out.resolve("shards/manifest.json"));
        assertTrue(manifest.contains("method=ddpm, steps=3, cfgScale=1.5"), manifest);
        assertTrue(manifest.contains("\"shard_size\": \"1000\""), manifest);
        String err = VaeCommandTest.fails(pixelSample("--protocol", "fast", "--out", out.toString()));
        assertTrue(err.contains("unknown --protocol 'fast'"), err);
    }

    static String sha256(ByteBuffer data) throws Exception {
        MessageDigest md = MessageDigest.getInstance("SHA-256");
        md.update(data.duplicate());
        return HexFormat.of().formatHex(md.digest());
    }
}
