#!/usr/bin/env bash
# Soak run: a real fleet (broker, 2 echo workers, 2 Prism workers with a trained student) under a paced
# load for PRISM_SOAK_MINUTES (default 10) at about 80 % of its measured capacity, with the RSS and
# open file descriptors of every process sampled every 10 s. Passes when, after the warm-up (the
# first 2 minutes), no process grows by more than 10 %.
#   scripts/soak.sh                       # student and data from the demo (out/demo)
#   PRISM_STUDENT=DIR PRISM_DATA_DIR=DIR PRISM_SOAK_MINUTES=10 scripts/soak.sh
# Writes $PRISM_SOAK_OUT (default out/soak): samples.tsv, load logs, summary.txt.
set -euo pipefail
cd "$(dirname "$0")/.."
minutes=${PRISM_SOAK_MINUTES:-10}
student=${PRISM_STUDENT:-out/demo/student}
data=${PRISM_DATA_DIR:-out/demo/data}
out=${PRISM_SOAK_OUT:-out/soak}
[ -f "$student/prism.json" ] || { echo "no student in $student (run scripts/demo.sh first, or set PRISM_STUDENT)" >&2; exit 1; }
mkdir -p "$out"
python=$(scripts/setup-python.sh | tail -n 1)
swift build -c release --product prism 2>&1 | tail -n 1
prism=.build/release/prism

. scripts/lib/fleet.sh
start_broker "$out"
declare -A role=([$broker]=broker)
for i in 1 2; do
  $prism worker --broker "$be" --service echo --capacity 16 --id "echo-$i" --log-level warning 2>>"$out/workers.log" &
  pids+=($!); role[$!]="echo-$i"
  $prism worker --broker "$be" --service prism.explain --model "$student" --catalog "$data/catalog.jsonl" \
    --capacity 8 --batch-wait-ms 5 --id "prism-$i" --log-level warning 2>>"$out/workers.log" &
  pids+=($!); role[$!]="prism-$i"
done
wait_for_workers prism.explain 2

# Capacity of each service alone: an open-loop load far above it, OK replies per second.
capacity() { # service rate seconds [extra]
  $prism bench load --broker "$fe" --service "$1" --rate "$2" --seconds "$3" --report-every "$3" "${@:4}" \
    | sed -n 's/^total: sent [0-9]*, ok \([0-9]*\),.*/\1/p' | awk -v s="$3" '{ printf "%d", $1 / s }'
}
echo_capacity=$(capacity echo 60000 10)
explain_capacity=$(capacity prism.explain 200 15 --data "$data")
# Both loads at once, each at 40 % of its capacity alone: about 80 % of the fleet's.
echo_rate=$(( echo_capacity * 40 / 100 )); explain_rate=$(( explain_capacity * 40 / 100 ))
echo "capacity alone: echo $echo_capacity/s, prism.explain $explain_capacity/s; soak at echo $echo_rate/s + prism.explain $explain_rate/s for $minutes min" | tee "$out/summary.txt"

seconds=$(( minutes * 60 ))
$prism bench load --broker "$fe" --service echo --rate "$echo_rate" --seconds "$seconds" --report-every 30 >"$out/load-echo.log" &
pids+=($!); echo_load=$!; role[$echo_load]="load-echo"
$prism bench load --broker "$fe" --service prism.explain --data "$data" --rate "$explain_rate" --seconds "$seconds" --report-every 30 >"$out/load-explain.log" &
pids+=($!); explain_load=$!; role[$explain_load]="load-explain"

printf 't_s\tprocess\trss_kb\tfds\n' >"$out/samples.tsv"
started=$(date +%s)
while kill -0 "$echo_load" 2>/dev/null || kill -0 "$explain_load" 2>/dev/null; do
  t=$(( $(date +%s) - started ))
  for pid in "${!role[@]}"; do
    [ -r "/proc/$pid/status" ] || continue
    rss=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status"); fds=$(ls "/proc/$pid/fd" 2>/dev/null | wc -l)
    printf '%d\t%s\t%s\t%s\n' "$t" "${role[$pid]}" "$rss" "$fds" >>"$out/samples.tsv"
  done
  sleep 10
done
wait "$echo_load" "$explain_load" || true
tail -n 1 "$out/load-echo.log" | tee -a "$out/summary.txt"
tail -n 1 "$out/load-explain.log" | tee -a "$out/summary.txt"
"$python" scripts/soak_growth.py "$out/samples.tsv" --warmup 120 --limit 0.10 | tee -a "$out/summary.txt"
