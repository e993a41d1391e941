package ai.tinyfusion.spark;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Pattern;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;

/**
 * Input files named by a URI that every executor can read: a local path (used in place) or any file system Hadoop
 * knows ({@code hdfs://}, {@code s3a://}, ...), copied once per machine into a local cache and read from there. Model
 * weights travel this way, never inside a task's closure.
 */
final class HadoopFiles {
    private static final Pattern SCHEME = Pattern.compile("^[A-Za-z][A-Za-z0-9+.-]*:.*");
    /** System property: the directory of the local copies (default: {@code java.io.tmpdir}/tinyfusion-spark). */
    static final String CACHE_PROPERTY = "tinyfusion.spark.cache";

    private HadoopFiles() {}

    /** Whether {@code name} is a plain path or a {@code file:} URI (or a preset name: anything without a scheme). */
    static boolean isLocal(String name) {
        return !SCHEME.matcher(name).matches() || name.startsWith("file:");
    }

    /** The Hadoop configuration a driver's context holds, as plain strings a task can carry. */
    static Map<String, String> entries(Configuration conf) {
        Map<String, String> out = new LinkedHashMap<>();
        for (Map.Entry<String, String> e : conf) {
            out.put(e.getKey(), e.getValue());
        }
        return out;
    }

    /**
     * A local path for {@code name}: itself when it is local ({@code file:} stripped), else a local copy of the file
     * or folder, made once per machine (keyed by the URI, size and modification time; written under a temporary name
     * and renamed, so concurrent tasks never read a partial copy).
     */
    static String localize(String name, Map<String, String> hadoopConf) {
        if (isLocal(name)) {
            return name.startsWith("file:")
                    ? new org.apache.hadoop.fs.Path(name).toUri().getPath()
                    : name;
        }
        Configuration conf = new Configuration();
        hadoopConf.forEach(conf::set);
        try {
            org.apache.hadoop.fs.Path remote = new org.apache.hadoop.fs.Path(name);
            FileSystem fs = remote.getFileSystem(conf);
            FileStatus status = fs.getFileStatus(remote);
            String key = sha256(name + "\n" + status.getLen() + "\n" + status.getModificationTime());
            Path dir = cacheRoot().resolve(key.substring(0, 24));
            Path local = dir.resolve(remote.getName());
            synchronized (HadoopFiles.class) {
                if (!Files.exists(local)) {
                    Files.createDirectories(dir);
                    Path tmp = Files.createTempDirectory(dir, ".copy-");
                    Path staged = tmp.resolve(remote.getName());
                    fs.copyToLocalFile(false, remote, new org.apache.hadoop.fs.Path(staged.toUri()), true);
                    try {
                        Files.move(staged, local, StandardCopyOption.ATOMIC_MOVE);
                    } catch (java.nio.file.FileAlreadyExistsException | java.nio.file.DirectoryNotEmptyException e) {
                        // another process on this machine finished the same copy first
                    }
                    deleteTree(tmp);
                }
            }
            return local.toString();
        } catch (IOException e) {
            throw new UncheckedIOException(name + ": cannot copy it to this machine (" + e.getMessage() + ")", e);
        }
    }

    private static Path cacheRoot() {
        String dir = System.getProperty(CACHE_PROPERTY);
        return dir != null && !dir.isBlank()
                ? Path.of(dir)
                : Path.of(System.getProperty("java.io.tmpdir"), "tinyfusion-spark");
    }

    private static void deleteTree(Path p) throws IOException {
        if (Files.isDirectory(p)) {
            try (var children = Files.list(p)) {
                for (Path c : (Iterable<Path>) children::iterator) {
                    deleteTree(c);
                }
            }
        }
        Files.deleteIfExists(p);
    }

    private static String sha256(String s) {
        try {
            return HexFormat.of()
                    .formatHex(MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
