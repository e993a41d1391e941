package ai.tinyfusion.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.tinyfusion.Fixtures;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class StateDictsTest {
    @TempDir
    Path tmp;

    @Test
    void torchCheckpointConvertsToSafetensorsAndBack() throws IOException {
        LinkedHashMap<String, HostTensor> sd = StateDicts.load(Fixtures.reference("dit_small.pt"));
        assertEquals(52, sd.size());
        assertArrayEquals(new long[] {1, 16, 64}, sd.get("pos_embed").shape());
        Path out = tmp.resolve("dit_small.safetensors");
        StateDicts.save(out, sd, Map.of("source", "dit_small.pt"));
        LinkedHashMap<String, HostTensor> back = StateDicts.load(out);
        assertEquals(List.copyOf(sd.keySet()), List.copyOf(back.keySet()));
        assertEquals(sd, back);
        assertEquals(Map.of("source", "dit_small.pt"), Safetensors.readMetadata(out));
    }

    @Test
    void formatIsDetectedByContentNotName() throws IOException {
        Map<String, HostTensor> tensors = Map.of("w", HostTensor.ofFloats(new float[] {1, 2}, 2));
        Path safetensorsAsBin = tmp.resolve("pytorch_model.bin");
        StateDicts.save(safetensorsAsBin, tensors, null);
        assertEquals(tensors, StateDicts.load(safetensorsAsBin));

        Path torchAsSafetensors = tmp.resolve("model.safetensors");
        Files.copy(Fixtures.reference("dit_small.pt"), torchAsSafetensors);
        assertEquals(52, StateDicts.load(torchAsSafetensors).size());

        Path npz = tmp.resolve("weights.pth");
        Npz.write(npz, tensors);
        assertEquals(tensors, StateDicts.load(npz));
        assertEquals(31, StateDicts.load(Fixtures.reference("dit_small-io.npz")).size());
    }

    @Test
    void safetensorsWhoseHeaderLengthStartsWithByte0x80IsNotTakenForAPickle() throws IOException {
        // The first byte of a safetensors file is the low byte of its header length; find metadata
        // padding that makes it 0x80 (the pickle protocol opcode) and check the file still loads.
        Map<String, HostTensor> tensors = Map.of("w", HostTensor.ofFloats(new float[] {1, 2}, 2));
        Path file = tmp.resolve("odd.safetensors");
        for (int pad = 0; pad < 300; pad++) {
            Safetensors.write(file, tensors, Map.of("pad", "x".repeat(pad)));
            if ((Files.readAllBytes(file)[0] & 0xff) == 0x80) {
                assertEquals(tensors.get("w"), StateDicts.load(file).get("w"));
                return;
            }
        }
        throw new AssertionError("no padding produced a header length with low byte 0x80");
    }

    @Test
    void directoriesAndIndexes() throws IOException {
        Map<String, HostTensor> tensors = new LinkedHashMap<>();
        tensors.put("a", HostTensor.ofFloats(new float[] {1, 2}, 2));
        tensors.put("b", HostTensor.ofLongs(new long[] {3}, 1));
        Path index = Safetensors.writeSharded(tmp.resolve("ckpt"), "model", tensors, null, 8);
        assertEquals(tensors, StateDicts.load(index));
        assertEquals(tensors, StateDicts.load(tmp.resolve("ckpt")));
    }

    @Test
    void errorsNameTheFile() throws IOException {
        Path garbage = Files.writeString(tmp.resolve("weights.ckpt"), "this is not a checkpoint");
        IOException e = assertThrows(IOException.class, () -> StateDicts.load(garbage));
        assertTrue(e.getMessage().startsWith(garbage + ": unrecognised checkpoint format"), e.getMessage());

        Path missing = tmp.resolve("nope.pt");
        e = assertThrows(NoSuchFileException.class, () -> StateDicts.load(missing));
        assertTrue(e.getMessage().contains(missing.toString()), e.getMessage());

        Path legacy = Files.write(tmp.resolve("old.pth"), new byte[] {(byte) 0x80, 2, (byte) 0x8a, 10});
        e = assertThrows(IOException.class, () -> StateDicts.load(legacy));
        assertTrue(e.getMessage().startsWith(legacy + ": legacy"), e.getMessage());

        Path empty = Files.write(tmp.resolve("empty.safetensors"), new byte[0]);
        e = assertThrows(IOException.class, () -> StateDicts.load(empty));
        assertTrue(e.getMessage().startsWith(empty.toString()), e.getMessage());
    }
}
