"""Shared fixtures: real recache-server processes for the Python client's tests.

The server binary comes from $RECACHE_SERVER (ctest sets it; a sanitizer
build works too, only slower: every wait here is bounded but generous).
Each server listens on 127.0.0.1 port 0 and the test reads the port from
its ready line ("... listening on HOST:PORT ..."), waiting on the stdout
pipe with a deadline, never sleeping.  Servers die with the test process
(PR_SET_PDEATHSIG), so a killed run leaves nothing behind, and stop() checks
that the server shut down cleanly (exit status 0).
"""

from __future__ import annotations

import ctypes
import os
import re
import select
import signal
import subprocess
import sys
import threading
import time
from typing import Iterator, List, Optional, Sequence

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import recache  # noqa: E402

#: Every wait on a server (start, stop, a value to show up) is bounded by this.
DEADLINE_S = float(os.environ.get("RECACHE_TEST_DEADLINE", "60"))
#: Per-call timeout of test clients: generous for sanitizer builds.
CLIENT_TIMEOUT_S = 30.0
_READY = re.compile(rb" listening on (\S+):(\d+) ")
_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    """In the child before exec: get SIGKILL when the test process dies."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


class Server:
    """One recache-server child process on a loopback port."""

    def __init__(self, extra_args: Sequence[str] = (), port: int = 0) -> None:
        binary = os.environ.get("RECACHE_SERVER")
        if not binary:
            raise RuntimeError("RECACHE_SERVER is not set (ctest sets it)")
        args = [binary, "--bind", "127.0.0.1", "--port", str(port), "--threads", "2",
                *extra_args]
        self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     preexec_fn=_die_with_parent)
        self.port = self._read_port()
        self.node = f"127.0.0.1:{self.port}"
        self._forwarder = threading.Thread(target=self._forward, daemon=True)
        self._forwarder.start()

    def _read_port(self) -> int:
        assert self.proc.stdout is not None
        fd = self.proc.stdout.fileno()
        line = b""
        deadline = time.monotonic() + DEADLINE_S
        while b"\n" not in line:
            left = deadline - time.monotonic()
            ready, _, _ = select.select([fd], [], [], max(0.0, left))
            if not ready:
                self.proc.kill()
                self.proc.wait(DEADLINE_S)
                raise RuntimeError(f"server not ready within {DEADLINE_S} s")
            chunk = os.read(fd, 4096)
            if not chunk:
                self.proc.wait(DEADLINE_S)
                raise RuntimeError(f"server exited before it was ready: {line!r}")
            line += chunk
        first, _, rest = line.partition(b"\n")
        if rest:
            sys.stderr.buffer.write(rest)
        m = _READY.search(first)
        if m is None:
            self.proc.kill()
            self.proc.wait(DEADLINE_S)
            raise RuntimeError(f"unexpected ready line {first!r}")
        return int(m.group(2))

    def _forward(self) -> None:
        """Copy the server's later stdout to our stderr (visible when a test fails)."""
        assert self.proc.stdout is not None
        for chunk in iter(lambda: self.proc.stdout.read1(4096), b""):  # type: ignore
            sys.stderr.buffer.write(chunk)

    def client(self, **kwargs: object) -> recache.Client:
        kwargs.setdefault("timeout", CLIENT_TIMEOUT_S)
        return recache.Client("127.0.0.1", self.port, **kwargs)  # type: ignore[arg-type]

    @property
    def running(self) -> bool:
        return self.proc.poll() is None

    def stop(self) -> int:
        """SIGTERM and wait (bounded); returns the exit status (0 = clean shutdown)."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(DEADLINE_S)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(DEADLINE_S)
                raise
        self._forwarder.join(DEADLINE_S)
        if self.proc.stdout is not None:
            self.proc.stdout.close()
        return self.proc.returncode


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    """A server shared by one test module; it must shut down cleanly."""
    srv = Server(["--heartbeat-ms", "100"])
    yield srv
    assert srv.stop() == 0


@pytest.fixture
def client(server: Server) -> Iterator[recache.Client]:
    c = server.client()
    yield c
    c.close()


@pytest.fixture
def servers() -> Iterator[List[Server]]:
    """Three servers for cluster tests (each test gets fresh ones)."""
    started: List[Server] = []
    try:
        for _ in range(3):
            started.append(Server())
        yield started
    finally:
        codes = [s.stop() for s in started]
    assert codes == [0] * len(started)


def wait_for(predicate, what: str, timeout: Optional[float] = None):  # type: ignore[no-untyped-def]
    """Poll predicate() until it returns a true value, bounded by timeout (DEADLINE_S).

    For conditions only observable by asking the server (its counters), where
    no event exists to wait on.  Returns the value; fails the test on timeout.
    """
    deadline = time.monotonic() + (DEADLINE_S if timeout is None else timeout)
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.005)  # polling interval of a bounded wait, not synchronisation


def ns_stat(c: recache.Client, ns: str, name: str) -> int:
    info = c.ns_info(ns)
    return int(info.fields[name]) if info is not None else 0


def unique(prefix: str) -> str:
    """A name no other test uses (tests share a module's server)."""
    unique.counter += 1  # type: ignore[attr-defined]
    return f"{prefix}-{os.getpid()}-{unique.counter}"  # type: ignore[attr-defined]


unique.counter = 0  # type: ignore[attr-defined]
