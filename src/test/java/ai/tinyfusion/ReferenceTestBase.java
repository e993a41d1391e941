package ai.tinyfusion;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.tinyfusion.model.dit.DiT;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/** Loads the reference DiT and its recorded inputs/outputs once per test class. */
public abstract class ReferenceTestBase {
    protected static NDManager m;
    protected static DiT model;
    protected static Map<String, NDArray> io;

    @BeforeAll
    static void loadReference() throws Exception {
        m = NDManager.newBaseManager();
        model = Reference.model(m);
        io = Reference.io(m);
    }

    @AfterAll
    static void closeReference() {
        m.close();
    }
}
