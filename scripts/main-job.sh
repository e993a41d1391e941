#!/usr/bin/env bash
# The main job on the shipped default model (models/dit-f28.safetensors, the Fashion-MNIST DiT-F28
# teacher): sample 1,000 images over uniform classes with classifier-free guidance, then evaluate
# them (FID, sFID, IS, precision/recall, class accuracy) with the shipped feature network.
# Outputs go to out/main-job/. Pruning, recovery and the comparison report join this job as they land.
set -euo pipefail
cd "$(dirname "$0")/.."
out=out/main-job
mkdir -p "$out"
bin/tinyfusion info models/dit-f28.safetensors
bin/tinyfusion sample -m models/dit-f28.safetensors -n "${SAMPLES:-1000}" --cfg 4 --method ddim --steps 50 \
  --batch 100 --out "$out/teacher"
bin/tinyfusion eval "$out/teacher/samples.npz" --json "$out/teacher-metrics.json"
echo "samples: $out/teacher/grid.png, metrics: $out/teacher-metrics.json"
