#!/usr/bin/env bash
# One student served at fp32 and at int8 side by side on one broker (services prism.explain.fp32 and
# prism.explain.int8, one worker each), then, in the same run:
#   1. one prism eval on the test split calling both (--modes served,free,student): grounding, ROUGE and
#      latency side by side, and how many outputs are identical (free = the student's own greedy text,
#      student = greedy under its grounding constraints, served = after the guard): compare_outputs.py;
#   2. prism replay at 1 and 8 callers against each, alternating: p50/p95 and explanations/s.
#
#   scripts/bench/precision_ab.sh STUDENT DATA DISTILLED OUT [COUNT]
# e.g. after scripts/demo.sh with PRISM_OUT=/tmp/demo:
#   scripts/bench/precision_ab.sh /tmp/demo/student /tmp/demo/data /tmp/demo/distill/distilled.jsonl /tmp/ab 1000
set -euo pipefail
cd "$(dirname "$0")/../.."
student=$1 data=$2 distilled=$3 out=$4 count=${5:-1000}
prism=.build/release/prism
python=${PRISM_PYTHON:-.venv/bin/python}
. scripts/lib/fleet.sh
mkdir -p "$out"
start_broker "$out"
for p in fp32 int8; do
  $prism worker --broker "$be" --service "prism.explain.$p" --model "$student" --catalog "$data/catalog.jsonl" \
    --precision "$p" --capacity 8 --batch-wait-ms 5 --blas-threads 2 --id "prism-$p" --log-level info 2>"$out/worker-$p.log" &
  pids+=($!)
done
wait_for_workers prism.explain.fp32 1
wait_for_workers prism.explain.int8 1
grep -h "student loaded" "$out"/worker-*.log | sed 's/^/  /'

echo "== eval: fp32 and int8 in one report"
$prism eval --data "$data" --references "$distilled" --service fp32=prism.explain.fp32 --service int8=prism.explain.int8 \
  --broker "$fe" --count "$count" --unknown-users 0.2 --probes 0 --modes served,free,student --output "$out/eval" \
  | tee "$out/eval.txt"
"$python" scripts/bench/compare_outputs.py "$out/eval" fp32 int8 | tee "$out/identical.txt"

for callers in 1 8; do
  for p in fp32 int8 fp32 int8; do
    printf '== replay, %s, %d caller(s): ' "$p" "$callers"
    $prism replay --data "$data" --broker "$fe" --service "prism.explain.$p" --count $((callers * 24)) \
      --unknown-users "$callers" --concurrency "$callers" --show 0 | grep -E "requests,"
  done
done | tee "$out/replay.txt"
for p in fp32 int8; do
  pid=$(pgrep -f "id prism-$p" | head -n 1)
  echo "worker $p peak RSS: $(awk '/VmHWM/ {print $2, $3}' "/proc/$pid/status")"
done | tee "$out/rss.txt"
