package ai.tinyfusion.cli;

import ai.tinyfusion.prune.Target;
import picocli.CommandLine.Option;

/** The pruning target shared by prune and study: a kept layer count and/or an N:M pattern. */
public final class TargetOptions {
    @Option(names = "--depth", description = "Layers to keep (K of the model's L).")
    Integer depth;

    @Option(
            names = "--pattern",
            description =
                    "N:M repeated over the depth (1:2, 2:4, 7:14, 1:4), or a comma list of N:M blocks whose M's sum "
                            + "to the depth (2:4,2:4,3:4,...); score-based methods then keep the best N of every M.")
    String pattern;

    boolean given() {
        return depth != null || pattern != null;
    }

    /** The target for a model of {@code modelDepth} layers (errors name the problem). */
    Target resolve(int modelDepth) {
        return Target.of(depth, pattern, modelDepth);
    }
}
