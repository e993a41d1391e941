#!/usr/bin/env bash
# The paper's comparison (TinyFusion Table 3 / Fig. 5) reproduced at small scale on the shipped
# Fashion-MNIST teacher (models/dit-f28.safetensors, 28 layers) -> 14 layers:
#   learned 1:2 (LoRA), learned 2:4 (LoRA), learned 1:2 (full ΔΦ), learned 1:2 (frozen, gates only),
#   BI (ShortGPT), Flux-Lite, sensitivity, BK-SDM oracle, and the min- and median-calibration-loss
#   random masks of the N=1000 calibration study; plus the min- and median-loss masks of the same study
#   restricted to the 1:2 pattern (the learned 1:2 search's own search space).
# Every pruned model is recovered with the SAME budget and method (plain fine-tuning, as the paper's
# Table 3), sampled with the same sampler and seeds, evaluated with the shipped feature network, and
# reported in one speed run. Every stage caches its output under $OUT (default out/experiment) and is
# skipped when done; an interrupted fine-tuning resumes from its newest checkpoint. So the script can be
# re-run across sessions until it completes. Knobs: FT_EPOCHS, SAMPLES, SEARCH_EPOCHS, STUDY_N.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${OUT:-out/experiment}
teacher=models/dit-f28.safetensors
ft_epochs=${FT_EPOCHS:-1}
samples=${SAMPLES:-1000}
search_epochs=${SEARCH_EPOCHS:-1}
study_n=${STUDY_N:-1000}
sampler=(--cfg 4 --method ddim --steps 50 --batch 100 --sample-seed 0)
tf=bin/tinyfusion
mkdir -p "$out/pruned"
log() { echo "[$(date +%H:%M:%S)] $*"; }
sha=$(sha256sum "$teacher" | cut -d' ' -f1)
if [ -f "$out/teacher.sha256" ] && [ "$(cat "$out/teacher.sha256")" != "$sha" ]; then
  echo "error: $out was made from another $teacher (SHA-256 $(cat "$out/teacher.sha256")); move it away to start over" >&2
  exit 1
fi
echo "$sha" > "$out/teacher.sha256"

has_ckpt() { compgen -G "$1/checkpoints/step-*.safetensors" > /dev/null; } # killed before its first checkpoint: start over

prune() { # name, then prune arguments
  local name=$1; shift
  if [ ! -f "$out/pruned/$name.safetensors" ]; then
    log "prune $name"
    local resume=()
    has_ckpt "$out/pruned/$name.run" && resume=(--resume)
    $tf prune -m "$teacher" --out "$out/pruned/$name.safetensors" --run "$out/pruned/$name.run" "$@" "${resume[@]}"
  fi
}

# 1. The four learned variants (one epoch of search each, batch 128) and the score-based baselines.
prune learned-1x2-lora   --method learned --pattern 1:2 --epochs "$search_epochs" --batch 128
prune learned-2x4-lora   --method learned --pattern 2:4 --epochs "$search_epochs" --batch 128
prune learned-1x2-full   --method learned --pattern 1:2 --epochs "$search_epochs" --batch 128 --delta full
prune learned-1x2-frozen --method learned --pattern 1:2 --epochs "$search_epochs" --batch 128 --delta none
for m in bi flux-lite sensitivity oracle; do prune "$m" --method "$m" --depth 14; done
# Ablation (added after the first full run): the learned 1:2 LoRA mask with its first block's choice
# swapped (layer 0 <-> 1), every other layer as the search chose. It isolates that one decision.
kept=$(tr -d ' \n' < "$out/pruned/learned-1x2-lora.safetensors.decision.json" | grep -o '"kept":\[[^]]*\]' | grep -o '[0-9][0-9]*' |
  awk '{ print ($1 == 0 ? 1 : $1 == 1 ? 0 : $1) }' | sort -n | paste -sd,)
prune learned-1x2-lora-swap01 --method indices --keep-layers "$kept"

# 2. The calibration study (N random 14-layer masks), every method's mask marked, quantile masks exported.
#    The same study restricted to the 1:2 pattern (the family the learned 1:2 search chooses from) adds
#    two in-pattern rows: the min- and median-loss 1:2 masks.
methods=(learned-1x2-lora learned-2x4-lora learned-1x2-full learned-1x2-frozen bi flux-lite sensitivity oracle
  learned-1x2-lora-swap01)
marks=()
for m in "${methods[@]}"; do marks+=(--mark "$m=$out/pruned/$m.safetensors.decision.json"); done
study() { # directory, row prefix, then the target arguments
  local dir=$1 prefix=$2; shift 2
  if [ ! -f "$out/$dir/marks.csv" ]; then
    log "calibration study $dir ($*), N=$study_n"
    $tf study calibration -m "$teacher" "$@" --samples "$study_n" "${marks[@]}" --out "$out/$dir"
  fi
  for q in min median; do
    [ -f "$out/pruned/$prefix-$q.safetensors" ] || {
      cp "$out/$dir/random-$q.safetensors" "$out/pruned/$prefix-$q.safetensors"
      cp "$out/$dir/random-$q.safetensors.decision.json" "$out/pruned/$prefix-$q.safetensors.decision.json"; }
  done
}
study study random --depth 14
study study-1x2 random-1x2 --pattern 1:2
rows=("${methods[@]}" random-min random-median random-1x2-min random-1x2-median)

# 3. Recovery (plain fine-tuning, same budget), sampling, evaluation.
for m in "${rows[@]}"; do
  run=$out/finetune/$m
  if [ ! -f "$run/ema.safetensors" ]; then
    log "fine-tune $m ($ft_epochs epochs)"
    resume=()
    has_ckpt "$run" && resume=(--resume "$run")
    $tf finetune -m "$out/pruned/$m.safetensors" --kd none --epochs "$ft_epochs" --batch 128 --ema-warmup \
      --ckpt-every 100 --run "$run" "${resume[@]}"
  fi
  if [ ! -f "$out/samples/$m/samples.npz" ]; then
    log "sample $m"
    $tf sample -m "$run/ema.safetensors" -n "$samples" "${sampler[@]}" --out "$out/samples/$m"
  fi
  [ -f "$out/metrics/$m.json" ] || { mkdir -p "$out/metrics"; $tf eval "$out/samples/$m/samples.npz" --json "$out/metrics/$m.json"; }
done

# The teacher with the same sampler and seeds, as the reference row.
if [ ! -f "$out/samples/teacher-28/samples.npz" ]; then
  log "sample teacher"
  $tf sample -m "$teacher" -n "$samples" "${sampler[@]}" --out "$out/samples/teacher-28"
fi
[ -f "$out/metrics/teacher-28.json" ] || $tf eval "$out/samples/teacher-28/samples.npz" --json "$out/metrics/teacher-28.json"

# 4. One speed run over all recovered models plus the teacher, joined with metrics and calibration losses.
models=("$teacher"); names=(teacher-28); metrics=("$out/metrics/teacher-28.json"); losses=(-)
for m in "${rows[@]}"; do
  models+=("$out/finetune/$m/ema.safetensors"); names+=("$m"); metrics+=("$out/metrics/$m.json")
  if [[ $m == random-* ]]; then
    losses+=("$(grep -o '"calibration_loss": *[0-9.eE+-]*' "$out/pruned/$m.safetensors.decision.json" | grep -o '[0-9.eE+-]*$')")
  else
    losses+=("$(awk -F, -v n="$m" '$1 == n {print $4}' "$out/study/marks.csv")")
  fi
done
join() { local IFS=,; echo "$*"; }
log "report"
$tf report "${models[@]}" --name "$(join "${names[@]}")" --metrics "$(join "${metrics[@]}")" \
  --calib-loss "$(join "${losses[@]}")" --batch 100 --steps 50 --json "$out/report.json" --markdown "$out/report.md"

# 5. Plots: recovery curves of all rows; calibration loss (before recovery) against quality after it.
curves=(); for m in "${rows[@]}"; do curves+=("$m=$out/finetune/$m"); done
$tf plot curves "${curves[@]}" --title "recovery: plain fine-tuning loss of each pruned model" --out "$out/recovery.png"
$tf plot scatter --report "$out/report.json" --x calibrationLoss --y metrics.fid \
  --title "calibration loss before recovery vs FID after recovery" --out "$out/calib-vs-fid.png"
$tf plot scatter --report "$out/report.json" --x calibrationLoss --y metrics.classAccuracy \
  --title "calibration loss before recovery vs class accuracy after recovery" --out "$out/calib-vs-acc.png"
log "done: $out/report.md"
