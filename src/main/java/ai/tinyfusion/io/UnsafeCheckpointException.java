package ai.tinyfusion.io;

import java.io.IOException;

/**
 * A pickle stream asked for a Python global outside the state-dict allow-list. Nothing was
 * executed: the reader stops at the first such global.
 */
public class UnsafeCheckpointException extends IOException {
    private static final long serialVersionUID = 1L;

    /** Creates the exception with a message that names the refused global. */
    public UnsafeCheckpointException(String message) {
        super(message);
    }
}
