#!/usr/bin/env bash
# invalcost.sh - what a bump and a tag invalidation cost, at once and in the
# writes that follow, with 1k, 100k and 1M entries (docs/BENCHMARKS.md).
#
# For each size a fresh recache-server is started with a memory limit the
# fill just reaches (about 1 KiB per entry), so the timed writes after each
# invalidation evict: that is where deferred work (reclaiming what the
# invalidation made obsolete) would show.  Flat means flat in both columns.
# Usage: scripts/invalcost.sh [WRITES]   (default 10000 timed writes per kind)
set -euo pipefail
cd "$(dirname "$0")/.."
build="${BUILD_DIR:-build}"
writes="${1:-10000}"
if [ ! -f "$build/CMakeCache.txt" ]; then
  scripts/deps.sh
  cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
fi
cmake --build "$build" -j2 --target recache-server recache-bench >/dev/null
server_pid=""
trap '[ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null; wait 2>/dev/null || true' EXIT
for entries in 1000 100000 1000000; do
  mem_mb=$(( (entries * 1150 + 1048575) / 1048576 ))
  [ "$mem_mb" -ge 1 ] || mem_mb=1
  log=$(mktemp)
  "$build/server/recache-server" --port 0 --threads 2 --memory "${mem_mb}mb" --max-value 4kb \
    --max-frame 64kb --max-output 64kb >"$log" 2>&1 &
  server_pid=$!
  until port=$(sed -n 's/.*listening on 127.0.0.1:\([0-9]*\).*/\1/p' "$log") && [ -n "$port" ]; do
    kill -0 "$server_pid" || { cat "$log"; exit 2; }
    sleep 0.05
  done
  echo "== $entries entries, server --memory ${mem_mb}mb"
  "$build/loadtest/recache-bench" invalcost --port "$port" --entries "$entries" \
    --writes "$writes" --items 120
  kill "$server_pid"
  wait "$server_pid" || true
  server_pid=""
  rm -f "$log"
done
