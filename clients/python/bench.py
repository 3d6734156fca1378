#!/usr/bin/env python3
"""Throughput of the Python client: get and set ops/s, one connection, plain and pipelined.

Usage (from the repository root, against a running server or one it starts):

    python3 clients/python/bench.py --server build-release/server/recache-server
    python3 clients/python/bench.py --host 127.0.0.1 --port 7400 --seconds 2

Each phase runs for --seconds on one connection: set then get of --keys
keys with --value-size byte values, first one request per round trip, then
pipelines of --depth requests per write.  The numbers measure this client
(pure Python: encoding, syscalls, decoding) far more than the server.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import subprocess
import sys
import time
from typing import Callable, List, Optional, Tuple

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import recache  # noqa: E402

NS = "bench"


def _start_server(binary: str) -> Tuple[subprocess.Popen, int]:
    """Start binary on a free loopback port; returns (process, port) once it is ready."""
    proc = subprocess.Popen([binary, "--bind", "127.0.0.1", "--port", "0", "--log-level",
                             "warn"], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE)
    assert proc.stdout is not None
    line = proc.stdout.readline().decode()
    m = re.search(r" listening on \S+:(\d+) ", line)
    if m is None:
        proc.kill()
        raise SystemExit(f"bench: server did not start: {line!r}")
    return proc, int(m.group(1))


def _run(seconds: float, step: Callable[[int], int]) -> float:
    """Call step(i) (which returns the ops it did) until seconds pass; returns ops/s."""
    ops, i = 0, 0
    start = time.perf_counter()
    deadline = start + seconds
    while time.perf_counter() < deadline:
        ops += step(i)
        i += 1
    return ops / (time.perf_counter() - start)


def bench(c: recache.Client, seconds: float, keys: int, value: bytes,
          depth: int) -> List[Tuple[str, float]]:
    names = [f"key:{i}" for i in range(keys)]

    def single_set(i: int) -> int:
        c.set(NS, names[i % keys], value)
        return 1

    def single_get(i: int) -> int:
        if c.get(NS, names[i % keys]) is None:
            raise SystemExit("bench: unexpected miss")
        return 1

    def piped_set(i: int) -> int:
        with c.pipeline() as p:
            for k in range(depth):
                p.set(NS, names[(i * depth + k) % keys], value)
        return depth

    def piped_get(i: int) -> int:
        with c.pipeline() as p:
            pending = [p.get(NS, names[(i * depth + k) % keys]) for k in range(depth)]
        if any(x.result() is None for x in pending):
            raise SystemExit("bench: unexpected miss")
        return depth

    for name in names:  # every get below hits
        c.set(NS, name, value)
    return [("set, 1 per round trip", _run(seconds, single_set)),
            ("get, 1 per round trip", _run(seconds, single_get)),
            (f"set, pipelined x{depth}", _run(seconds, piped_set)),
            (f"get, pipelined x{depth}", _run(seconds, piped_get))]


def main(argv: Optional[List[str]] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=7400)
    ap.add_argument("--server", help="start this recache-server binary on a free port")
    ap.add_argument("--seconds", type=float, default=2.0, help="per phase (default 2)")
    ap.add_argument("--keys", type=int, default=1000)
    ap.add_argument("--value-size", type=int, default=100)
    ap.add_argument("--depth", type=int, default=100, help="requests per pipeline")
    args = ap.parse_args(argv)
    proc = None
    port = args.port
    if args.server:
        proc, port = _start_server(args.server)
    try:
        with recache.Client(args.host if not args.server else "127.0.0.1", port) as c:
            rows = bench(c, args.seconds, args.keys, bytes(args.value_size), args.depth)
            c.flush()
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(30)
    print(f"# Python {platform.python_version()} ({platform.python_implementation()}), "
          f"{args.value_size}-byte values, {args.keys} keys, {args.seconds:g} s per phase")
    print(f"{'operation':<26} {'ops/s':>10}")
    for name, rate in rows:
        print(f"{name:<26} {rate:>10,.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
