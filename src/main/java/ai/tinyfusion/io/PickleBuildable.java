package ai.tinyfusion.io;

import java.io.IOException;

/** A value built by a {@link PickleCallable} that accepts the state of a later BUILD opcode. */
public interface PickleBuildable {
    /** Applies the pickled state (usually a dict of attributes). */
    void setState(Object state) throws IOException;
}
