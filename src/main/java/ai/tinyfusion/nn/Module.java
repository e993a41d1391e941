package ai.tinyfusion.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BiConsumer;

/**
 * A minimal PyTorch-style module: named parameters and named children, registered in order, so
 * that {@link #stateDict()} yields exactly the dotted keys the original PyTorch code uses
 * ({@code blocks.3.attn.qkv.weight}). Forward methods are plain Java methods on subclasses.
 */
public abstract class Module {
    private final Map<String, Parameter> params = new LinkedHashMap<>();
    private final Map<String, Module> children = new LinkedHashMap<>();
    private final List<NDArray> buffers = new ArrayList<>();
    protected final NDManager manager;

    protected Module(NDManager manager) {
        this.manager = manager;
    }

    public NDManager manager() {
        return manager;
    }

    /** Registers a parameter owned by this module. */
    protected Parameter param(String name, NDArray value, boolean trainable) {
        if (params.containsKey(name) || children.containsKey(name)) {
            throw new IllegalStateException("duplicate name " + name);
        }
        value.attach(manager);
        Parameter p = new Parameter(name, value, trainable);
        params.put(name, p);
        return p;
    }

    /**
     * Registers a constant array that forward passes use but that is not part of the state dict
     * (e.g. frequency tables, LayerNorm's unit gamma). It joins {@link #arrays()} so that
     * {@link #useIn} scopes it like the parameters.
     */
    protected NDArray buffer(NDArray value) {
        value.attach(manager);
        buffers.add(value);
        return value;
    }

    /** Registers a child module under {@code name}. */
    protected <M extends Module> M child(String name, M module) {
        if (params.containsKey(name) || children.containsKey(name)) {
            throw new IllegalStateException("duplicate name " + name);
        }
        children.put(name, module);
        return module;
    }

    /** Removes a child (used when a block list is rebuilt, e.g. after pruning). */
    protected void removeChild(String name) {
        children.remove(name);
    }

    public Map<String, Module> children() {
        return Collections.unmodifiableMap(children);
    }

    /** Every parameter of this module and its descendants, keyed by dotted state-dict name. */
    public LinkedHashMap<String, Parameter> namedParameters() {
        LinkedHashMap<String, Parameter> out = new LinkedHashMap<>();
        visit("", (prefix, m) -> m.params.forEach((n, p) -> out.put(prefix + n, p)));
        return out;
    }

    /** Every module, keyed by dotted name ("" is this module). */
    public LinkedHashMap<String, Module> namedModules() {
        LinkedHashMap<String, Module> out = new LinkedHashMap<>();
        visit("", (prefix, m) -> out.put(prefix.isEmpty() ? "" : prefix.substring(0, prefix.length() - 1), m));
        return out;
    }

    private void visit(String prefix, BiConsumer<String, Module> fn) {
        fn.accept(prefix, this);
        children.forEach((n, c) -> c.visit(prefix + n + ".", fn));
    }

    /** Every parameter and buffer array of this module tree. */
    public List<NDArray> arrays() {
        List<NDArray> out = new ArrayList<>();
        visit("", (prefix, m) -> {
            m.params.values().forEach(p -> out.add(p.value()));
            out.addAll(m.buffers);
        });
        return out;
    }

    /**
     * Temporarily attaches every array of this module to {@code step} so that results of operations
     * on them belong to {@code step} and are freed when it closes; the arrays return to the module's
     * own manager afterwards (djl-notes, sharp edge 2). Call once per step scope.
     */
    public void useIn(NDManager step) {
        step.tempAttachAll(arrays().toArray(new NDArray[0]));
    }

    /**
     * The first 16 hex digits of a SHA-256 over the state dict's names and values in order: equal
     * for equal weights, different (in practice) otherwise; keys caches of features.
     */
    public String stateFingerprint() {
        try {
            java.security.MessageDigest md = java.security.MessageDigest.getInstance("SHA-256");
            stateDict().forEach((k, v) -> {
                md.update(k.getBytes(java.nio.charset.StandardCharsets.UTF_8));
                md.update(v.toByteArray());
            });
            return java.util.HexFormat.of().formatHex(md.digest()).substring(0, 16);
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The state dict: key → value (the live arrays, not copies). */
    public LinkedHashMap<String, NDArray> stateDict() {
        LinkedHashMap<String, NDArray> out = new LinkedHashMap<>();
        namedParameters().forEach((k, p) -> out.put(k, p.value()));
        return out;
    }

    /** The trainable parameters' arrays, in registration order. */
    public List<NDArray> trainableArrays() {
        List<NDArray> out = new ArrayList<>();
        namedParameters().values().stream().filter(Parameter::trainable).forEach(p -> out.add(p.value()));
        return out;
    }

    /** Attaches gradients to trainable parameters and detaches them from frozen ones. */
    public void attachGradients() {
        for (Parameter p : namedParameters().values()) {
            p.value().setRequiresGradient(p.trainable());
        }
    }

    /** Number of scalar values in all parameters (trainable or not). */
    public long parameterCount() {
        return namedParameters().values().stream().mapToLong(Parameter::numel).sum();
    }

    /** Number of scalar values in trainable parameters. */
    public long trainableParameterCount() {
        return namedParameters().values().stream()
                .filter(Parameter::trainable)
                .mapToLong(Parameter::numel)
                .sum();
    }

    /**
     * Copies {@code source} into this module's parameters.
     *
     * @param strict when true, any missing, unexpected or mis-shaped key fails the load and nothing
     *     is changed; when false, matching keys are loaded and the rest is reported
     */
    public LoadReport loadStateDict(Map<String, NDArray> source, boolean strict) {
        LinkedHashMap<String, Parameter> own = namedParameters();
        LoadReport report = LoadReport.compare(own, source);
        if (strict && !report.isClean()) {
            throw new IllegalArgumentException("state dict does not match the model:\n" + report.describe());
        }
        for (Map.Entry<String, Parameter> e : own.entrySet()) {
            NDArray v = source.get(e.getKey());
            if (v != null && v.getShape().equals(e.getValue().value().getShape())) {
                e.getValue().set(v);
            }
        }
        return report;
    }
}
