#!/usr/bin/env bash
# The Spark scaling table (docs/spark.md): the same sharded sample job on one machine, run by the CLI and by Spark in
# local mode with 1 and 2 executor threads (one libtorch thread per task), each timed from outside (JVM start to
# exit) and, for Spark, from inside (context start, driver preparation, job, summed task time, merge).
#   tools/bench/spark_scaling.sh MODE N STEPS OUT    # MODE: cli1 | cli2 | local1 | local2; writes OUT/MODE.json
#   tools/bench/spark_scaling.sh table OUT           # the markdown table of the runs in OUT
# One MODE per call, so that each fits in one quiet period (scripts/paper-budget.sh quiet -- ...). Needs the CLI jar
# (target/tinyfusion.jar: mvn package) and the job jar (spark/build.sh). Model: models/dit-f28.safetensors, DDIM with
# CFG 4, batch 20 (batch 50 took local[2] over 4.7 GB of RSS), shards of 100; the merged files' SHA-256 must agree across modes.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
mode="$1"
if [ "$mode" = table ]; then
  out="$2"
  python3 - "$out" <<'PY'
import json, os, sys
out = sys.argv[1]
rows = {m: json.load(open(os.path.join(out, m + ".json"))) for m in ["cli1", "cli2", "local1", "local2"]
        if os.path.exists(os.path.join(out, m + ".json"))}
names = {"cli1": "CLI `sample`, 1 thread", "cli2": "CLI `sample`, 2 threads",
         "local1": "Spark `local[1]` (1 task at a time)", "local2": "Spark `local[2]` (2 tasks at a time)"}
print("| run | wall s | Spark context start s | driver prepare s | job s | Σ task s | merge s | s/image (wall) | load avg before/after | merged SHA-256 |")
print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |")
for m, r in rows.items():
    s = r.get("spark", {})
    f = lambda k: "%.2f" % s[k] if k in s else "—"
    print("| %s | %.1f | %s | %s | %s | %s | %s | %.3f | %.1f / %.1f | `%s` |" % (names[m], r["wall_s"],
          f("context_start_s"), f("prepare_s"), f("job_s"), f("task_s"), f("merge_s"), r["wall_s"] / r["n"],
          r["loadavg_1min"][0], r["loadavg_1min"][1], r["sha256"][:16]))
print()
for m in ("local1", "local2"):
    if m in rows:
        s = rows[m]["spark"]
        sched = s["job_s"] - s["task_s"] / s["cores"]
        print("%s: Spark's own cost %.1f s = context start %.2f s + scheduling, executor model loads and result transfer %.2f s (job s - "
              "task s / %d slots) + merge %.2f s; the driver's preparation (%.2f s: model load, manifest) is the CLI's "
              "too." % (m, s["context_start_s"] + sched + s["merge_s"], s["context_start_s"], sched, s["cores"],
                        s["merge_s"], s["prepare_s"]))
if "cli1" in rows and "local1" in rows:
    print("Wall time local[1] - CLI (1 thread): %+.1f s." % (rows["local1"]["wall_s"] - rows["cli1"]["wall_s"]))
if "local1" in rows:
    s = rows["local1"]["spark"]
    print("Per-image generation cost (local[1], task s / images): %.3f s." % (s["task_s"] / rows["local1"]["n"]))
if "local1" in rows and "local2" in rows:
    print("local[1] / local[2] wall time: %.2f; task s local[2] / local[1]: %.2f." % (
        rows["local1"]["wall_s"] / rows["local2"]["wall_s"],
        rows["local2"]["spark"]["task_s"] / rows["local1"]["spark"]["task_s"]))
PY
  exit 0
fi
n="$2"; steps="$3"; out="$(mkdir -p "$4" && cd "$4" && pwd)"
run="$out/$mode"
rm -rf "$run" "$out/$mode.json"
args=(-m "$root/models/dit-f28.safetensors" -n "$n" --method ddim --steps "$steps" --cfg 4 --batch 20 --shard-size 100
      --out "$run")
export MALLOC_MMAP_THRESHOLD_=33554432 MALLOC_TRIM_THRESHOLD_=4000000000 MALLOC_TOP_PAD_=268435456
load0="$(cut -d' ' -f1 /proc/loadavg)"
t0=$(date +%s.%N)
case "$mode" in
  cli1|cli2)
    threads="${mode#cli}"
    java -Xmx2g -Dai.djl.offline=true -Dai.djl.pytorch.num_threads="$threads" -Dai.djl.pytorch.num_interop_threads=1 \
      -Dtinyfusion.home="$root" -jar "$root/target/tinyfusion.jar" sample "${args[@]}" > "$out/$mode.log" 2>&1 ;;
  local1|local2)
    SPARK_DRIVER_MEMORY=2g "$root/spark/run-local.sh" "${mode#local}" sample --report "$out/$mode.spark.json" \
      "${args[@]}" > "$out/$mode.log" 2>&1 ;;
  *) echo "unknown mode $mode (cli1, cli2, local1, local2, table)" >&2; exit 2 ;;
esac
t1=$(date +%s.%N)
load1="$(cut -d' ' -f1 /proc/loadavg)"
sha="$(sha256sum "$run/samples.npz" | cut -d' ' -f1)"
python3 - "$out" "$mode" "$n" "$steps" "$t0" "$t1" "$sha" "$load0" "$load1" <<'PY'
import json, os, sys
out, mode, n, steps, t0, t1, sha, load0, load1 = sys.argv[1:]
r = {"mode": mode, "n": int(n), "steps": int(steps), "wall_s": float(t1) - float(t0), "sha256": sha,
     "loadavg_1min": [float(load0), float(load1)]}
spark = os.path.join(out, mode + ".spark.json")
if os.path.exists(spark):
    r["spark"] = json.load(open(spark))
json.dump(r, open(os.path.join(out, mode + ".json"), "w"), indent=1)
print(json.dumps(r))
PY
