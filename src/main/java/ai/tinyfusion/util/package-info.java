/**
 * Small helpers with no project dependencies: progress bars, process memory (RSS), PNG line and
 * scatter charts, and the one way enum values are named on the command line ({@link ai.tinyfusion.util.Enums}).
 * Bottom layer: every package may use it; it uses none.
 */
package ai.tinyfusion.util;
