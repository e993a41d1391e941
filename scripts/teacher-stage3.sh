#!/usr/bin/env bash
# Stage 3 of the shipped teacher (docs/teacher.md): 6 more epochs from the shipped stage-2 EMA weights.
# Started in session 2; resumable exactly: scripts/teacher-stage3.sh --resume runs/teacher3
set -euo pipefail
cd "$(dirname "$0")/.."
export OMP_WAIT_POLICY=PASSIVE
exec bin/tinyfusion train -m models/dit-f28.safetensors --run runs/teacher3 --epochs 6 --batch 128 --lr 4e-4 \
  --lr-schedule cosine --lr-min 2e-5 --warmup 100 --ema 0.999 --ema-warmup --ckpt-every 100 --keep 3 \
  --log-every 10 --seed 2 --no-progress "$@"
