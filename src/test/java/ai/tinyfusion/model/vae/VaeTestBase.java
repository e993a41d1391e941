package ai.tinyfusion.model.vae;

import ai.djl.ndarray.NDManager;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/** One manager per test class; tests work in sub-managers of it. */
abstract class VaeTestBase {
    protected static NDManager m;

    @BeforeAll
    static void openManager() {
        m = NDManager.newBaseManager();
    }

    @AfterAll
    static void closeManager() {
        m.close();
    }
}
