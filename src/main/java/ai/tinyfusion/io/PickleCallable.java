package ai.tinyfusion.io;

import java.io.IOException;

/**
 * What an allowed pickle global stands for: a Java function that builds a plain value from the
 * arguments of a REDUCE or NEWOBJ opcode. Nothing is instantiated by reflection.
 */
@FunctionalInterface
public interface PickleCallable {
    /** Builds the value for {@code args} (the pickled argument tuple). */
    Object call(PickleTuple args) throws IOException;
}
