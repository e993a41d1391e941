#!/usr/bin/env bash
# The paper's comparison at the paper's budgets (issue #13), on the shipped DiT-F28 teacher:
#   * two converged learned 1:2 LoRA searches (10,000 steps of batch 128, seeds 0 and 1: the original's step count);
#   * long recovery (plain fine-tuning, batch 128, cosine 2e-4 -> 1e-4 over 5 epochs = 2,340 steps, then constant),
#     evaluated at 1, 2 and 5 epochs (and 10 for rows still improving at 5) for the 10K-step masks and the
#     earlier rows (468-step learned 1:2 LoRA mask, BI, oracle, random-min, random-median, layer-0 swap);
#   * recovery strategies (paper Table 5: logits KD, Masked KD, RepKD vs fine-tuning, 2 epochs, on the learned mask
#     that recovered best) and iterative pruning (paper Table 7: 28 -> 14 -> 7 vs 28 -> 7, 3 epochs of recovery in all),
#     each run by a lane once its earlier work is done.
# Each evaluation: 1,000 samples, DDIM 50, CFG 4, seed 0, FID +- bootstrap sd and class accuracy.
#
# It needs many CPU-hours, so it runs as resumable lanes that survive a session's end:
#   scripts/paper-budget.sh start    restore saved state, then run every lane in the background (1 thread each)
#   scripts/paper-budget.sh status   progress of each lane and what is finished
#   scripts/paper-budget.sh save     copy the small results and the newest checkpoint of every unfinished run
#                                    into $STATE (committed), so that the next session resumes where this stopped
#   scripts/paper-budget.sh stop     stop the lanes (they resume from their last checkpoint)
#   scripts/paper-budget.sh report   the tables and plots over what is finished (docs/results-budget/)
#   scripts/paper-budget.sh lane NAME  run one lane in the foreground (search-s0, search-s1, recover)
#   scripts/paper-budget.sh quiet -- CMD  run CMD (a benchmark) with the lanes paused; they continue afterwards
# Every stage is skipped when its output exists; an interrupted run resumes from its newest checkpoint.
set -euo pipefail
cd "${PAPER_BUDGET_ROOT:-$(dirname "$0")/..}" # lanes run a frozen copy of this script from elsewhere
out=${OUT:-out/paper-budget}
state=${STATE:-state/paper-budget}
teacher=models/dit-f28.safetensors
epoch=468                      # batches of 128 per Fashion-MNIST epoch (60,000 images, last partial batch dropped)
budgets=(468 936 2340)         # 1, 2, 5 epochs; 4680 (10 epochs) is added for rows still improving at 5
decay=2340                     # the cosine horizon: 5 epochs
samples=${SAMPLES:-1000}
sampler=(--cfg 4 --method ddim --steps 50 --batch 100 --sample-seed 0)
search_steps=10000
tf=bin/tinyfusion
log() { echo "[$(date +%H:%M:%S)] $*"; }
mkdir -p "$out"

# ---------------------------------------------------------------------------------------------------------------
# State kept across sessions: everything small, plus the newest checkpoint of each unfinished run.
save_state() {
  mkdir -p "$state"
  (cd "$out" && find . -type f \( -name '*.json' -o -name '*.csv' -o -name '*.png' -o -name '*.txt' -o -name '*.md' \
      -o -name '*.log' -o -name 'done' \) -not -path './samples/*/*.npz') | while read -r f; do
    mkdir -p "$state/$(dirname "$f")"; cp -p "$out/$f" "$state/$f"; done
  # searched models (the 10K-step decisions) are kept; rebuilt-by-indices models are not (cheap to rebuild)
  for f in "$out"/pruned/learned-*-10k-*.safetensors "$out"/pruned/t7-*.safetensors; do
    [ -f "$f" ] && { mkdir -p "$state/pruned"; cp -p "$f" "$state/pruned/"; }
  done
  # the recovered 14-layer model of Table 7's iterative branch is the next search's input
  for f in "$out"/finetune/t7-*/ema.safetensors; do
    [ -f "$f" ] || continue
    local rel=${f#"$out"/}; mkdir -p "$state/$(dirname "$rel")"; cp -p "$f" "$state/$rel"
  done
  for run in "$out"/pruned/*.run "$out"/finetune/*; do
    [ -d "$run/checkpoints" ] || continue
    local rel=${run#"$out"/} newest
    rm -rf "${state:?}/$rel/checkpoints"
    { [ -f "$run/done" ] || [ -f "${run%.run}.safetensors" ]; } && continue # finished: no checkpoint needed
    newest=$(ls "$run"/checkpoints/step-*.safetensors 2>/dev/null | sort | tail -n 1 || true)
    [ -n "$newest" ] || continue
    mkdir -p "$state/$rel/checkpoints"; cp -p "$newest" "$state/$rel/checkpoints/"
  done
  du -sh "$state" | awk '{print "state: " $1 " in '"$state"'"}'
}

restore_state() { # copy saved files that $out lacks (never overwrite newer work)
  [ -d "$state" ] || return 0
  (cd "$state" && find . -type f) | while read -r f; do
    [ -e "$out/$f" ] || { mkdir -p "$out/$(dirname "$f")"; cp -p "$state/$f" "$out/$f"; }
  done
}

# ---------------------------------------------------------------------------------------------------------------
has_ckpt() { compgen -G "$1/checkpoints/step-*.safetensors" > /dev/null; }

search() { # seed: learned 1:2 LoRA, 10,000 steps of batch 128, all other settings the original's (prune's defaults)
  local name=learned-1x2-lora-10k-s$1 resume=()
  local model=$out/pruned/$name.safetensors run=$out/pruned/$name.run
  [ -f "$model" ] && { touch "$run/done"; return 0; }
  has_ckpt "$run" && resume=(--resume)
  log "search $name"
  $tf prune -m "$teacher" --out "$model" --run "$run" --method learned --pattern 1:2 --steps $search_steps --batch 128 \
    --seed "$1" --ckpt-every 250 "${resume[@]}"
  touch "$run/done"
}

kept_of() { tr -d ' \n' < "$1" | grep -o '"kept":\[[^]]*\]' | grep -o '[0-9][0-9]*' | paste -sd,; }

pruned_from_record() { # row, decision record of an earlier run: the same layers of the teacher
  local row=$1 rec=$2
  [ -f "$out/pruned/$row.safetensors" ] && return 0
  $tf prune -m "$teacher" --method indices --keep-layers "$(kept_of "$rec")" --out "$out/pruned/$row.safetensors" >/dev/null
}

evaluate() { # model, sample dir, metrics json
  [ -f "$3" ] && return 0
  [ -f "$2/samples.npz" ] || $tf sample -m "$1" -n "$samples" "${sampler[@]}" --out "$2" >/dev/null
  mkdir -p "$(dirname "$3")"
  $tf eval "$2/samples.npz" --json "$3" > /dev/null
}

json_num() { tr -d ' \n' < "$1" | grep -o "\"$2\":[-0-9.eE+]*" | head -n 1 | cut -d: -f2; }

still_improving() { # row: FID at 5 epochs better than at 2 by more than both bootstrap sds together
  local a=$out/metrics/$1/step-936.json b=$out/metrics/$1/step-2340.json
  awk -v f2="$(json_num "$a" fid)" -v s2="$(json_num "$a" fidStd)" -v f5="$(json_num "$b" fid)" -v s5="$(json_num "$b" fidStd)" \
    'BEGIN { exit !(f2 - f5 > sqrt(s2 * s2 + s5 * s5)) }'
}

recover() { # row, then extra finetune arguments: plain fine-tuning evaluated at each budget of one run
  local row=$1; shift
  local run=$out/finetune/$row list=("${budgets[@]}")
  for ((i = 0; i < ${#list[@]}; i++)); do
    local b=${list[$i]}
    if [ ! -f "$out/metrics/$row/step-$b.json" ]; then
      if [ ! -f "$out/samples/$row/step-$b/samples.npz" ]; then
        local resume=()
        if has_ckpt "$run"; then resume=(--resume "$run"); fi
        log "fine-tune $row to step $b"
        mkdir -p "$out/finetune"
        $tf finetune -m "$out/pruned/$row.safetensors" --kd none --steps "$b" --lr-decay-steps $decay --batch 128 --ema-warmup \
          --ckpt-every 100 --keep 1 --run "$run" --no-progress "${resume[@]}" "$@" > "$run.log" 2>&1 || { tail -n 20 "$run.log"; return 1; }
      fi
      log "sample + eval $row at step $b"
      evaluate "$run/ema.safetensors" "$out/samples/$row/step-$b" "$out/metrics/$row/step-$b.json"
    fi
    if [ "$b" = 2340 ] && [ "${#list[@]}" = 3 ] && still_improving "$row"; then
      log "$row still improves from 2 to 5 epochs: continuing to 10"
      list+=(4680)
    fi
  done
  touch "$run/done"
}

teacher_row() {
  evaluate "$teacher" "$out/samples/teacher-28" "$out/metrics/teacher-28.json"
}

calibration_marks() { # the searched masks' calibration losses and percentiles among the same N = 1,000 random masks
  local marks=() s                # as the one-epoch study (same seeds: the same masks and calibration set)
  for s in 0 1; do
    local rec=$out/pruned/learned-1x2-lora-10k-s$s.safetensors.decision.json
    [ -f "$rec" ] && marks+=(--mark "learned-1x2-lora-10k-s$s=$rec")
  done
  local have; have=$(cut -d, -f1 "$out/study/marks.csv" 2>/dev/null | grep -c 10k || true)
  [ "$have" = "$(( ${#marks[@]} / 2 ))" ] && return 0
  log "calibration study with the searched masks marked"
  $tf study calibration -m "$teacher" --depth 14 --samples 1000 "${marks[@]}" --no-export --out "$out/study" > /dev/null
}

lane_recover() {
  teacher_row
  # earlier rows, from the decision records of the one-epoch experiment (docs/results/, scripts/paper-table.sh)
  local r
  for r in learned-1x2-lora bi oracle random-min random-median learned-1x2-lora-swap01; do
    local row=$r; [ "$r" = learned-1x2-lora ] && row=learned-1x2-lora-468
    pruned_from_record "$row" "docs/results/$r.safetensors.decision.json"
    recover "$row"
  done
  # the converged searches' masks, once their searches have finished (a mask found twice is recovered once)
  local seen=()
  for s in 0 1; do
    local m=$out/pruned/learned-1x2-lora-10k-s$s.safetensors
    [ -f "$m" ] || { log "search s$s not finished: its recovery waits"; continue; }
    local k; k=$(kept_of "$m.decision.json")
    if [[ " ${seen[*]-} " == *" $k "* ]]; then log "seed $s found the same mask as an earlier seed"; continue; fi
    seen+=("$k")
    calibration_marks
    recover "learned-1x2-lora-10k-s$s"
  done
}

# ---------------------------------------------------------------------------------------------------------------
# Paper Table 5: recovery strategies on the best learned mask, same budget (2 epochs = 936 steps, the recovery recipe:
# batch 128, cosine over 2,340 steps), same evaluation. Fine-tuning is the recovery row's own 936-step evaluation.
best_learned_row() { # the learned row with the lowest FID after 5 epochs of recovery
  local best="" bf="" r f
  for r in learned-1x2-lora-468 learned-1x2-lora-10k-s0 learned-1x2-lora-10k-s1; do
    f=$out/metrics/$r/step-2340.json; [ -f "$f" ] || continue
    f=$(json_num "$f" fid)
    if [ -z "$bf" ] || awk -v a="$f" -v b="$bf" 'BEGIN { exit !(a < b) }'; then best=$r; bf=$f; fi
  done
  echo "$best"
}

table5() {
  local row; row=$(best_learned_row)
  [ -n "$row" ] || { log "table 5 waits for a learned row's 5-epoch evaluation"; return 0; }
  echo "$row" > "$out/table5-row.txt"
  local kd
  for kd in logits masked rep; do
    local name=t5-$kd run=$out/finetune/t5-$kd
    [ -f "$out/metrics/$name/step-936.json" ] && continue
    if [ ! -f "$out/samples/$name/step-936/samples.npz" ]; then
      local resume=(); has_ckpt "$run" && resume=(--resume "$run")
      log "table 5: $kd KD of $row for 936 steps"
      $tf finetune -m "$out/pruned/$row.safetensors" --kd "$kd" --steps 936 --lr-decay-steps $decay --batch 128 --ema-warmup \
        --ckpt-every 100 --keep 1 --run "$run" --no-progress "${resume[@]}" > "$run.log" 2>&1 || { tail -n 20 "$run.log"; return 1; }
    fi
    evaluate "$run/ema.safetensors" "$out/samples/$name/step-936" "$out/metrics/$name/step-936.json"
  done
}

# Paper Table 7: iterative pruning 28 -> 14 -> 7 (learned 1:2 twice, recovering in between) against 28 -> 7 at once
# (learned 1:4), the same total recovery (3 epochs = 1,404 steps). Searches: one epoch (468 steps) each, the budget
# of the earlier one-epoch experiment, not the 10K of the converged searches (stated in the report).
t7_search() { # name, model, pattern
  local model=$out/pruned/$1.safetensors run=$out/pruned/$1.run resume=()
  [ -f "$model" ] && return 0
  has_ckpt "$run" && resume=(--resume)
  log "table 7: search $1 ($3 of $2)"
  $tf prune -m "$2" --out "$model" --run "$run" --method learned --pattern "$3" --steps $epoch --batch 128 --seed 0 \
    --ckpt-every 100 "${resume[@]}" > "$run.log" 2>&1 || { tail -n 20 "$run.log"; return 1; }
}

t7_recover() { # name, steps: plain fine-tuning of pruned/<name>, cosine over the same 1,404-step horizon
  local run=$out/finetune/$1 resume=()
  [ -f "$run/done" ] && return 0
  has_ckpt "$run" && resume=(--resume "$run")
  log "table 7: fine-tune $1 for $2 steps"
  mkdir -p "$out/finetune"
  $tf finetune -m "$out/pruned/$1.safetensors" --kd none --steps "$2" --lr-decay-steps 1404 --batch 128 --ema-warmup \
    --ckpt-every 100 --keep 1 --run "$run" --no-progress "${resume[@]}" > "$run.log" 2>&1 || { tail -n 20 "$run.log"; return 1; }
  touch "$run/done"
}

table7_oneshot() {
  t7_search t7-oneshot-1x4 "$teacher" 1:4
  t7_recover t7-oneshot-1x4 1404
  evaluate "$out/finetune/t7-oneshot-1x4/ema.safetensors" "$out/samples/t7-oneshot-1x4/step-1404" \
    "$out/metrics/t7-oneshot-1x4/step-1404.json"
}

table7_iterative() {
  t7_search t7-iter-14 "$teacher" 1:2
  t7_recover t7-iter-14 468
  evaluate "$out/finetune/t7-iter-14/ema.safetensors" "$out/samples/t7-iter-14/step-468" "$out/metrics/t7-iter-14/step-468.json"
  t7_search t7-iter-7 "$out/finetune/t7-iter-14/ema.safetensors" 1:2
  t7_recover t7-iter-7 936
  evaluate "$out/finetune/t7-iter-7/ema.safetensors" "$out/samples/t7-iter-7/step-936" "$out/metrics/t7-iter-7/step-936.json"
}

lane() {
  case $1 in
    search-s0) search 0; table7_oneshot ;;    # once its search is done, the lane runs a Table 7 branch
    search-s1) search 1; table7_iterative ;;
    recover) lane_recover; table5 ;;
    *) echo "unknown lane '$1' (search-s0, search-s1, recover)" >&2; return 2 ;;
  esac
}

lanes=(search-s0 search-s1 recover)

start() {
  restore_state
  mkdir -p "$out/lanes" "$out/jars"
  (mvn -q -B package -DskipTests >/dev/null) # the current code, then pinned: edits during the run change nothing
  local jar; jar=$out/jars/tinyfusion-$(git rev-parse --short HEAD)$(git diff --quiet HEAD -- src pom.xml || echo -dirty).jar
  cp target/tinyfusion.jar "$jar"
  # bash reads a script while running it: each lane runs a frozen copy, so editing this file is safe
  local script=$out/lanes/paper-budget.$(date +%s).sh
  cp "$0" "$script"
  # the lanes get the CPU first: other work on this 2-core machine (builds, tests) slowed them five-fold
  local lane_nice=-5; nice -n -5 true 2>/dev/null || lane_nice=0
  for l in "${lanes[@]}"; do
    local pidf=$out/lanes/$l.pid
    if [ -f "$pidf" ] && kill -0 "$(cat "$pidf")" 2>/dev/null; then log "lane $l already running (pid $(cat "$pidf"))"; continue; fi
    PAPER_BUDGET_ROOT=$PWD TINYFUSION_JAR=$PWD/$jar TINYFUSION_JAVA_OPTS="-Xmx6g -Dai.djl.pytorch.num_threads=1" \
      setsid nohup nice -n "$lane_nice" bash "$script" lane "$l" >> "$out/lanes/$l.log" 2>&1 < /dev/null &
    echo $! > "$pidf"
    log "lane $l started (pid $!, log $out/lanes/$l.log)"
  done
}

status() {
  for l in "${lanes[@]}"; do
    local pidf=$out/lanes/$l.pid st=stopped
    [ -f "$pidf" ] && kill -0 "$(cat "$pidf")" 2>/dev/null && st="running (pid $(cat "$pidf"))"
    echo "lane $l: $st"
  done
  for s in 0 1; do
    local csv=$out/pruned/learned-1x2-lora-10k-s$s.run/metrics.csv
    [ -f "$csv" ] && echo "search s$s: step $(tail -n 1 "$csv" | cut -d, -f1) of $search_steps"
  done
  find "$out/metrics" -name '*.json' 2>/dev/null | sort | sed 's|^|done: |'
}

stop() {
  for l in "${lanes[@]}"; do
    local pidf=$out/lanes/$l.pid
    if [ -f "$pidf" ] && kill -0 "$(cat "$pidf")" 2>/dev/null; then
      local pid; pid=$(cat "$pidf") # a lane leads its own process group (setsid): stop the group, java included
      kill -TERM -- "-$pid" 2>/dev/null || { pkill -TERM -P "$pid" || true; kill -TERM "$pid" || true; }
      log "stopped $l (pid $pid); it resumes from its newest checkpoint"
    fi
    rm -f "$pidf"
  done
}

# ---------------------------------------------------------------------------------------------------------------
# Tables and plots over whatever is finished, into docs/results-budget/.
search_table() { # decisions.csv of a search: kept layers and per-block EMA confidence at 1K, 2K, 5K, 10K steps
  local csv=$1
  awk -F, 'NR == 1 { next }
    { all = 1; for (i = 19; i <= 32; i++) if ($i <= 0.9) all = 0
      if (all && first == "") first = $1 }
    $1 == 1000 || $1 == 2000 || $1 == 5000 || $1 == 10000 {
      kept = $5; for (i = 6; i <= 18; i++) kept = kept " " $i
      conf = sprintf("%.2f", $19); mean = $19; low = $19
      for (i = 20; i <= 32; i++) { conf = conf " " sprintf("%.2f", $i); mean += $i; if ($i < low) low = $i }
      printf "| %d | %s | %s | %.3f | %.3f |\n", $1, kept, conf, mean / 14, low }
    END { printf "\nFirst logged step with every block above 0.9: %s\n", first == "" ? "not reached" : first }' "$csv"
}

wall_time() { # metrics.csv of a run resumed any number of times: its seconds restart at each start
  awk -F, 'NR > 1 { if ($2 + 0 < prev) { total += prev; starts++ } prev = $2 + 0 }
    END { printf "wall time %.0f s (%.2f h) over %d process starts, not counting the time since each last logged row", total + prev, (total + prev) / 3600, starts + 1 }' "$1"
}

report() {
  local docs=docs/results-budget
  mkdir -p "$docs"
  {
    echo "# Paper-budget experiment: generated tables (scripts/paper-budget.sh report)"
    for s in 0 1; do
      local run=$out/pruned/learned-1x2-lora-10k-s$s.run
      [ -f "$run/decisions.csv" ] || continue
      echo; echo "## Search seed $s (learned 1:2 LoRA, 10,000 steps of batch 128)"; echo
      [ -f "$out/pruned/learned-1x2-lora-10k-s$s.safetensors.decision.json" ] &&
        echo "Kept layers: $(kept_of "$out/pruned/learned-1x2-lora-10k-s$s.safetensors.decision.json")"
      echo "Logged steps: $(tail -n 1 "$run/decisions.csv" | cut -d, -f1); $(wall_time "$run/metrics.csv")"
      echo; echo "| step | kept (EMA decision) | confidence per block | mean | min |"; echo "| ---: | --- | --- | ---: | ---: |"
      search_table "$run/decisions.csv"
      cp "$run/decisions.png" "$docs/decisions-10k-s$s.png" 2>/dev/null || true
    done
  } > "$docs/searches.md"
  local rows=() calib=() r
  for r in "$out"/metrics/*/; do
    r=$(basename "$r")
    case $r in t5-* | t7-*) continue ;; esac # Tables 5 and 7 have their own table
    rows+=("$r=$out/metrics/$r")
    local c=""
    case $r in
      learned-1x2-lora-468) c=$(awk -F, '$1 == "learned-1x2-lora" {print $4}' docs/results/marks.csv) ;;
      random-*) c=$(json_num "docs/results/$r.safetensors.decision.json" calibration_loss) ;;
      *) c=$( (awk -F, -v n="$r" '$1 == n {print $4}' docs/results/marks.csv "$out"/study/marks.csv 2>/dev/null || true) | head -n 1) ;;
    esac
    [ -n "$c" ] && calib+=(--calib "$r=$c")
  done
  [ ${#rows[@]} -gt 0 ] || { echo "nothing evaluated yet"; return 0; }
  local ref=(); [ -f "$out/metrics/teacher-28.json" ] && ref=(--reference "teacher (28 layers)=$out/metrics/teacher-28.json")
  $tf plot budget "${rows[@]}" "${ref[@]}" "${calib[@]}" --per-epoch $epoch --title "FID after plain fine-tuning (1,000 samples, DDIM 50, CFG 4)" \
    --out "$docs/fid-vs-steps.png" --markdown "$docs/fid-vs-steps.md"
  $tf plot budget "${rows[@]}" "${ref[@]}" "${calib[@]}" --field classAccuracy --per-epoch $epoch \
    --title "class accuracy after plain fine-tuning" --out "$docs/acc-vs-steps.png" --markdown "$docs/acc-vs-steps.md"
  cp -r "$out/metrics" "$docs/"
  tables57 > "$docs/tables-5-7.md"
}

metric_row() { # label, metrics json: a markdown row (FID +- sd, class accuracy), or "not run yet"
  if [ -f "$2" ]; then
    printf '| %s | %s ± %s | %s |\n' "$1" "$(json_num "$2" fid)" "$(json_num "$2" fidStd)" "$(json_num "$2" classAccuracy)"
  else
    printf '| %s | not run yet | |\n' "$1"
  fi
}

tables57() {
  echo "# Paper Tables 5 and 7 at small scale (scripts/paper-budget.sh report)"
  echo
  local row; row=$(cat "$out/table5-row.txt" 2>/dev/null || echo "(chosen once a learned row is recovered for 5 epochs)")
  echo "## Table 5: recovery strategies on $row, 936 steps (2 epochs) each"
  echo
  echo "| strategy | FID | class accuracy |"; echo "| --- | ---: | ---: |"
  metric_row "fine-tuning (--kd none)" "$out/metrics/$row/step-936.json"
  metric_row "logits KD (α_KD 0.9, α_GT 0.1)" "$out/metrics/t5-logits/step-936.json"
  metric_row "Masked KD (+ β 1e-2 → 0, 2σ masks)" "$out/metrics/t5-masked/step-936.json"
  metric_row "RepKD (no masks)" "$out/metrics/t5-rep/step-936.json"
  echo
  echo "## Table 7: iterative vs one-shot pruning to 7 layers, 1,404 recovery steps (3 epochs) in all"
  echo
  echo "Searches: 468 steps each (one epoch), not the 10,000 of the converged searches."
  echo
  echo "| schedule | FID | class accuracy |"; echo "| --- | ---: | ---: |"
  metric_row "28 → 14 (learned 1:2, 468 recovery steps)" "$out/metrics/t7-iter-14/step-468.json"
  metric_row "28 → 14 → 7 (then learned 1:2, 936 recovery steps)" "$out/metrics/t7-iter-7/step-936.json"
  metric_row "28 → 7 (learned 1:4, 1,404 recovery steps)" "$out/metrics/t7-oneshot-1x4/step-1404.json"
}

# Benchmarks need a quiet machine: pause the lanes' JVMs (SIGSTOP) while CMD runs, and always continue them after.
quiet() {
  quiet_pids=$(pgrep -f -- "^java .* -jar $PWD/$out/jars/" || true)
  [ -n "$quiet_pids" ] && log "pausing lanes ($(echo $quiet_pids | tr '\n' ' '))" >&2
  [ -n "$quiet_pids" ] && kill -STOP $quiet_pids
  trap '[ -n "$quiet_pids" ] && kill -CONT $quiet_pids 2>/dev/null; [ -n "$quiet_pids" ] && log "lanes continued" >&2' EXIT
  "$@"
}

case ${1:-start} in
  start) start ;;
  status) status ;;
  save) save_state ;;
  stop) stop ;;
  lane) lane "$2" ;;
  report) report ;;
  quiet) shift; [ "${1:-}" = -- ] && shift; quiet "$@" ;;
  *) echo "usage: $0 [start|status|save|stop|report|lane NAME|quiet -- CMD...]" >&2; exit 2 ;;
esac
