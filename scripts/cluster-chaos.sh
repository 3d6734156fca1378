#!/usr/bin/env bash
# cluster-chaos.sh - three recache nodes under node crashes, hangs and a
# partition, driven by recache-bench --cluster with the full oracle.
#
# Design: the script re-executes itself inside a private network namespace
# (unshare -n, which needs root; without it the script says so and exits 0
# without running anything), brings up its loopback, and starts three nodes
# on 127.0.0.1 (each with --peers naming the other two when the server
# supports it).  recache-bench --cluster runs the recommendation workload
# with bumps, hard and soft tag invalidations and key invalidations for the
# whole run, writing a JSON timeline (answered and failed requests,
# violations, and each node's state as the client sees it, every 100 ms).
# Meanwhile the script injects, one phase after the other:
#   baseline   nothing;
#   kill       SIGKILL one node, restart it on the same port after KILL_S;
#   hang       SIGSTOP one node, SIGCONT it after HANG_S;
#   partition  an iptables DROP rule on one node's port (inside the
#              namespace, so nothing outside is touched), removed after PART_S.
# It records the wall-clock time of every fault and heal, and, after each
# heal, how long until the healed node reports the same namespace version
# as the others (convergence).  At the end it prints one row per phase:
# availability (answered / attempted), oracle violations of every kind, time
# to mark the node down, time until the client uses it again, and time to
# converge; and exits non-zero on any violation.
#
# Usage: sudo scripts/cluster-chaos.sh [PHASE_SECONDS]   (default 15; 4 phases)
#   BUILD_DIR   build directory (default: build)
#   CHAOS_OUT   directory for the timeline, logs and the table (default: a temp dir)
set -euo pipefail
cd "$(dirname "$0")/.."

phase_s="${1:-15}"
build="${BUILD_DIR:-build}"

if [ -z "${RC_CHAOS_INSIDE:-}" ]; then
  if [ "$(id -u)" -ne 0 ] || ! unshare -n true 2>/dev/null; then
    echo "cluster-chaos: SKIPPED: needs root to create a private network namespace (unshare -n)"
    exit 0
  fi
  if ! command -v iptables >/dev/null; then
    scripts/deps.sh iptables
  fi
  if [ ! -f "$build/CMakeCache.txt" ]; then
    scripts/deps.sh
    cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  fi
  cmake --build "$build" -j2 --target recache-server recache-bench recache-cli >/dev/null
  exec env RC_CHAOS_INSIDE=1 unshare -n "$0" "$@"
fi

# ---- inside the namespace ----------------------------------------------------------------------
ip link set lo up
out="${CHAOS_OUT:-$(mktemp -d)}"
mkdir -p "$out"
server="$build/server/recache-server"
cli="$build/clients/recache-cli"
bench="$build/loadtest/recache-bench"
ports=(7801 7802 7803)
nodes="127.0.0.1:7801,127.0.0.1:7802,127.0.0.1:7803"
declare -A pid
events="$out/events.txt"
: >"$events"

now_ms() { date +%s%3N; }
note() { echo "$1 $(now_ms) ${2:-}" >>"$events"; }

peers_of() {
  local me=$1 list="" p
  for p in "${ports[@]}"; do
    [ "$p" = "$me" ] || list="${list:+$list,}127.0.0.1:$p"
  done
  echo "$list"
}

start_node() {
  local port=$1 extra=()
  if "$server" --help 2>&1 | grep -q -- '--peers'; then
    extra=(--peers "$(peers_of "$port")" --gossip-ms 500)
  fi
  "$server" --port "$port" --threads 1 --memory 256mb --heartbeat-ms 200 "${extra[@]}" \
    >>"$out/node-$port.log" 2>&1 &
  pid[$port]=$!
  # The ready line is the signal that it listens.
  local deadline=$(($(now_ms) + 10000))
  until grep -q "listening on" "$out/node-$port.log" 2>/dev/null &&
    [ "$(grep -c "listening on" "$out/node-$port.log")" -ge "${2:-1}" ]; do
    [ "$(now_ms)" -lt "$deadline" ] || { echo "node $port did not start"; exit 2; }
    sleep 0.02
  done
}

cleanup() {
  local p
  for p in "${ports[@]}"; do
    kill -CONT "${pid[$p]:-0}" 2>/dev/null || true
    kill "${pid[$p]:-0}" 2>/dev/null || true
  done
  wait 2>/dev/null || true
}
trap cleanup EXIT

# converge PORT LABEL - after a heal: time until PORT reports the namespace version the others do.
converge() {
  local port=$1 start deadline want got p
  start=$(now_ms)
  deadline=$((start + 20000))
  while [ "$(now_ms)" -lt "$deadline" ]; do
    want=0
    for p in "${ports[@]}"; do
      [ "$p" = "$port" ] && continue
      got=$("$cli" -p "$p" --timeout 300 ns-info recs 2>/dev/null | awk '$1=="version"{print $2}' || true)
      [ -n "$got" ] && [ "$got" -gt "$want" ] && want=$got
    done
    got=$("$cli" -p "$port" --timeout 300 ns-info recs 2>/dev/null | awk '$1=="version"{print $2}' || true)
    if [ -n "$got" ] && [ "$got" -ge "$want" ]; then
      note converged "$port"
      return
    fi
    sleep 0.05
  done
  note converge-timeout "$port"
}

for p in "${ports[@]}"; do start_node "$p"; done
total=$((4 * phase_s + 2))
"$bench" --cluster "$nodes" --duration "$total" --threads 2 --users 20000 --items 20 \
  --read-pct 80 --bump-every 500 --tag-every 40 --delete-every 1 --soft-pct 30 --products 200 \
  --tags 2 --segments 16 --io-timeout-ms 300 --tko 2 --failover-ttl-ms 5000 \
  --timeline "$out/timeline.jsonl" --json "$out/bench.json" >"$out/bench.txt" 2>"$out/bench.err" &
bench_pid=$!
sleep 1 # let the timeline start: phase boundaries are wall-clock times, not synchronisation

note phase baseline
sleep "$phase_s"

note phase kill
victim=${ports[1]}
note fault "$victim"
kill -KILL "${pid[$victim]}"
sleep $((phase_s / 2))
start_node "$victim" 2
note heal "$victim"
converge "$victim"
sleep $((phase_s - phase_s / 2))

note phase hang
victim=${ports[2]}
note fault "$victim"
kill -STOP "${pid[$victim]}"
sleep $((phase_s / 2))
kill -CONT "${pid[$victim]}"
note heal "$victim"
converge "$victim"
sleep $((phase_s - phase_s / 2))

note phase partition
victim=${ports[0]}
note fault "$victim"
iptables -A INPUT -p tcp --dport "$victim" -j DROP
sleep $((phase_s / 2))
iptables -D INPUT -p tcp --dport "$victim" -j DROP
note heal "$victim"
converge "$victim"
note phase end

status=0
wait "$bench_pid" || status=$?
cat "$out/bench.txt"

python3 - "$out/timeline.jsonl" "$events" "$nodes" <<'PY' | tee "$out/table.md"
import json, sys
tl = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
ev = [l.split() for l in open(sys.argv[2]) if l.strip()]
names = sys.argv[3].split(",")
phases = []
for i, e in enumerate(ev):
    if e[0] == "phase" and e[2] != "end":
        end = next((int(x[1]) for x in ev[i + 1:] if x[0] == "phase"), tl[-1]["wall_ms"])
        phases.append((e[2], int(e[1]), end))

def at(ms):
    best = tl[0]
    for r in tl:
        if r["wall_ms"] <= ms:
            best = r
    return best

print("| phase | availability | violations | node | marked down after | used again after | converged after |")
print("|---|---:|---:|---|---:|---:|---:|")
for name, start, end in phases:
    a, b = at(start), at(end)
    answered, failed = b["answered"] - a["answered"], b["failed"] - a["failed"]
    avail = 100.0 * answered / max(1, answered + failed)
    viol = b["violations"] - a["violations"]
    fault = next((x for x in ev if x[0] == "fault" and start <= int(x[1]) < end), None)
    heal = next((x for x in ev if x[0] == "heal" and start <= int(x[1]) <= end), None)
    conv = next((x for x in ev if x[0].startswith("converge") and heal and x[2] == heal[2]
                 and int(x[1]) >= int(heal[1])), None)
    node, down, up, cv = "-", "-", "-", "-"
    if fault:
        port = fault[2]
        node = "127.0.0.1:" + port
        idx = names.index(node)
        t_fault = int(fault[1])
        d = next((r["wall_ms"] for r in tl if r["wall_ms"] >= t_fault and r["states"][idx] != "u"), None)
        down = f"{d - t_fault} ms" if d is not None else "never"
        if heal:
            t_heal = int(heal[1])
            u = next((r["wall_ms"] for r in tl if r["wall_ms"] >= t_heal and r["states"][idx] == "u"), None)
            up = f"{u - t_heal} ms" if u is not None else "not within the run"
            cv = (f"{int(conv[1]) - t_heal} ms" if conv and conv[0] == "converged" else "timed out")
    print(f"| {name} | {avail:.2f}% ({answered} of {answered + failed}) | {viol} | {node} | {down} | {up} | {cv} |")
PY
echo "cluster-chaos: artefacts in $out"
if [ "$status" -ne 0 ]; then
  echo "cluster-chaos: FAIL: recache-bench exited $status (violations or errors; see above)"
  exit 1
fi
echo "cluster-chaos: PASS: no oracle violation in any phase"
