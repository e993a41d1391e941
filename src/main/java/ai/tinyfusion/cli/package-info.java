/**
 * The {@code tinyfusion} command line (picocli): one command class per subcommand and option mixins
 * shared between them. Top layer: it only reads options and calls the library; every default lives in
 * the library (e.g. {@code LearnedPruning.Options}, {@code DistillTask.Settings}, {@code DiTConfig} presets).
 */
package ai.tinyfusion.cli;
