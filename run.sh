#!/usr/bin/env bash
# First README command: set up (Debian Fashion-MNIST package, build) and run the main job on the
# shipped default model: learned 1:2 pruning of the Fashion-MNIST teacher, Masked KD recovery,
# sampling, evaluation and the teacher-vs-pruned report (scripts/main-job.sh).
set -euo pipefail
cd "$(dirname "$0")"
./scripts/setup.sh
mvn -q -B package -DskipTests
exec ./scripts/main-job.sh "$@"
