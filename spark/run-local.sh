#!/usr/bin/env bash
# Runs the Spark job in local mode without a Spark installation: plain java with the job jar and Spark's jars from
# the local Maven repository (the same Spark the tests use). Builds what is missing first.
#   spark/run-local.sh N sample SAMPLE-OPTIONS...     # local[N]: N executor threads, one libtorch thread each
#   spark/run-local.sh N eval SAMPLES.npz [OPTIONS]
# Environment: SPARK_DRIVER_MEMORY (heap of the one JVM, default 2g), TINYFUSION_SPARK_JAR (a built job jar).
# Memory: every concurrent task holds its own model and one --batch of activations; DiT-F28 at --batch 50 with CFG
# took two tasks in one JVM over 4.7 GB of RSS here, at --batch 20 2.4 GB.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
[ $# -ge 2 ] || { echo "usage: $0 N sample|eval ARGS..." >&2; exit 2; }
cores="$1"; shift
jar="${TINYFUSION_SPARK_JAR:-$here/target/tinyfusion-spark.jar}"
[ -f "$jar" ] || "$here/build.sh" >&2
cp="$here/target/spark.classpath"
if [ ! -s "$cp" ] || [ "$here/pom.xml" -nt "$cp" ]; then
  (cd "$here" && mvn -q -B dependency:build-classpath -Dmdep.includeScope=provided -Dmdep.outputFile=target/spark.classpath) >&2
fi
# What spark-submit adds on Java 17, from the one place it is written down (the pom).
opens="$(sed -n 's:.*<spark.jvm.opens>\(.*\)</spark.jvm.opens>.*:\1:p' "$here/pom.xml")"
export MALLOC_MMAP_THRESHOLD_="${MALLOC_MMAP_THRESHOLD_:-33554432}"
export MALLOC_TRIM_THRESHOLD_="${MALLOC_TRIM_THRESHOLD_:-4000000000}"
export MALLOC_TOP_PAD_="${MALLOC_TOP_PAD_:-268435456}"
# Long network timeouts: on a shared, overloaded machine the one JVM can be starved of CPU for minutes, and the
# default 120 s would have Spark give up on its own local executor.
# shellcheck disable=SC2086
exec java -Xmx"${SPARK_DRIVER_MEMORY:-2g}" $opens -Dspark.master="local[$cores]" -Dspark.ui.enabled=false \
  -Dspark.driver.host=127.0.0.1 -Dspark.driver.bindAddress=127.0.0.1 -Dspark.log.level=WARN \
  -Dspark.network.timeout=600s -Dspark.executor.heartbeatInterval=60s \
  -Dai.djl.offline=true -Dtinyfusion.home="$root" -cp "$jar:$(cat "$cp")" ai.tinyfusion.spark.SparkMain "$@"
