#!/usr/bin/env bash
# Installs the core library's jar (the thin jar, not the CLI's fat jar) and its pom into the local Maven repository,
# where the Spark module's build (spark/pom.xml) finds it. spark/build.sh and spark/test.sh run it first.
# Extra arguments go to Maven (e.g. -o).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
version="$(sed -n 's:^  <version>\(.*\)</version>:\1:p' pom.xml | head -1)"
[ -n "$version" ] || { echo "cannot read the project version from pom.xml" >&2; exit 1; }
mvn -q -B "$@" -DskipTests compile jar:jar
mvn -q -B "$@" install:install-file -Dfile="target/tinyfusion-java-$version.jar" -DpomFile=pom.xml
