package ai.tinyfusion.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.tinyfusion.Fixtures;
import java.io.IOException;
import java.io.InputStream;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NpzTest {
    @TempDir
    Path tmp;

    private static Path resource(String name) throws URISyntaxException {
        return Paths.get(NpzTest.class.getResource(name).toURI());
    }

    private static double sum(HostTensor t) {
        double s = 0;
        for (double v : t.toDoubleArray()) {
            s += v;
        }
        return s;
    }

    @Test
    void referenceFixture() throws IOException {
        LinkedHashMap<String, HostTensor> io = Npz.read(Fixtures.reference("dit_small-io.npz"));
        assertEquals(
                List.of(
                        "fwd_x",
                        "fwd_t",
                        "fwd_y",
                        "fwd_out",
                        "cfg_x",
                        "cfg_t",
                        "cfg_y",
                        "cfg_scale",
                        "cfg_out",
                        "loss_x0",
                        "loss_noise",
                        "loss_t",
                        "loss_y",
                        "loss_mse",
                        "loss_vb",
                        "loss_total",
                        "pmv_x",
                        "pmv_t",
                        "pmv_y",
                        "pmv_mean",
                        "pmv_logvar",
                        "pmv_xstart",
                        "ddim_z",
                        "ddim_y",
                        "ddim_cfg",
                        "ddim_out",
                        "spaced_250",
                        "spaced_ddim10",
                        "fid_feats_a",
                        "fid_feats_b",
                        "fid_value"),
                List.copyOf(io.keySet()));
        HostTensor ddim10 = io.get("spaced_ddim10");
        assertEquals(DType.I64, ddim10.dtype());
        assertArrayEquals(new long[] {0, 100, 200, 300, 400, 500, 600, 700, 800, 900}, ddim10.toLongArray());
        HostTensor spaced250 = io.get("spaced_250");
        assertArrayEquals(new long[] {250}, spaced250.shape());
        assertEquals(124875.0, sum(spaced250));
        HostTensor fid = io.get("fid_value");
        assertEquals(DType.F64, fid.dtype());
        assertEquals(0, fid.rank());
        assertEquals(34.699485644568384, fid.toDoubleArray()[0], 0.0);
        HostTensor cfgScale = io.get("cfg_scale");
        assertEquals(DType.F32, cfgScale.dtype());
        assertArrayEquals(new float[] {4f}, cfgScale.toFloatArray());
        HostTensor fwdX = io.get("fwd_x");
        assertArrayEquals(new long[] {4, 4, 8, 8}, fwdX.shape());
        assertEquals(-16.447295568243135, sum(fwdX), 1e-9);
        assertEquals(-0.38060838f, fwdX.toFloatArray()[0], 1e-7f);
        assertArrayEquals(new long[] {0, 1, 500, 999}, io.get("fwd_t").toLongArray());
        HostTensor feats = io.get("fid_feats_a");
        assertArrayEquals(new long[] {600, 32}, feats.shape());
        assertEquals(-220.94291683503343, sum(feats), 1e-9);
    }

    @Test
    void numpySampleArchivesStoredAndCompressed() throws Exception {
        for (String name : List.of("samples_stored.npz", "samples_compressed.npz")) {
            LinkedHashMap<String, HostTensor> s = Npz.read(resource(name));
            assertEquals(List.of("arr_0", "arr_1"), List.copyOf(s.keySet()), name);
            HostTensor images = s.get("arr_0");
            assertEquals(DType.U8, images.dtype());
            assertArrayEquals(new long[] {2, 4, 4, 3}, images.shape());
            long[] pixels = images.toLongArray();
            for (int i = 0; i < pixels.length; i++) {
                assertEquals(i * 7 % 256, pixels[i]);
            }
            assertArrayEquals(new long[] {3, 9}, s.get("arr_1").toLongArray());
        }
    }

    private static LinkedHashMap<String, HostTensor> admSamples() {
        byte[] pixels = new byte[3 * 8 * 8 * 3];
        for (int i = 0; i < pixels.length; i++) {
            pixels[i] = (byte) (i * 31);
        }
        LinkedHashMap<String, HostTensor> m = new LinkedHashMap<>();
        m.put("arr_0", HostTensor.ofBytes(DType.U8, pixels, 3, 8, 8, 3));
        m.put("arr_1", HostTensor.ofLongs(new long[] {0, 5, 9}, 3));
        m.put("scale", HostTensor.ofDoubles(new double[] {1.5}, new long[0]));
        return m;
    }

    @Test
    void writeAndReadBackStoredAndCompressed() throws IOException {
        LinkedHashMap<String, HostTensor> samples = admSamples();
        Path stored = tmp.resolve("stored.npz");
        Npz.write(stored, samples);
        Path compressed = tmp.resolve("compressed.npz");
        Npz.write(compressed, samples, true);
        assertEquals(samples, Npz.read(stored));
        assertEquals(List.copyOf(samples.keySet()), List.copyOf(Npz.read(stored).keySet()));
        assertEquals(samples, Npz.read(compressed));
        assertTrue(Files.size(compressed) < Files.size(stored));
        try (ZipFile zip = new ZipFile(stored.toFile())) {
            ZipEntry entry = zip.getEntry("arr_0.npy");
            assertEquals(ZipEntry.STORED, entry.getMethod());
            assertEquals(Npz.FIXED_TIME, entry.getTimeLocal()); // same arrays, same bytes: no wall-clock time inside
            try (InputStream in = zip.getInputStream(entry)) {
                assertArrayEquals(Npy.toBytes(samples.get("arr_0")), in.readAllBytes());
            }
        }
        try (ZipFile zip = new ZipFile(compressed.toFile())) {
            assertEquals(ZipEntry.DEFLATED, zip.getEntry("arr_1.npy").getMethod());
        }
    }

    @Test
    void streamHandsOutSlicesOfStoredAndDeflatedMembers() throws IOException {
        byte[] raw = new byte[7 * 5 * 4 * 3];
        for (int i = 0; i < raw.length; i++) {
            raw[i] = (byte) (i * 37 + 11);
        }
        LinkedHashMap<String, HostTensor> arrays = new LinkedHashMap<>();
        arrays.put("arr_0", HostTensor.ofBytes(DType.U8, raw, 7, 5, 4, 3));
        arrays.put("arr_1", HostTensor.ofLongs(new long[] {1, 2, 3, 4, 5, 6, 7}, 7));
        for (boolean compress : new boolean[] {false, true}) {
            Path file = tmp.resolve("stream-" + compress + ".npz");
            Npz.write(file, arrays, compress);
            try (Npz.Archive a = Npz.open(file);
                    NpyStream s = a.stream("arr_0")) {
                assertEquals(DType.U8, s.dtype());
                assertArrayEquals(new long[] {7, 5, 4, 3}, s.shape());
                assertEquals(raw.length, s.dataBytes());
                byte[] got = new byte[raw.length];
                int per = 5 * 4 * 3;
                for (int start = 0; start < 7; start += 3) { // batches of 3, 3, 1 images
                    int b = Math.min(3, 7 - start);
                    s.readFully(got, start * per, b * per);
                    assertEquals((long) (start + b) * per, s.position());
                }
                assertArrayEquals(raw, got);
                IOException past = assertThrows(IOException.class, () -> s.readFully(new byte[1], 0, 1));
                assertTrue(past.getMessage().contains("arr_0.npy"), past.getMessage());
            }
        }
        // A flipped data byte in a stored member is noticed when the last slice is read (CRC-32).
        Path file = tmp.resolve("stream-false.npz");
        byte[] bytes = Files.readAllBytes(file);
        int at = indexOf(bytes, Npy.toBytes(arrays.get("arr_0"))) + 128 + raw.length - 1;
        bytes[at] ^= 1;
        Path flipped = Files.write(tmp.resolve("stream-flipped.npz"), bytes);
        try (Npz.Archive a = Npz.open(flipped);
                NpyStream s = a.stream("arr_0")) {
            byte[] got = new byte[raw.length];
            s.readFully(got, 0, raw.length - 60);
            assertThrows(IOException.class, () -> s.readFully(got, raw.length - 60, 60));
        }
    }

    @Test
    void archiveReadsOnlyTheNamedMember() throws IOException {
        LinkedHashMap<String, HostTensor> samples = admSamples();
        Path file = tmp.resolve("lazy.npz");
        Npz.write(file, samples);
        // Corrupt arr_0's data (CRC mismatch): a lazy read of another member must not notice.
        byte[] bytes = Files.readAllBytes(file);
        byte[] arr0 = Npy.toBytes(samples.get("arr_0"));
        int at = indexOf(bytes, arr0) + arr0.length - 1;
        bytes[at] ^= 0x55;
        Files.write(file, bytes);
        try (Npz.Archive npz = Npz.open(file)) {
            assertEquals(List.copyOf(samples.keySet()), npz.keys());
            assertTrue(npz.contains("arr_1"));
            assertEquals(samples.get("arr_1"), npz.get("arr_1"));
            IOException missing = assertThrows(IOException.class, () -> npz.get("arr_9"));
            assertTrue(
                    missing.getMessage().contains("arr_9")
                            && missing.getMessage().contains("arr_1"),
                    missing.getMessage());
            assertThrows(IOException.class, () -> npz.get("arr_0"));
        }
    }

    private static int indexOf(byte[] haystack, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= haystack.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (haystack[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        throw new AssertionError("not found");
    }

    @Test
    void bf16CannotBeWrittenAndTheKeyIsNamed() {
        Map<String, HostTensor> m = Map.of("w", HostTensor.ofBytes(DType.BF16, new byte[] {0, 0x3f}, 1));
        Path file = tmp.resolve("bf.npz");
        IOException e = assertThrows(IOException.class, () -> Npz.write(file, m));
        assertTrue(e.getMessage().contains(file + ":w"), e.getMessage());
        assertTrue(Files.notExists(file));
    }

    @Test
    void corruptArchives() throws IOException {
        byte[] fixture = Files.readAllBytes(Fixtures.reference("dit_small-io.npz"));
        Path half = Files.write(tmp.resolve("half.npz"), Arrays.copyOf(fixture, fixture.length / 2));
        IOException e = assertThrows(IOException.class, () -> Npz.read(half));
        assertTrue(e.getMessage().contains(half + ": corrupt or truncated .npz archive"), e.getMessage());

        Path text = Files.writeString(tmp.resolve("text.npz"), "hello world");
        e = assertThrows(IOException.class, () -> Npz.read(text));
        assertTrue(e.getMessage().contains("not an .npz archive"), e.getMessage());

        // Flip a data byte of a stored member: its CRC no longer matches.
        Path stored = tmp.resolve("s.npz");
        Npz.write(stored, admSamples());
        byte[] bytes = Files.readAllBytes(stored);
        bytes[300] ^= 0x55;
        Path flipped = Files.write(tmp.resolve("flipped.npz"), bytes);
        e = assertThrows(IOException.class, () -> Npz.read(flipped));
        assertTrue(e.getMessage().contains(flipped + ":arr_0.npy"), e.getMessage());

        // A member that is not an array is skipped; a broken .npy member is reported by name.
        Path mixed = TorchZips.writeEntries(
                tmp.resolve("mixed.npz"), new LinkedHashMap<>(Map.of("notes.txt", new byte[] {1, 2})));
        assertEquals(Map.of(), Npz.read(mixed));
        Path broken = TorchZips.writeEntries(tmp.resolve("broken.npz"), Map.of("x.npy", new byte[] {1, 2, 3}));
        e = assertThrows(IOException.class, () -> Npz.read(broken));
        assertTrue(e.getMessage().contains(broken + ":x.npy: not a .npy array"), e.getMessage());
    }
}
