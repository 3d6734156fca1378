#!/usr/bin/env bash
# bench-compare.sh - recache against memcached and Redis, side by side, fairly.
#
# Starts the three servers on loopback (a free port each, the same memory
# limit; recache and memcached with THREADS worker threads, Redis at its own
# defaults, io-threads 1), fills each with every user once and records RSS
# per entry.  Then, RUNS times, runs the same recache-bench workload (plain
# get/set, 90% reads, Zipf users, 800-byte values) at pipeline depth 1 and
# 16 against each server, ALTERNATING the order run by run (so slow phases
# of this shared machine do not always hit the same server), and records
# ops/s, GET p99, throughput per second and the server's CPU per operation
# (user + system time from /proc/PID/stat over the run, divided by the
# operations answered over the same span, warmup included: the figure that
# stays meaningful when the load generator shares the cores).  Closed-loop
# runs put each server at its own maximum, so the same-load rows then run
# every server open loop at one fixed rate (--rate SAME_RATE, pipeline 1,
# latency from the scheduled send time).
# Prints medians and the ratios recache/memcached and recache/redis, writes
# the table to $OUT/table.md and a self-contained HTML page with SVG charts
# (no scripts) to $OUT/report.html.  Servers not under test are idle.
# Everything started is killed on exit; every wait is bounded.
#
# Every server receives the same requests: values carry no tags, since the
# peers have none to store (recache-bench sends tags to recache only).  The
# cost of recache's tags is measured beside the table instead: RSS per entry
# of a separate recache filled with TAGGED_TAGS (2) product tags per value.
#
# Environment: RUNS (3), QUICK=1 (100k users, 2 s runs, 1 run, SAME_RATE
# 20000), USERS, DURATION, SAME_RATE (50000 requests/s: below what every server sustains
# here, so the p99s compare service, not backlog), CONNECTIONS (50),
# THREADS (2), MEM_MB (2048), RECACHE_ARGS (extra recache-server options, e.g.
# "--worker-yield-us 0"), BUILD_DIR (build-bench, built if missing), OUT
# (directory for the JSON reports, the table and the HTML page).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD_DIR=${BUILD_DIR:-$ROOT/build-bench}
QUICK=${QUICK:-0}
if [ "$QUICK" = 1 ]; then
    RUNS=${RUNS:-1}; USERS=${USERS:-100000}; DURATION=${DURATION:-2}; SAME_RATE=${SAME_RATE:-20000}
else
    RUNS=${RUNS:-3}; USERS=${USERS:-1000000}; DURATION=${DURATION:-5}; SAME_RATE=${SAME_RATE:-50000}
fi
CONNECTIONS=${CONNECTIONS:-50}
THREADS=${THREADS:-2}
MEM_MB=${MEM_MB:-2048}
ITEMS=96 # 32-byte header + 96 x 8 bytes = 800-byte values
OUT=${OUT:-$(mktemp -d /tmp/bench-compare.XXXXXX)}
mkdir -p "$OUT"

# shellcheck source=bench-lib.sh
source "$ROOT/scripts/bench-lib.sh"

rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }

# Entries held by the server: target port
entries() {
    case $1 in
    recache) "$CLI" -p "$2" stats | awk '$1 == "entries" {print $2}' ;;
    memcached)
        exec 3<>"/dev/tcp/127.0.0.1/$2"
        printf 'stats\r\nquit\r\n' >&3
        timeout 5 cat <&3 | tr -d '\r' | awk '$2 == "curr_items" {print $3}'
        exec 3>&- ;;
    redis) redis-cli -p "$2" dbsize ;;
    esac
}

TAGGED_TAGS=${TAGGED_TAGS:-2}
COMMON=(--users "$USERS" --items "$ITEMS" --read-pct 90 --mode plain --tags 0
        --connections "$CONNECTIONS" --threads 2 --duration "$DURATION" --warmup 1)

declare -A PORT PID OPS P99 CPU RSSE RATE_OPS RATE_P99 RATE_CPU
TARGETS=(recache memcached redis)
for target in "${TARGETS[@]}"; do
    port=$(free_port)
    pid=$(start_server "$target" "$port")
    PIDS+=("$pid")
    PORT[$target]=$port
    PID[$target]=$pid
    wait_port "$port"
    echo "== $target (pid $pid, port $port): fill $USERS users" >&2
    timeout 600 "$BENCH" --target "$target" --port "$port" "${COMMON[@]}" --fill 1 \
        --pipeline 16 --duration 1 --warmup 0 --json "$OUT/$target-fill.json" >"$OUT/$target-fill.txt"
    rss=$(rss_kb "$pid")
    n=$(entries "$target" "$port")
    RSSE[$target]=$(python3 -c "print(round($rss*1024/max($n,1),1))")
    echo "   RSS ${rss} kB, $n entries: ${RSSE[$target]} bytes per entry" >&2
done

# What tags cost: a separate recache, filled the same way with TAGGED_TAGS tags per value, then
# stopped (its CPU would otherwise compete with the runs).
port=$(free_port)
pid=$(start_server recache "$port")
PIDS+=("$pid")
wait_port "$port"
echo "== recache with $TAGGED_TAGS tags per value (pid $pid, port $port): fill $USERS users" >&2
timeout 600 "$BENCH" --target recache --port "$port" "${COMMON[@]}" --fill 1 --pipeline 16 \
    --duration 1 --warmup 0 --tags "$TAGGED_TAGS" --json "$OUT/recache-tagged-fill.json" \
    >"$OUT/recache-tagged-fill.txt"
rss=$(rss_kb "$pid")
n=$(entries recache "$port")
RSSE_TAGGED=$(python3 -c "print(round($rss*1024/max($n,1),1))")
echo "   RSS ${rss} kB, $n entries: $RSSE_TAGGED bytes per entry" >&2
stop_server "$pid"

# measure TARGET FILE ARGS... - one bench run; prints "ops p99 cpu_us_per_op".
measure() {
    local target=$1 f=$2 t0 t1 ops p99
    shift 2
    t0=$(cpu_ticks "${PID[$target]}")
    timeout 300 "$BENCH" --target "$target" --port "${PORT[$target]}" "${COMMON[@]}" "$@" \
        --json "$f" >"${f%.json}.txt"
    t1=$(cpu_ticks "${PID[$target]}")
    # The CPU was measured around the whole bench run, warmup included: divide by every answer.
    ops=$(json_field "$f" 'j["counters"]["answered"]')
    p99=$(json_field "$f" 'j["latency_us"]["get"]["p99"]')
    local cpu
    cpu=$(python3 -c "print(round(($t1 - $t0) * 1e6 / $CLK_TCK / max($ops, 1), 2))")
    printf '%s\t%s\n' "$(basename "$f" .json)" "$cpu" >>"$OUT/cpu.tsv"
    echo "$(json_field "$f" 'round(j["ops_per_sec"])') $p99 $cpu"
}

: >"$OUT/cpu.tsv"
for run in $(seq "$RUNS"); do
    for depth in 1 16; do
        for target in $(order "$run" "${TARGETS[@]}"); do
            read -r ops p99 cpu < <(measure "$target" "$OUT/$target-p$depth-r$run.json" \
                --pipeline "$depth" --seed "$run")
            echo "   run $run pipeline $depth $target: $ops ops/s, get p99 $p99 us, $cpu us CPU/op" >&2
            OPS[$target,$depth]+="$ops "
            P99[$target,$depth]+="$p99 "
            CPU[$target,$depth]+="$cpu "
        done
    done
    # Same load for every server: open loop at SAME_RATE, so p99s are comparable.
    for target in $(order "$run" "${TARGETS[@]}"); do
        f="$OUT/$target-rate$SAME_RATE-r$run.json"
        read -r _ p99 cpu < <(measure "$target" "$f" --pipeline 1 --rate "$SAME_RATE" --seed "$run")
        ops=$(json_field "$f" 'round(j["pacing"]["achieved_per_sec"])')
        echo "   run $run rate $SAME_RATE/s $target: $ops achieved, get p99 $p99 us, $cpu us CPU/op" >&2
        RATE_OPS[$target]+="$ops "
        RATE_P99[$target]+="$p99 "
        RATE_CPU[$target]+="$cpu "
    done
done

median() { python3 -c 'import statistics,sys; print(statistics.median(float(x) for x in sys.argv[1:]))' $1; }
ratio() { python3 -c "print('%.2f' % ($1 / $2) if $2 else 'n/a')"; }

{
echo "bench-compare: $USERS users, 800-byte values, 90% reads, $CONNECTIONS connections," \
     "recache and memcached $THREADS threads, Redis at its defaults (io-threads 1)," \
     "no tags, ${MEM_MB} MB limit, ${DURATION} s x $RUNS runs alternating servers (medians);" \
     "same-load rows open loop at $SAME_RATE requests/s, pipeline 1"
echo "command: RUNS=$RUNS USERS=$USERS DURATION=$DURATION SAME_RATE=$SAME_RATE THREADS=$THREADS${RECACHE_ARGS:+ RECACHE_ARGS=\"$RECACHE_ARGS\"} scripts/bench-compare.sh"
echo
# row LABEL FORMAT RECACHE_VALUES MEMCACHED_VALUES REDIS_VALUES: medians of each and the two ratios.
row() {
    local r m d
    r=$(median "$3"); m=$(median "$4"); d=$(median "$5")
    printf "| %-28s | $2 | $2 | $2 | %6s | %8s |\n" "$1" "$r" "$m" "$d" "$(ratio "$r" "$m")" "$(ratio "$r" "$d")"
}
printf '| %-28s | %12s | %12s | %12s | %6s | %8s |\n' metric recache memcached redis rc/mc rc/redis
echo "|---|---:|---:|---:|---:|---:|"
for depth in 1 16; do
    row "ops/s, pipeline $depth" '%12.0f' "${OPS[recache,$depth]}" "${OPS[memcached,$depth]}" "${OPS[redis,$depth]}"
    row "GET p99 us, pipeline $depth" '%12.1f' "${P99[recache,$depth]}" "${P99[memcached,$depth]}" "${P99[redis,$depth]}"
    row "server CPU us/op, pipeline $depth" '%12.2f' "${CPU[recache,$depth]}" "${CPU[memcached,$depth]}" "${CPU[redis,$depth]}"
done
row "achieved ops/s @ $SAME_RATE/s" '%12.0f' "${RATE_OPS[recache]}" "${RATE_OPS[memcached]}" "${RATE_OPS[redis]}"
row "GET p99 us @ $SAME_RATE/s" '%12.1f' "${RATE_P99[recache]}" "${RATE_P99[memcached]}" "${RATE_P99[redis]}"
row "server CPU us/op @ $SAME_RATE/s" '%12.2f' "${RATE_CPU[recache]}" "${RATE_CPU[memcached]}" "${RATE_CPU[redis]}"
printf '| %-28s | %12s | %12s | %12s | %6s | %8s |\n' "RSS bytes/entry" "${RSSE[recache]}" \
    "${RSSE[memcached]}" "${RSSE[redis]}" "$(ratio "${RSSE[recache]}" "${RSSE[memcached]}")" \
    "$(ratio "${RSSE[recache]}" "${RSSE[redis]}")"
echo
echo "RSS bytes/entry of recache with $TAGGED_TAGS tags per value (the peers store none): $RSSE_TAGGED"
} | tee "$OUT/table.md"

python3 "$ROOT/scripts/bench-report.py" "$OUT" "$RUNS" "$SAME_RATE" >"$OUT/report.html"
echo "table: $OUT/table.md; report: $OUT/report.html" >&2
