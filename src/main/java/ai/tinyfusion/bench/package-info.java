/**
 * Speed and memory measurement: forward / forward+backward / CFG sampling throughput of models measured
 * interleaved ({@code SpeedBench}), and the learned search's step cost against a plain training step
 * ({@code SearchStepBench}). No original counterpart (the paper's speedups are measured this way).
 */
package ai.tinyfusion.bench;
