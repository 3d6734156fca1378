#!/usr/bin/env bash
# bench-lib.sh - what the side-by-side benchmark scripts share: installing
# the peers, building the binaries, starting each server on a free loopback
# port with the same settings, bounded waits, and reading a process's CPU
# time.  Sourced, never run; the caller sets ROOT, BUILD_DIR, OUT, THREADS
# and MEM_MB first.  start_server prints the pid from a subshell, so the
# caller adds it to PIDS; everything in PIDS is killed on exit.

PIDS=()
bench_cleanup() {
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    for p in "${PIDS[@]}"; do
        for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$p" 2>/dev/null || true
    done
}
trap bench_cleanup EXIT INT TERM

need() { command -v "$1" >/dev/null 2>&1; }
if ! need memcached || ! need redis-server || ! need redis-cli; then
    echo "installing memcached and redis-server from apt" >&2
    apt-get update -qq && apt-get install -y -qq memcached redis-server redis-tools >/dev/null
fi

BENCH=$BUILD_DIR/loadtest/recache-bench
SERVER=$BUILD_DIR/server/recache-server
CLI=$BUILD_DIR/clients/recache-cli
# Always build (a no-op when current): stale binaries would measure old code or
# lack options the scripts pass (--rate).
if [ ! -f "$BUILD_DIR/CMakeCache.txt" ]; then
    cmake -S "$ROOT" -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
fi
cmake --build "$BUILD_DIR" -j2 --target recache-server recache-bench recache-cli >/dev/null

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# Wait (bounded, 10 s) until something accepts connections on port $1.
wait_port() {
    for _ in $(seq 100); do
        if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then return 0; fi
        sleep 0.1
    done
    echo "server on port $1 did not come up" >&2
    return 1
}

# Stop one server started by start_server and wait (bounded, 10 s) until it is gone.
stop_server() {
    kill "$1" 2>/dev/null || true
    for _ in $(seq 100); do kill -0 "$1" 2>/dev/null || return 0; sleep 0.1; done
}

# start_server TARGET PORT - start recache, memcached or redis; prints its pid.  recache and
# memcached get THREADS worker threads, Redis its own defaults (io-threads 1); all get MEM_MB.
# RECACHE_ARGS (words, default none) are added to recache's command line, e.g.
# RECACHE_ARGS="--worker-yield-us 0".
start_server() {
    case $1 in
    recache)
        # shellcheck disable=SC2086 # RECACHE_ARGS is a list of words
        "$SERVER" --bind 127.0.0.1 --port "$2" --threads "$THREADS" --memory "${MEM_MB}mb" \
            ${RECACHE_ARGS:-} >"$OUT/recache.log" 2>&1 &
        ;;
    memcached)
        memcached -l 127.0.0.1 -p "$2" -U 0 -t "$THREADS" -m "$MEM_MB" -c 4096 -u "$(id -un)" \
            >"$OUT/memcached.log" 2>&1 &
        ;;
    redis)
        redis-server --bind 127.0.0.1 --port "$2" --save '' --appendonly no \
            --maxmemory "${MEM_MB}mb" --maxmemory-policy allkeys-lru >"$OUT/redis.log" 2>&1 &
        ;;
    esac
    echo $!
}

json_field() { # file python-expression-on-j
    python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"
}

CLK_TCK=$(getconf CLK_TCK)
# User + system clock ticks of process $1 so far.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

# order RUN TARGET... - the targets rotated by the run number, so each leads in turn.
order() {
    local run=$1 i
    shift
    local t=("$@") n=$#
    for ((i = 0; i < n; i++)); do echo "${t[$(((i + run) % n))]}"; done
}
