package ai.tinyfusion.arch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The package layering of the main sources (README, "Layout"), checked over their imports and fully
 * qualified names. A top-level package under {@code ai.tinyfusion} (sub-packages such as
 * {@code model.dit} count as their top-level package) may use only packages listed before it:
 * <pre>
 *   util, io, data, nn  →  model  →  diffusion  →  train  →  prune  →  eval  →  bench  →  cli
 * </pre>
 * so no two top-level packages can depend on each other in a cycle. A new top-level package must be
 * placed in {@link #LAYERS}.
 */
class PackageLayersTest {
    /** Bottom first; a package may depend only on packages earlier in this list. */
    static final List<String> LAYERS =
            List.of("util", "io", "data", "nn", "model", "diffusion", "train", "prune", "eval", "bench", "cli");

    private static final Path MAIN = Path.of("src/main/java/ai/tinyfusion");
    private static final Pattern REFERENCE = Pattern.compile("\\bai\\.tinyfusion\\.([a-z0-9_]+)\\b");
    private static final Pattern COMMENT = Pattern.compile("(?s)/\\*.*?\\*/|//[^\\n]*");

    @Test
    void everyPackageUsesOnlyTheLayersBelowIt() {
        Map<String, Set<String>> graph = graph(MAIN);
        assertTrue(
                graph.keySet().containsAll(List.of("model", "diffusion", "train", "prune", "eval", "cli")),
                graph.toString());
        List<String> unplaced = new ArrayList<>();
        for (String p : graph.keySet()) {
            if (!LAYERS.contains(p)) {
                unplaced.add(p);
            }
        }
        assertTrue(unplaced.isEmpty(), "top-level packages missing from the layering " + LAYERS + ": " + unplaced);
        assertEquals(List.of(), cycles(graph), "package cycles");
        assertEquals(List.of(), upwardEdges(graph), "imports against the layering " + LAYERS);
    }

    @Test
    void theCheckFindsACycleAndAnUpwardEdge() {
        Map<String, Set<String>> g = new TreeMap<>();
        g.put("train", new TreeSet<>(Set.of("prune", "nn")));
        g.put("prune", new TreeSet<>(Set.of("train")));
        g.put("nn", new TreeSet<>());
        assertEquals(List.of("prune -> train -> prune"), cycles(g));
        assertEquals(List.of("train -> prune"), upwardEdges(g));
    }

    /** Top-level package → the top-level packages it references (comments ignored). */
    static Map<String, Set<String>> graph(Path root) {
        Map<String, Set<String>> graph = new TreeMap<>();
        try (Stream<Path> files = Files.walk(root)) {
            for (Path f : (Iterable<Path>) files.filter(p -> p.toString().endsWith(".java"))::iterator) {
                String from = root.relativize(f).getName(0).toString();
                Set<String> to = graph.computeIfAbsent(from, k -> new TreeSet<>());
                Matcher m =
                        REFERENCE.matcher(COMMENT.matcher(Files.readString(f)).replaceAll(""));
                while (m.find()) {
                    if (!m.group(1).equals(from)) {
                        to.add(m.group(1));
                    }
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return graph;
    }

    static List<String> upwardEdges(Map<String, Set<String>> graph) {
        List<String> out = new ArrayList<>();
        graph.forEach((p, deps) -> deps.stream()
                .filter(q -> LAYERS.indexOf(q) >= LAYERS.indexOf(p))
                .forEach(q -> out.add(p + " -> " + q)));
        return out;
    }

    /** One cycle per package that lies on one, each starting from its smallest name. */
    static List<String> cycles(Map<String, Set<String>> graph) {
        Set<String> out = new TreeSet<>();
        for (String start : graph.keySet()) {
            List<String> path = findPath(graph, start, start, new ArrayList<>(List.of(start)), new TreeSet<>());
            if (path != null) {
                int min = path.indexOf(path.stream().min(String::compareTo).orElseThrow());
                List<String> rotated = new ArrayList<>(path.subList(min, path.size() - 1));
                rotated.addAll(path.subList(0, min));
                rotated.add(rotated.get(0));
                out.add(String.join(" -> ", rotated));
            }
        }
        return List.copyOf(out);
    }

    private static List<String> findPath(
            Map<String, Set<String>> graph, String at, String target, List<String> path, Set<String> seen) {
        for (String next : graph.getOrDefault(at, Set.of())) {
            if (next.equals(target)) {
                List<String> found = new ArrayList<>(path);
                found.add(target);
                return found;
            }
            if (seen.add(next)) {
                path.add(next);
                List<String> found = findPath(graph, next, target, path, seen);
                if (found != null) {
                    return found;
                }
                path.remove(path.size() - 1);
            }
        }
        return null;
    }
}
