# Shell helpers for the scripts that start a fleet on loopback (demo, soak, table3). Source it after
# `set -euo pipefail`; `prism` must name the binary. Every process started is added to `pids`, which
# `stop_fleet` (installed as the EXIT trap) kills.
pids=()
stop_fleet() { for p in "${pids[@]:-}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap stop_fleet EXIT

# start_broker DIR: a broker on two free loopback ports; sets fe (frontend), be (backend) and broker (its pid).
start_broker() {
  $prism broker --frontend 'tcp://127.0.0.1:*' --backend 'tcp://127.0.0.1:*' --log-level warning \
    >"$1/broker.out" 2>"$1/broker.log" &
  broker=$!
  pids+=("$broker")
  for _ in $(seq 100); do grep -q ready "$1/broker.out" 2>/dev/null && break; sleep 0.1; done
  fe=$(sed -n 's/.*frontend=\([^ ]*\).*/\1/p' "$1/broker.out")
  be=$(sed -n 's/.*backend=\([^ ]*\).*/\1/p' "$1/broker.out")
  [ -n "$fe" ] && [ -n "$be" ] || { cat "$1/broker.log" >&2; echo "the broker did not start" >&2; return 1; }
}

# wait_for_workers SERVICE N: until the broker reports N idle-or-busy workers of SERVICE (30 s at most).
wait_for_workers() {
  for _ in $(seq 100); do
    $prism health --broker "$fe" --service "$1" 2>/dev/null | grep -q "$1 *$2 " && return 0
    sleep 0.3
  done
  echo "fewer than $2 workers of $1 registered" >&2
  return 1
}
