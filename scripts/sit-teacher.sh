#!/usr/bin/env bash
# The SiT Fashion-MNIST teacher (issue #17): DiT-F28's network trained with SiT's objective (Linear path, velocity
# prediction, no loss weighting, SiT's epsilons), by default initialised from the shipped DiT teacher
# models/dit-f28.safetensors (SiT and DiT share the backbone; only the time input's meaning and the loss differ, so
# the DiT weights are a warm start, see docs/transport.md). Target: class accuracy >= 0.75 of 1,000 samples with the
# shipped feature network, as the DiT teacher.
#
#   scripts/sit-teacher.sh start    build and pin the jar, then train in the background (survives the session)
#   scripts/sit-teacher.sh run      train in the foreground (resumes from the newest checkpoint of the run)
#   scripts/sit-teacher.sh status   running or not, last logged step
#   scripts/sit-teacher.sh stop     stop the background run (it resumes from its newest checkpoint)
#   scripts/sit-teacher.sh eval     sample 1,000 images of the EMA weights (ODE, CFG 4) and evaluate them
#   scripts/sit-teacher.sh ship     copy the EMA weights to models/sit-f28.safetensors (what main-job.sh --family sit uses)
#
# Knobs: OUT (out/sit-teacher), INIT (dit | scratch), EPOCHS (6), STEPS (overrides EPOCHS, e.g. for a smoke run),
# BATCH (128), CKPT_EVERY (100), SEED (0), SAMPLES (1000), SAMPLER (the eval's sampler options).
# The cosine schedule's horizon is fixed to EPOCHS (--lr-decay-steps), so stopping, resuming or extending a run
# with more STEPS keeps every step's learning rate.
set -euo pipefail
cd "${SIT_TEACHER_ROOT:-$(dirname "$0")/..}" # the background run is a frozen copy of this script from elsewhere
out=${OUT:-out/sit-teacher}
run=$out/run
init=${INIT:-dit}
epochs=${EPOCHS:-6}
batch=${BATCH:-128}
epoch_steps=$(( 60000 / batch ))   # Fashion-MNIST train split, last partial batch dropped
horizon=$(( epochs * epoch_steps ))
samples=${SAMPLES:-1000}
read -r -a sampler <<< "${SAMPLER:---sampler ode --sampling-method heun2 --steps 26 --cfg 4 --batch 100 --sample-seed 0}"
shipped=models/sit-f28.safetensors
log() { echo "[$(date +%H:%M:%S)] $*"; }

case "$init" in
  dit) source_model=(-m models/dit-f28.safetensors) ;;
  scratch) source_model=(-m DiT-F28) ;;
  *) echo "INIT must be dit or scratch, got '$init'" >&2; exit 2 ;;
esac

pin_jar() { # the current code, then pinned: edits during the run change nothing
  mkdir -p "$out/jars"
  (mvn -q -B package -DskipTests > /dev/null)
  local jar; jar=$out/jars/tinyfusion-$(git rev-parse --short HEAD)$(git diff --quiet HEAD -- src pom.xml || echo -dirty).jar
  cp target/tinyfusion.jar "$jar"
  realpath "$jar"
}

train() {
  local length=(--epochs "$epochs") resume=()
  [ -n "${STEPS:-}" ] && length=(--steps "$STEPS")
  compgen -G "$run/checkpoints/step-*.safetensors" > /dev/null && resume=(--resume "$run")
  rm -f "$run/done"
  log "training the SiT teacher (init $init) in $run ${resume[*]}"
  export OMP_WAIT_POLICY=PASSIVE
  bin/tinyfusion train "${source_model[@]}" --objective sit --run "$run" "${length[@]}" --batch "$batch" \
    --lr 4e-4 --lr-schedule cosine --lr-min 2e-5 --lr-decay-steps "$horizon" --warmup 100 --ema 0.999 --ema-warmup \
    --ckpt-every "${CKPT_EVERY:-100}" --keep 3 --log-every 10 --seed "${SEED:-0}" --no-progress "${resume[@]}"
  touch "$run/done"
}

case "${1:-}" in
  run) train ;;
  start)
    mkdir -p "$out"
    pidf=$out/train.pid
    if [ -f "$pidf" ] && kill -0 "$(cat "$pidf")" 2>/dev/null; then log "already running (pid $(cat "$pidf"))"; exit 0; fi
    jar=$(pin_jar)
    script=$out/sit-teacher.$(date +%s).sh # bash reads a script while running it: run a frozen copy
    cp "$0" "$script"
    SIT_TEACHER_ROOT=$PWD OUT=$out INIT=$init EPOCHS=$epochs BATCH=$batch TINYFUSION_JAR=$jar \
      TINYFUSION_JAVA_OPTS="${TINYFUSION_JAVA_OPTS:--Xmx6g -Dai.djl.pytorch.num_threads=1}" \
      setsid nohup bash "$script" run >> "$out/train.out" 2>&1 < /dev/null &
    echo $! > "$pidf"
    log "started (pid $!, jar $jar, log $out/train.out)" ;;
  status)
    pidf=$out/train.pid st=stopped
    [ -f "$pidf" ] && kill -0 "$(cat "$pidf")" 2>/dev/null && st="running (pid $(cat "$pidf"))"
    [ "$st" = stopped ] && [ -f "$run/done" ] && st="finished"
    echo "SiT teacher: $st"
    [ -f "$run/metrics.csv" ] && echo "last logged step: $(tail -n 1 "$run/metrics.csv" | cut -d, -f1) of $horizon" ;;
  stop)
    pidf=$out/train.pid
    if [ -f "$pidf" ] && kill -0 "$(cat "$pidf")" 2>/dev/null; then
      pid=$(cat "$pidf") # the run leads its own process group (setsid): stop the group, java included
      kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid"
      log "stopped (pid $pid); it resumes from its newest checkpoint"
    fi
    rm -f "$pidf" ;;
  eval)
    [ -f "$run/ema.safetensors" ] || { echo "no $run/ema.safetensors yet: the run has not finished" >&2; exit 1; }
    [ -f "$out/samples/samples.npz" ] || bin/tinyfusion sample -m "$run/ema.safetensors" -n "$samples" "${sampler[@]}" \
      --out "$out/samples"
    bin/tinyfusion eval "$out/samples/samples.npz" --json "$out/metrics.json" ;;
  ship)
    [ -f "$run/ema.safetensors" ] || { echo "no $run/ema.safetensors yet: the run has not finished" >&2; exit 1; }
    cp "$run/ema.safetensors" "$shipped"
    log "shipped $shipped ($(du -h "$shipped" | cut -f1))" ;;
  *) sed -n '2,20p' "$0" >&2; exit 2 ;;
esac
