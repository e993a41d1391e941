/**
 * FID-50K generation and evaluation as Apache Spark jobs (docs/spark.md): {@link ai.tinyfusion.spark.SparkMain}
 * ({@code sample | eval}) is the job jar's main class; {@link ai.tinyfusion.spark.SparkSample} runs one task per shard
 * of {@code tinyfusion sample}'s sharded generation and merges the shards on the driver, byte-identical to the
 * single-machine file; {@link ai.tinyfusion.spark.SparkEval} summarises ranges of the samples on the executors and
 * combines the feature statistics exactly on the driver. The module is a build of its own ({@code spark/pom.xml}) on
 * top of the core jar, with Spark {@code provided}; the core never depends on it.
 */
package ai.tinyfusion.spark;
