#!/usr/bin/env bash
# Builds the Spark job jar spark/target/tinyfusion-spark.jar (the core, DJL and the CPU libtorch inside; Spark not,
# spark-submit provides it). Extra arguments go to Maven (e.g. -o).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
"$here/install-core.sh" "$@"
cd "$here"
mvn -q -B "$@" -DskipTests package
echo "$here/target/tinyfusion-spark.jar"
