#!/usr/bin/env bash
# bench-split.sh - where each server's time goes at one load point.
#
# For recache, memcached and Redis in turn (ROUNDS rounds, the order rotated
# round by round; one server running at a time, started fresh and filled with
# every user once, settings as in bench-compare.sh), one recache-bench run
# measured from /proc: ops/s, GET p50 and p99, the server's user and system
# time per operation and its voluntary and involuntary context switches per
# operation (summed over its threads).  When perf is installed, a second run
# of the same workload counts the server's system calls per operation
# (perf stat -e raw_syscalls:sys_enter); it is separate because tracing
# slows the server.  Then it prints the medians, the cost of one system call
# entry on this machine (perf bench syscall basic), and the ceiling those
# imply: with the load generator on the same cores, the whole machine spends
# NCPU / (ops/s) per operation, so a recache whose user-space code and system
# call entries cost nothing would be at most that much faster (closed loop
# only: with RATE the machine is not saturated).
#
# Environment: ROUNDS (3), USERS (100000), DURATION (5), PIPELINE (1), RATE
# (empty: closed loop; a number: open loop at that many requests/s),
# CONNECTIONS (50), BENCH_THREADS (2, the load generator's threads), THREADS
# (2, recache's and memcached's workers), MEM_MB (2048), RECACHE_ARGS (extra
# recache-server options), BUILD_DIR (build-bench), OUT (directory for the
# JSON reports and split.md).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD_DIR=${BUILD_DIR:-$ROOT/build-bench}
ROUNDS=${ROUNDS:-3}
USERS=${USERS:-100000}
DURATION=${DURATION:-5}
PIPELINE=${PIPELINE:-1}
RATE=${RATE:-}
CONNECTIONS=${CONNECTIONS:-50}
BENCH_THREADS=${BENCH_THREADS:-2}
THREADS=${THREADS:-2}
MEM_MB=${MEM_MB:-2048}
OUT=${OUT:-$(mktemp -d /tmp/bench-split.XXXXXX)}
mkdir -p "$OUT"

# shellcheck source=bench-lib.sh
source "$ROOT/scripts/bench-lib.sh"

WORKLOAD=(--users "$USERS" --items 96 --read-pct 90 --mode plain --tags 0
          --connections "$CONNECTIONS" --threads "$BENCH_THREADS")
RUN=("${WORKLOAD[@]}" --pipeline "$PIPELINE" --duration "$DURATION" --warmup 1)
if [ -n "$RATE" ]; then RUN+=(--rate "$RATE"); fi

# Voluntary and involuntary context switches of process $1, summed over its threads.
switches() {
    cat /proc/"$1"/task/*/status 2>/dev/null |
        awk '/^voluntary_ctxt_switches/ {v += $2} /^nonvoluntary_ctxt_switches/ {n += $2}
             END {print v + 0, n + 0}'
}

HAVE_PERF=0
if need perf && perf stat -e raw_syscalls:sys_enter -x, true >/dev/null 2>&1; then HAVE_PERF=1; fi

TARGETS=(recache memcached redis)
declare -A ROWS
for round in $(seq "$ROUNDS"); do
    for target in $(order "$round" "${TARGETS[@]}"); do
        port=$(free_port)
        pid=$(start_server "$target" "$port")
        PIDS+=("$pid")
        wait_port "$port"
        timeout 600 "$BENCH" --target "$target" --port "$port" "${WORKLOAD[@]}" --fill 1 \
            --pipeline 16 --duration 1 --warmup 0 >"$OUT/$target-fill-r$round.txt"
        f=$OUT/$target-r$round.json
        t0=$(cpu_ticks "$pid"); u0=$(awk '{print $14}' "/proc/$pid/stat"); read -r v0 n0 < <(switches "$pid")
        timeout 300 "$BENCH" --target "$target" --port "$port" "${RUN[@]}" --seed "$round" \
            --json "$f" >"${f%.json}.txt"
        t1=$(cpu_ticks "$pid"); u1=$(awk '{print $14}' "/proc/$pid/stat"); read -r v1 n1 < <(switches "$pid")
        calls=nan
        if [ "$HAVE_PERF" = 1 ]; then
            g=$OUT/$target-r$round-syscalls.json
            perf stat -e raw_syscalls:sys_enter -x, -o "$OUT/$target-r$round-perf.txt" -p "$pid" -- \
                timeout 300 "$BENCH" --target "$target" --port "$port" "${RUN[@]}" \
                --seed "$round" --json "$g" >/dev/null
            calls=$(python3 -c 'import sys
n = int(open(sys.argv[1]).read().split("raw_syscalls")[0].strip().splitlines()[-1].split(",")[0])
print(n / int(sys.argv[2]))' "$OUT/$target-r$round-perf.txt" "$(json_field "$g" 'j["counters"]["answered"]')")
        fi
        row=$(python3 - "$f" "$CLK_TCK" "$t0" "$t1" "$u0" "$u1" "$v0" "$v1" "$n0" "$n1" "$calls" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
hz, t0, t1, u0, u1, v0, v1, n0, n1 = map(int, sys.argv[2:11])
# The CPU was measured around the whole bench run, warmup included: divide by every answer.
ops, g = max(j["counters"]["answered"], 1), j["latency_us"]["get"]
usr = (u1 - u0) * 1e6 / hz / ops
sys_ = ((t1 - t0) - (u1 - u0)) * 1e6 / hz / ops
print(j["ops_per_sec"], g["p50"], g["p99"], usr, sys_, (v1 - v0) / ops, (n1 - n0) / ops, sys.argv[11])
PY
)
        echo "   round $round $target: $row" >&2
        ROWS[$target]+="$row;"
        stop_server "$pid"
    done
done

ENTRY_NS=nan
if [ "$HAVE_PERF" = 1 ]; then
    ENTRY_NS=$(perf bench syscall basic 2>/dev/null | awk '/usecs\/op/ {print $1 * 1000}')
fi

python3 - "$(nproc)" "$ENTRY_NS" "${ROWS[recache]}" "${ROWS[memcached]}" "${ROWS[redis]}" \
    "ROUNDS=$ROUNDS USERS=$USERS DURATION=$DURATION PIPELINE=$PIPELINE RATE=$RATE BENCH_THREADS=$BENCH_THREADS THREADS=$THREADS${RECACHE_ARGS:+ RECACHE_ARGS=\"$RECACHE_ARGS\"}" "$RATE" <<'PY' | tee "$OUT/split.md"
import math, statistics, sys
ncpu, entry_ns = int(sys.argv[1]), float(sys.argv[2])
names = ["recache", "memcached", "redis"]
rows = {n: [list(map(float, r.split())) for r in sys.argv[3 + i].split(";") if r.strip()]
        for i, n in enumerate(names)}
med = {n: [statistics.median(col) for col in zip(*rows[n])] for n in names}
print("command: " + sys.argv[6] + " scripts/bench-split.sh")
print()
print("| server | ops/s | GET p50 us | GET p99 us | user us/op | system us/op "
      "| voluntary switches/op | involuntary switches/op | syscalls/op |")
print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
for n in names:
    ops, p50, p99, usr, sys_, vcs, ivcs, calls = med[n]
    print(f"| {n} | {ops:.0f} | {p50:.0f} | {p99:.0f} | {usr:.2f} | {sys_:.2f} | {vcs:.3f} "
          f"| {ivcs:.3f} | {calls:.2f} |")
print()
if sys.argv[7]:
    sys.exit(0)  # open loop: the machine is not saturated, so there is no ceiling to compute
ops, usr, calls = med["recache"][0], med["recache"][3], med["recache"][7]
machine = ncpu * 1e6 / ops
print(f"machine CPU per operation (all {ncpu} CPUs, server and load generator): {machine:.2f} us")
if not math.isnan(entry_ns) and not math.isnan(calls):
    saved = usr + calls * entry_ns / 1000
    best = machine / (machine - saved)
    print(f"one system call entry: {entry_ns:.0f} ns (perf bench syscall basic)")
    print(f"recache with free user space and free syscall entries ({saved:.2f} us/op less): "
          f"at most {best:.2f}x its measured ops/s, "
          f"{best * ops / med['memcached'][0]:.2f}x memcached, {best * ops / med['redis'][0]:.2f}x Redis")
PY
echo "split: $OUT/split.md" >&2
