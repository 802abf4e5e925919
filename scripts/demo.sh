#!/usr/bin/env bash
# The main job on the embedded default. Today: the fleet on loopback — a broker, two workers,
# calls through it, its health and metrics. (The explanation pipeline on MovieLens replaces the
# echo service here as the Prism student lands; see README.md, "Status".)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup-system.sh
swift build -c release --product prism >&2
prism=.build/release/prism
out=${PRISM_OUT:-out/demo}; mkdir -p "$out"
cleanup() { kill $(jobs -p) 2>/dev/null || true; wait 2>/dev/null || true; }
trap cleanup EXIT
$prism broker --frontend tcp://127.0.0.1:*  --backend tcp://127.0.0.1:* --metrics-port 0 >"$out/broker.out" 2>"$out/broker.log" &
for _ in $(seq 100); do grep -q "ready" "$out/broker.out" 2>/dev/null && break; sleep 0.1; done
line=$(grep "ready" "$out/broker.out")
fe=$(echo "$line" | sed 's/.*frontend=\([^ ]*\).*/\1/'); be=$(echo "$line" | sed 's/.*backend=\([^ ]*\).*/\1/')
echo "broker: frontend $fe, backend $be"
$prism worker --broker "$be" --service echo --capacity 4 --id echo-1 2>"$out/worker-1.log" &
$prism worker --broker "$be" --service sleep --handler sleep --sleep-ms 50 --capacity 2 --id sleep-1 2>"$out/worker-2.log" &
sleep 1
echo "echo  -> $($prism call --broker "$fe" --service echo --body 'why this item, for this user?')"
echo "sleep -> $($prism call --broker "$fe" --service sleep --body 'answered after 50 ms')"
$prism call --broker "$fe" --service no-such-service --body x --timeout-ms 3000 || true
$prism health --broker "$fe"
