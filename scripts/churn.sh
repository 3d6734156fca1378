#!/usr/bin/env bash
# churn.sh - the churn run of issue 9: recache-bench --churn 1 against a fresh
# recache-server, every read judged by the oracle (docs/CHURN.md).
#
# Design: builds recache-server and recache-bench if needed (configuring the
# build directory on first use), starts the server on a free loopback port
# (--port 0; the port is read from the server's ready line, which is also
# the signal that it listens: no sleep), runs the churn for the given
# duration, prints the bench's report, and exits with the bench's status:
# 0 = no violation of any kind, 1 = oracle violations (named per kind in
# the report's "violations:" and "verdict:" lines), 2 = setup error.  The
# server is stopped on every exit path (trap), and its log is printed when
# it did not stop cleanly.
#
# Usage: scripts/churn.sh [SECONDS] [extra recache-bench options...]
#   SECONDS          measured seconds (default: $CHURN_SECONDS, else 60)
#   BUILD_DIR        build directory (default: build)
#   CHURN_MEMORY     server --memory (default: 32mb: the 1 MiB values make it evict)
#   CHURN_JSON       also write the JSON report there
set -euo pipefail
cd "$(dirname "$0")/.."

secs="${CHURN_SECONDS:-60}"
if [ $# -gt 0 ] && [[ "$1" =~ ^[0-9]+([.][0-9]+)?$ ]]; then
  secs="$1"
  shift
fi
build="${BUILD_DIR:-build}"
memory="${CHURN_MEMORY:-32mb}"

if [ ! -f "$build/CMakeCache.txt" ]; then
  scripts/deps.sh
  cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
fi
cmake --build "$build" -j2 --target recache-server recache-bench >/dev/null

tmp="$(mktemp -d)"
server_pid=""
drain_pid=""
# shellcheck disable=SC2317 # invoked by the EXIT trap
cleanup() {
  local status=$?
  if [ -n "$server_pid" ]; then
    kill -TERM "$server_pid" 2>/dev/null || true
    if ! wait "$server_pid"; then
      echo "churn: the server did not stop cleanly (or died early); its log:" >&2
      cat "$tmp/server.log" >&2 || true
    fi
  fi
  if [ -n "$drain_pid" ]; then
    wait "$drain_pid" 2>/dev/null || true
  fi
  rm -rf "$tmp"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 2' INT TERM

mkfifo "$tmp/out"
"$build/server/recache-server" --bind 127.0.0.1 --port 0 --threads 2 --memory "$memory" \
  >"$tmp/out" 2>"$tmp/server.log" &
server_pid=$!
exec 3<"$tmp/out"
if ! IFS= read -r -t 10 ready <&3; then
  echo "churn: the server did not start within 10 s; its log:" >&2
  cat "$tmp/server.log" >&2
  exit 2
fi
# Keep reading the server's stdout so it can never block on a full pipe.
cat <&3 >>"$tmp/server.log" &
drain_pid=$!
exec 3<&-
port="$(sed -n 's/.* listening on 127\.0\.0\.1:\([0-9]*\) .*/\1/p' <<<"$ready")"
if [ -z "$port" ]; then
  echo "churn: cannot read the port from the server's ready line: $ready" >&2
  exit 2
fi
echo "churn: $ready"
echo "churn: $secs s of recache-bench --churn 1 on port $port (server --memory $memory)"

json_args=()
if [ -n "${CHURN_JSON:-}" ]; then
  json_args=(--json "$CHURN_JSON")
fi
status=0
"$build/loadtest/recache-bench" --churn 1 --port "$port" --duration "$secs" \
  "${json_args[@]}" "$@" || status=$?
case "$status" in
  0) echo "churn: PASS: no violation of any kind" ;;
  1) echo "churn: FAIL: oracle violations (see the violations: and verdict: lines above)" ;;
  *) echo "churn: ERROR: recache-bench exited with status $status" ;;
esac
exit "$status"
