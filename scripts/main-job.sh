#!/usr/bin/env bash
# The main job: the whole TinyFusion pipeline on the shipped Fashion-MNIST teacher
# (models/dit-f28.safetensors, 28 layers):
#   1. learned 1:2 depth pruning (one epoch, LoRA recoverability)   -> out/main-job/pruned.safetensors
#   2. Masked KD recovery of the 14-layer model (short budget)      -> out/main-job/kd/
#   3. sampling of teacher and pruned model (same seeds, CFG, DDIM)  -> out/main-job/{teacher,pruned}/
#   4. evaluation (FID, sFID, IS, precision/recall, class accuracy)  -> out/main-job/*-metrics.json
#   5. one report table: depth, params, MACs, it/s, speedup, quality -> out/main-job/report.json
# Every stage is skipped when its output exists (delete out/main-job to start over); each is a plain
# `bin/tinyfusion` command that can also be run alone. Knobs: SAMPLES, KD_STEPS, PRUNE_EPOCHS.
#
# --family sit (or FAMILY=sit): the same pipeline for the SiT teacher models/sit-f28.safetensors (TinySiT; made by
# scripts/sit-teacher.sh) into out/main-job-sit: prune and finetune take the SiT objective from the teacher's file
# (Masked KD with SiT's beta 2e-4), sampling is SiT's ODE (Heun, 25 steps = 50 evaluations, CFG 4).
set -euo pipefail
cd "$(dirname "$0")/.."
family=${FAMILY:-dit}
while [ $# -gt 0 ]; do
  case "$1" in
    --family) family=${2:-}; shift 2 || { echo "--family needs a value (dit or sit)" >&2; exit 2; } ;;
    --family=*) family=${1#--family=}; shift ;;
    *) echo "unknown argument '$1' (usage: scripts/main-job.sh [--family dit|sit])" >&2; exit 2 ;;
  esac
done
case "$family" in
  dit)
    out=${OUT:-out/main-job}
    teacher=models/dit-f28.safetensors
    names="teacher DiT-F28,TinyFusion 1:2 + MaskedKD"
    sampler=(--cfg 4 --method ddim --steps 50 --batch 100 --sample-seed 0) ;;
  sit)
    out=${OUT:-out/main-job-sit}
    teacher=models/sit-f28.safetensors
    names="teacher SiT-F28,TinySiT 1:2 + MaskedKD"
    sampler=(--cfg 4 --sampler ode --sampling-method heun2 --steps 26 --batch 100 --sample-seed 0)
    if [ ! -f "$teacher" ]; then
      echo "the SiT teacher $teacher does not exist yet: train it with scripts/sit-teacher.sh start, check it with" \
        "scripts/sit-teacher.sh eval (class accuracy >= 0.75) and ship it with scripts/sit-teacher.sh ship" >&2
      exit 1
    fi ;;
  *) echo "unknown family '$family' (dit, sit)" >&2; exit 2 ;;
esac
samples=${SAMPLES:-500}
kd_steps=${KD_STEPS:-300}
prune_epochs=${PRUNE_EPOCHS:-1}
tf=bin/tinyfusion
mkdir -p "$out"
start=$(date +%s)
stage() { echo; echo "== $1 ($(( $(date +%s) - start )) s elapsed)"; }

stage "1/5 learned 1:2 pruning of $teacher"
if [ ! -f "$out/pruned.safetensors" ]; then
  $tf prune --method learned --pattern 1:2 -m "$teacher" --epochs "$prune_epochs" --batch 128 \
    --out "$out/pruned.safetensors" --run "$out/prune"
fi

stage "2/5 Masked KD recovery ($kd_steps steps)"
if [ ! -f "$out/kd/ema.safetensors" ]; then
  $tf finetune -m "$out/pruned.safetensors" --teacher "$teacher" --kd masked --steps "$kd_steps" --batch 128 \
    --ema-warmup --run "$out/kd"
fi

for who in teacher pruned; do
  model=$teacher
  [ "$who" = pruned ] && model=$out/kd/ema.safetensors
  stage "3/5 sampling $samples images from the $who"
  [ -f "$out/$who/samples.npz" ] || $tf sample -m "$model" -n "$samples" "${sampler[@]}" --out "$out/$who"
  stage "4/5 evaluating the $who"
  [ -f "$out/$who-metrics.json" ] || $tf eval "$out/$who/samples.npz" --json "$out/$who-metrics.json"
done

stage "5/5 report"
$tf report "$teacher" "$out/kd/ema.safetensors" --name "$names" \
  --metrics "$out/teacher-metrics.json,$out/pruned-metrics.json" --batch 100 --steps 50 --json "$out/report.json" \
  | tee "$out/report.txt"
echo "main job done in $(( $(date +%s) - start )) s; grids: $out/teacher/grid.png, $out/pruned/grid.png"
