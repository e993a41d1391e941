#!/usr/bin/env bash
# Peak memory of loading a DiT-XL/2 checkpoint (issue #21); see LoaderMemory.java and docs/loader-safety.md.
#   tools/loader-memory/run.sh write JAR DIR            writes DIR/dit-xl-2.{safetensors,pt,npz} (2.7 GB each)
#   tools/loader-memory/run.sh write-array JAR DIR      writes DIR/array-1.9g.{npz,pt}: one 1.9 GB float32 array
#   tools/loader-memory/run.sh load JAR FILE [JAVA_OPTS...]        ModelFiles.read(FILE) in a fresh JVM (default -Xmx4g)
#   tools/loader-memory/run.sh load-array JAR FILE [JAVA_OPTS...]  StateDicts.load(FILE), the same way
# JAR is a tinyfusion jar (target/tinyfusion.jar, or one built from an older commit); the tool is
# compiled against it into out/loader-memory/<jar name>/, so the same measuring code runs on any commit.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
mode="${1:?usage: run.sh write|write-array JAR DIR | load|load-array JAR FILE [JAVA_OPTS...]}"
jar="$(cd "$(dirname "$2")" && pwd)/$(basename "$2")"
target="${3:?missing DIR or FILE}"
shift 3
classes="$root/out/loader-memory/$(basename "$jar" .jar)"
mkdir -p "$classes"
if [ ! -f "$classes/LoaderMemory.class" ] || [ "$here/LoaderMemory.java" -nt "$classes/LoaderMemory.class" ]; then
  javac -J-Xmx512m -nowarn -cp "$jar" -d "$classes" "$here/LoaderMemory.java"
fi
case "$mode" in
  write|write-array) exec java -Xmx256m -cp "$classes:$jar" LoaderMemory "$mode" "$target" ;;
  load|load-array) exec java "${@:--Xmx4g}" -Dai.djl.offline=true -Dorg.slf4j.simpleLogger.defaultLogLevel=warn \
          -cp "$classes:$jar" LoaderMemory "$mode" "$target" ;;
  *) echo "unknown mode $mode" >&2; exit 2 ;;
esac
