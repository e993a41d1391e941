#!/usr/bin/env bash
# One-time set-up: the Debian Fashion-MNIST package (when missing and we are root), and the build.
# Maven fetches the Java dependencies (DJL, the native libtorch jar) from Maven Central itself.
set -euo pipefail
quiet=0; [ "${1:-}" = "--quiet" ] && quiet=1
cd "$(dirname "$0")/.."
data=/usr/share/datasets/fashion-mnist
if [ ! -f "$data/train-images-idx3-ubyte.gz" ] && [ -z "${FASHION_MNIST_DIR:-}" ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "installing Debian package dataset-fashion-mnist ..." >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null || true
    apt-get install -y -qq dataset-fashion-mnist >/dev/null
  else
    echo "Fashion-MNIST is missing: run 'sudo apt-get install dataset-fashion-mnist' or set FASHION_MNIST_DIR" >&2
    exit 1
  fi
fi
[ "$quiet" = 1 ] || echo "set-up done" >&2
