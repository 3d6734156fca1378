"""Pipelines: one write, answers matched by request id, per-request outcomes."""

from __future__ import annotations

import threading
from typing import Any, List, Optional

import pytest
from conftest import Server, ns_stat, unique, wait_for

import recache


class _CountingSocket:
    """Wraps a socket and counts the calls that write to it."""

    def __init__(self, sock: Any) -> None:
        self._sock = sock
        self.writes = 0

    def send(self, data: Any) -> int:
        self.writes += 1
        return int(self._sock.send(data))

    def sendall(self, data: Any) -> None:
        self.writes += 1
        self._sock.sendall(data)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sock, name)


def _value(p: "recache.Pending[Optional[recache.Entry]]") -> bytes:
    """The value of a pipelined read that must have hit."""
    entry = p.result()
    assert entry is not None
    return entry.value


def test_many_requests_one_write(client: recache.Client) -> None:
    ns = unique("pipe")
    client.ping()
    assert client._conn is not None
    counting = _CountingSocket(client._conn._sock)
    client._conn._sock = counting  # type: ignore[assignment]
    with client.pipeline() as p:
        sets = [p.set(ns, f"k{i}", f"v{i}", entry_version=i + 1) for i in range(200)]
        gets = [p.get(ns, f"k{i}") for i in range(200)]
        miss = p.get(ns, "absent")
        deleted = p.delete(ns, "k0")
        pong = p.ping()
    assert counting.writes == 1
    for i, (s, g) in enumerate(zip(sets, gets)):
        assert s.result().entry_version == i + 1
        assert _value(g) == f"v{i}".encode()
    assert miss.result() is None and deleted.result() is True and pong.result() is None
    assert len(p) == 403


def test_each_request_keeps_its_own_outcome(client: recache.Client) -> None:
    ns = unique("pipe-err")
    client.set(ns, "k", "v", cond=recache.Cond.IF_NEWER, entry_version=5)
    p = client.pipeline()
    older = p.set(ns, "k", "old", cond=recache.Cond.IF_NEWER, entry_version=1)
    empty_key = p.get(ns, "")
    bad_ns = p.bump("")
    fine = p.get(ns, "k")
    tag = p.invalidate_tag(unique("tag"))
    info = p.ns_info(ns)
    stats = p.stats()
    touch = p.touch(ns, "k", 60000)
    inval = p.invalidate_key(ns, "k", soft=True)
    results = p.execute()
    assert isinstance(results[0], recache.NotNewer) and results[0].entry_version == 5
    with pytest.raises(recache.NotNewer):
        older.result()
    assert isinstance(empty_key.exception(), recache.BadArgument)
    assert isinstance(bad_ns.exception(), recache.BadNamespace)
    assert _value(fine) == b"v"
    ns_info, st = info.result(), stats.result()
    assert tag.result() > 0 and ns_info is not None and ns_info.version == 1
    assert st is not None and "instance_id" in st and touch.result() is True
    assert inval.result() is True
    assert client.get(ns, "k").stale  # type: ignore[union-attr]
    with pytest.raises(RuntimeError):
        p.execute()


def test_nothing_sent_when_the_block_raises(client: recache.Client) -> None:
    ns = unique("pipe-abort")
    with pytest.raises(KeyError):
        with client.pipeline() as p:
            pending = p.set(ns, "k", "v")
            raise KeyError("abort")
    assert client.get(ns, "k") is None
    with pytest.raises(RuntimeError):
        pending.result()


def test_parked_lease_read_does_not_hold_back_later_answers(server: Server) -> None:
    """A parked LGET is answered after requests sent behind it: matching is by id."""
    ns = unique("pipe-park")
    holder = server.client()
    reader = server.client()
    lease = holder.lget(ns, "hot")
    assert lease.token is not None
    reader.set(ns, "cold", "c")
    order: List[str] = []

    def fill_when_parked() -> None:
        wait_for(lambda: ns_stat(holder, ns, "waits") >= 1, "the pipelined read to park")
        order.append("filled")
        holder.fill(ns, "hot", lease.token, "hot-value")  # type: ignore[arg-type]

    t = threading.Thread(target=fill_when_parked)
    t.start()
    with reader.pipeline() as p:
        parked = p.lget(ns, "hot", wait_ms=60000)
        later = [p.get(ns, "cold") for _ in range(50)]
    t.join(60)
    assert not t.is_alive() and order == ["filled"]
    res = parked.result()
    assert res.status == recache.Status.OK and res.entry is not None
    assert res.entry.value == b"hot-value"
    assert all(_value(x) == b"c" for x in later)
    holder.close()
    reader.close()


def test_large_pipeline_does_not_deadlock(client: recache.Client) -> None:
    """Megabytes each way: writing and reading must overlap."""
    ns = unique("pipe-big")
    value = bytes(range(256)) * 256  # 64 KiB
    with client.pipeline() as p:
        for i in range(100):
            p.set(ns, f"k{i}", value)
        gets = [p.get(ns, f"k{i}") for i in range(100)]
    assert all(_value(g) == value for g in gets)
