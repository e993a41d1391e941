#!/usr/bin/env bash
# First README command: set up (Debian Fashion-MNIST package, build) and run the main job on the
# shipped default model. The main job grows with the project; today it samples the shipped
# Fashion-MNIST teacher and evaluates the samples.
set -euo pipefail
cd "$(dirname "$0")"
./scripts/setup.sh
mvn -q -B package -DskipTests
exec ./scripts/main-job.sh "$@"
