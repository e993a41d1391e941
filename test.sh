#!/usr/bin/env bash
# The README's test command: installs what the tests need (the Debian Fashion-MNIST package),
# then runs the whole JUnit suite through Maven. Expects ../shared/fixtures/reference (see README).
set -euo pipefail
cd "$(dirname "$0")"
./scripts/setup.sh --quiet
mvn -B test "$@"
