#!/usr/bin/env bash
# Measure that idle, half-open admin connections leave the data port's latency unchanged
# (docs/ADMIN.md).  Starts one server with its admin port (certificates from
# scripts/gen-certs.sh in a temporary directory) and, ROUNDS times, runs recache-bench open
# loop against the data port without admin connections, then again while N admin connections
# each hold the first two bytes of a TLS record (a slowloris), so the two conditions alternate
# and share whatever else the machine is doing.  The handshake timeout is raised for the run so
# the connections stay open throughout.
# Usage: scripts/bench-admin-isolation.sh [BUILD_DIR] [N] [RATE] [SECONDS] [ROUNDS]
set -euo pipefail
cd "$(dirname "$0")/.."
build="${1:-build}"
n="${2:-100}"
rate="${3:-20000}"
secs="${4:-10}"
rounds="${5:-3}"
work=$(mktemp -d)
trap 'kill "$srv" 2>/dev/null || true; wait "$srv" 2>/dev/null || true; rm -rf "$work"' EXIT
scripts/gen-certs.sh "$work/certs" >/dev/null
port=17400
admin=17443
"$build/server/recache-server" --port "$port" --threads 2 --admin-port "$admin" \
  --admin-cert "$work/certs/server.crt" --admin-key "$work/certs/server.key" \
  --admin-ca "$work/certs/ca.crt" --admin-max-connections $((n + 8)) \
  --admin-handshake-timeout-ms 600000 --log-level warn >"$work/ready" 2>"$work/log" &
srv=$!
for _ in $(seq 100); do grep -q "listening on" "$work/ready" 2>/dev/null && break; sleep 0.05; done
grep -q "listening on" "$work/ready" || { cat "$work/log"; exit 1; }

bench() {
  echo "== $1"
  "$build/loadtest/recache-bench" --port "$port" --threads 1 --connections 8 --rate "$rate" \
    --duration "$secs" --warmup 1 --users 10000 --items 10 --fill 1 \
    | grep -E '^(measured|latency|get|set) '
}

# CPU ticks (user + system) used so far by the thread named $1 of the server.
thread_ticks() {
  for t in /proc/"$srv"/task/*; do
    if [ "$(cat "$t/comm")" = "$1" ]; then
      awk '{ print $14 + $15 }' "$t/stat"
      return
    fi
  done
  echo 0
}

for round in $(seq "$rounds"); do
  bench "round $round: baseline (no admin connections)"
  fds=()
  for _ in $(seq "$n"); do
    exec {fd}<>"/dev/tcp/127.0.0.1/$admin"
    printf '\x16\x03' >&"$fd"
    fds+=("$fd")
  done
  admin_before=$(thread_ticks rc-admin)
  bench "round $round: with $n half-open admin connections"
  admin_after=$(thread_ticks rc-admin)
  open_now=$(ls /proc/"$srv"/fd | wc -l)
  echo "(admin thread CPU during that run: $((admin_after - admin_before)) ticks of 1/$(getconf CLK_TCK) s)"
  for fd in "${fds[@]}"; do exec {fd}>&-; done
  echo "(server descriptors open while they were held: $open_now)"
done
