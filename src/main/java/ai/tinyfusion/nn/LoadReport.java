package ai.tinyfusion.nn;

import ai.djl.ndarray.NDArray;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** What a state-dict load found: keys the model wanted but did not get, extra keys, shape clashes. */
public record LoadReport(List<String> missing, List<String> unexpected, List<String> mismatched) {

    static LoadReport compare(Map<String, Parameter> own, Map<String, NDArray> source) {
        List<String> missing = new ArrayList<>();
        List<String> mismatched = new ArrayList<>();
        for (Map.Entry<String, Parameter> e : own.entrySet()) {
            NDArray v = source.get(e.getKey());
            if (v == null) {
                missing.add(e.getKey());
            } else if (!v.getShape().equals(e.getValue().value().getShape())) {
                mismatched.add(e.getKey() + ": checkpoint " + v.getShape() + " vs model "
                        + e.getValue().value().getShape());
            }
        }
        List<String> unexpected = new ArrayList<>();
        for (String k : source.keySet()) {
            if (!own.containsKey(k)) {
                unexpected.add(k);
            }
        }
        return new LoadReport(missing, unexpected, mismatched);
    }

    public boolean isClean() {
        return missing.isEmpty() && unexpected.isEmpty() && mismatched.isEmpty();
    }

    /** A multi-line description listing at most 20 keys per kind. */
    public String describe() {
        StringBuilder sb = new StringBuilder();
        append(sb, "missing keys", missing);
        append(sb, "unexpected keys", unexpected);
        append(sb, "shape mismatches", mismatched);
        return sb.length() == 0 ? "all keys match" : sb.toString().stripTrailing();
    }

    private static void append(StringBuilder sb, String what, List<String> keys) {
        if (keys.isEmpty()) {
            return;
        }
        sb.append(what).append(" (").append(keys.size()).append("):\n");
        keys.stream().limit(20).forEach(k -> sb.append("  ").append(k).append('\n'));
        if (keys.size() > 20) {
            sb.append("  ... and ").append(keys.size() - 20).append(" more\n");
        }
    }
}
