package ai.tinyfusion.model;

import ai.djl.ndarray.*;
import ai.djl.ndarray.types.*;
import org.junit.jupiter.api.Test;
import java.nio.file.*;
import java.util.*;

class ScratchParity {
    @Test
    void run() throws Exception {
        try (NDManager m = NDManager.newBaseManager()) {
            NDList w = NDList.decode(m, Files.readAllBytes(Path.of("/tmp/dit_small_weights.npz")));
            Map<String, NDArray> sd = new LinkedHashMap<>();
            for (NDArray a : w) sd.put(a.getName(), a);
            NDList io = NDList.decode(m, Files.readAllBytes(Path.of("/work/shared/fixtures/reference/dit_small-io.npz")));
            Map<String, NDArray> f = new HashMap<>();
            for (NDArray a : io) f.put(a.getName(), a);
            DiT model = new DiT(m, new DiTConfig(8, 2, 4, 64, 4, 4, 4.0, 10, true, 0.1));
            System.out.println(model.loadStateDict(sd, true).describe());
            NDArray out = model.forward(f.get("fwd_x"), f.get("fwd_t"), f.get("fwd_y"));
            System.out.println("fwd maxdiff " + out.sub(f.get("fwd_out")).abs().max().getFloat());
            NDArray cfg = model.forwardWithCfg(f.get("cfg_x"), f.get("cfg_t"), f.get("cfg_y"), f.get("cfg_scale").getFloat(), 3);
            System.out.println("cfg maxdiff " + cfg.sub(f.get("cfg_out")).abs().max().getFloat());
            System.out.println("params " + model.parameterCount());
        }
    }
}
