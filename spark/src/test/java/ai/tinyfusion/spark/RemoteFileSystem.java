package ai.tinyfusion.spark;

import java.net.URI;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.RawLocalFileSystem;

/**
 * The local disk under a scheme of its own ({@code remote:///...}), registered with {@code fs.remote.impl}: to Spark
 * and to {@link HadoopFiles} a file system that is not local, as HDFS or S3 are, so that copying inputs to each
 * machine runs in the tests.
 */
public final class RemoteFileSystem extends RawLocalFileSystem {
    static final String SCHEME = "remote";

    @Override
    public URI getUri() {
        return URI.create(SCHEME + ":///");
    }

    @Override
    public String getScheme() {
        return SCHEME;
    }

    @Override
    protected void checkPath(Path path) {
        String scheme = path.toUri().getScheme();
        if (scheme != null && !scheme.equals(SCHEME)) {
            throw new IllegalArgumentException("not a " + SCHEME + ": path: " + path);
        }
    }

    @Override
    public java.io.File pathToFile(Path path) {
        return new java.io.File(path.toUri().getPath());
    }
}
