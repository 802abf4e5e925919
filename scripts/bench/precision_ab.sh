#!/usr/bin/env bash
# One student served at fp32 and at reduced precisions side by side on one broker (services
# prism.explain.fp32, prism.explain.int8, ..., one worker each), then, in the same run:
#   1. one prism eval on the test split calling both (--modes served,free,student): grounding, ROUGE and
#      latency side by side, and how many outputs are identical (free = the student's own greedy text,
#      student = greedy under its grounding constraints, served = after the guard): compare_outputs.py;
#   2. prism replay at 1 and 8 callers against each, alternating: p50/p95 and explanations/s.
#
#   scripts/bench/precision_ab.sh STUDENT DATA DISTILLED OUT [COUNT [PRECISIONS]]
# PRECISIONS: those compared with fp32, space-separated (default "int8"; e.g. "int8 int8-encoder").
# e.g. after scripts/demo.sh with PRISM_OUT=/tmp/demo:
#   scripts/bench/precision_ab.sh /tmp/demo/student /tmp/demo/data /tmp/demo/distill/distilled.jsonl /tmp/ab 1000
set -euo pipefail
cd "$(dirname "$0")/../.."
student=$1 data=$2 distilled=$3 out=$4 count=${5:-1000} reduced=(${6:-int8})
all=(fp32 "${reduced[@]}")
prism=.build/release/prism
python=${PRISM_PYTHON:-.venv/bin/python}
. scripts/lib/fleet.sh
mkdir -p "$out"
start_broker "$out"
for p in "${all[@]}"; do
  $prism worker --broker "$be" --service "prism.explain.$p" --model "$student" --catalog "$data/catalog.jsonl" \
    --precision "$p" --capacity 8 --batch-wait-ms 5 --blas-threads 2 --id "prism-$p" --log-level info 2>"$out/worker-$p.log" &
  pids+=($!)
done
services=()
for p in "${all[@]}"; do
  wait_for_workers "prism.explain.$p" 1
  services+=(--service "$p=prism.explain.$p")
done
grep -h "student loaded" "$out"/worker-*.log | sed 's/^/  /'

echo "== eval: ${all[*]} in one report"
$prism eval --data "$data" --references "$distilled" "${services[@]}" \
  --broker "$fe" --count "$count" --unknown-users 0.2 --probes 0 --modes served,free,student --output "$out/eval" \
  | tee "$out/eval.txt"
for p in "${reduced[@]}"; do
  echo "== fp32 against $p"
  "$python" scripts/bench/compare_outputs.py "$out/eval" fp32 "$p"
done | tee "$out/identical.txt"

for callers in 1 8; do
  for p in "${all[@]}" "${all[@]}"; do
    printf '== replay, %s, %d caller(s): ' "$p" "$callers"
    $prism replay --data "$data" --broker "$fe" --service "prism.explain.$p" --count $((callers * 24)) \
      --unknown-users "$callers" --concurrency "$callers" --show 0 | grep -E "requests,"
  done
done | tee "$out/replay.txt"
for p in "${all[@]}"; do
  pid=$(pgrep -f "id prism-$p --" | head -n 1)
  echo "worker $p peak RSS: $(awk '/VmHWM/ {print $2, $3}' "/proc/$pid/status")"
done | tee "$out/rss.txt"
