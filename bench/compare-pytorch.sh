#!/usr/bin/env bash
# Same-run comparison of our DiT forward with the original PyTorch code (facebookresearch/DiT models.py on
# Debian's python3-torch), same random weights, same thread count, alternating call by call:
#   DiT-XL/2 forward at batch 1 and 2, DiT-F28 CFG denoising call for 200 images (400 rows).
# Usage: bench/compare-pytorch.sh MODELS_PY_OR_DIT_CHECKOUT [THREADS]
#   MODELS_PY_OR_DIT_CHECKOUT: models.py itself, a checkout of facebookresearch/DiT, or a bare git mirror of it.
# Fair BLAS set-up (djl-notes): the Python side runs with OPENBLAS_CORETYPE=SkylakeX OPENBLAS_NUM_THREADS=1 and
# torch.set_num_threads(THREADS); ours with -Dai.djl.pytorch.num_threads=THREADS; both sides share the OpenMP wait
# policy (bin/tinyfusion sets OMP_WAIT_POLICY=PASSIVE unless it is set; the Python child inherits it). Run it on a quiet machine
# (in this project: scripts/paper-budget.sh quiet -- bench/compare-pytorch.sh ...).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
src=${1:?usage: $0 MODELS_PY_OR_DIT_CHECKOUT [THREADS]}
threads=${2:-2}
if [ -f "$src" ]; then
  models=$src
elif [ -f "$src/models.py" ]; then
  models=$src/models.py
else
  models=$(mktemp --suffix=.py)
  trap 'rm -f "$models"' EXIT
  git --git-dir="$src" show HEAD:models.py > "$models" || { echo "no models.py in $src" >&2; exit 1; }
fi
export TINYFUSION_JAVA_OPTS="${TINYFUSION_JAVA_OPTS:--Xmx3g} -Dai.djl.pytorch.num_threads=$threads"
tf="$root/bin/tinyfusion"
# PARTS="xl" or "f28" runs one half (each about 5 minutes on a quiet 2-core machine).
for part in ${PARTS:-xl f28}; do
  case $part in
    xl) "$tf" bench -m DiT-XL/2 --compare-pytorch "$models" --batch 1,2 --warmup 1 --compare-rounds "${XL_ROUNDS:-3}" ;;
    f28) "$tf" bench -m DiT-F28 --compare-pytorch "$models" --batch 200 --cfg-batch 200 --warmup 1 \
      --compare-rounds "${F28_ROUNDS:-5}" ;;
    *) echo "unknown part $part (xl, f28)" >&2; exit 2 ;;
  esac
done
