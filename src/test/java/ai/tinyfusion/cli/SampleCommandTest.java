package ai.tinyfusion.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.tinyfusion.io.HostTensor;
import ai.tinyfusion.io.Npz;
import java.io.StringWriter;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.Map;
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

    static String sha256(ByteBuffer data) throws Exception {
        MessageDigest md = MessageDigest.getInstance("SHA-256");
        md.update(data.duplicate());
        return HexFormat.of().formatHex(md.digest());
    }
}
