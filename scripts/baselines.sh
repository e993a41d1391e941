#!/usr/bin/env bash
# Every baseline pruning method on the shipped teacher to 14 layers, then the N=1000 calibration study
# with every method's mask marked (plus any extra NAME=RECORD marks given as arguments).
set -euo pipefail
cd "$(dirname "$0")/.."
out=${OUT:-out/baselines}
methods=(bi flux-lite sensitivity oracle random first last uniform)
for m in "${methods[@]}"; do
  [ -f "$out/$m.safetensors" ] && continue
  /usr/bin/time -f "$m: %e s wall, %M KB max RSS" bin/tinyfusion prune --method "$m" --depth 14 \
    -m models/dit-f28.safetensors --out "$out/$m.safetensors" 2>&1 | grep -v WARN
done
marks=()
for m in "${methods[@]}"; do marks+=(--mark "$m=$out/$m.safetensors.decision.json"); done
for extra in "$@"; do marks+=(--mark "$extra"); done
/usr/bin/time -f "study: %e s wall, %M KB max RSS" bin/tinyfusion study calibration -m models/dit-f28.safetensors \
  --depth 14 --samples "${STUDY_N:-1000}" "${marks[@]}" --out "$out/study-n${STUDY_N:-1000}" 2>&1 | grep -v WARN
