#!/usr/bin/env bash
# The Spark module's tests (a real Spark in local mode, not a mock): installs the core jar, then runs them.
# Needs the shipped models/ and the Fashion-MNIST package (./scripts/setup.sh) like the core tests.
# Extra arguments go to Maven (e.g. -o, -Dtest=SparkJobsTest#...).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
"$here/install-core.sh" "$@"
cd "$here"
mvn -B "$@" test
