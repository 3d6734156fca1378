"""get_or_fill: the lease protocol with server-side waiting, as rc_get_or_fill."""

from __future__ import annotations

import threading
from typing import List, Optional

import pytest
from conftest import Server, ns_stat, unique, wait_for

import recache

HERD = 50


def test_herd_of_50_threads_computes_once(server: Server) -> None:
    ns = unique("herd")
    clients = [server.client() for _ in range(HERD)]
    start = threading.Barrier(HERD, timeout=60)
    computes: List[int] = []
    lock = threading.Lock()
    results: List[Optional[bytes]] = [None] * HERD
    errors: List[BaseException] = []

    def reader(i: int) -> None:
        c = clients[i]

        def compute() -> bytes:
            with lock:
                computes.append(i)
            # Hold the fill until every other reader is parked on the server, so the
            # fill is known to release a full herd (the namespace's `waits` counter).
            wait_for(lambda: ns_stat(c, ns, "waits") >= HERD - 1, "the herd to park")
            return b"the-one-origin-fetch"

        try:
            start.wait()
            results[i] = c.get_or_fill(ns, "hot", compute, ttl_ms=60000, wait_ms=60000).value
        except BaseException as e:  # reported below
            errors.append(e)

    threads = [threading.Thread(target=reader, args=(i,)) for i in range(HERD)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    for c in clients:
        c.close()
    assert not any(t.is_alive() for t in threads)
    assert errors == []
    assert len(computes) == 1
    assert results == [b"the-one-origin-fetch"] * HERD


def test_hit_does_not_compute(client: recache.Client) -> None:
    ns = unique("gof-hit")
    client.set(ns, "k", "cached")
    report = recache.FillReport()
    e = client.get_or_fill(ns, "k", lambda: pytest.fail("computed on a hit"), report=report)
    assert e.value == b"cached" and report.attempts == 1 and not report.computed


def test_miss_computes_and_stores_with_options(client: recache.Client) -> None:
    ns = unique("gof-miss")
    report = recache.FillReport()
    tag = unique("dep")
    e = client.get_or_fill(ns, "k", lambda: recache.Fill("v", ttl_ms=60000, flags=3,
                                                          tags=[tag], entry_version=9),
                           report=report)
    assert e.value == b"v" and e.flags == 3 and e.entry_version == 9 and e.ttl_ms == 60000
    assert report.computed and report.stored and report.fill_error is None
    stored = client.get(ns, "k")
    assert stored is not None and stored.value == b"v" and stored.entry_version == 9
    client.invalidate_tag(tag)  # the fill carried the tag
    assert client.get(ns, "k") is None


def test_stale_value_is_recomputed_by_the_lease_holder(client: recache.Client) -> None:
    ns = unique("gof-stale")
    client.set(ns, "k", "old", ttl_ms=60000, stale_ms=60000)
    client.invalidate_key(ns, "k", soft=True)
    report = recache.FillReport()
    e = client.get_or_fill(ns, "k", lambda: "new", ttl_ms=60000, report=report)
    assert e.value == b"new" and not e.stale and report.computed
    assert client.get(ns, "k").value == b"new"  # type: ignore[union-attr]


def test_stale_value_served_while_another_reader_refreshes(server: Server) -> None:
    ns = unique("gof-swr")
    with server.client() as a, server.client() as b:
        a.set(ns, "k", "old", ttl_ms=60000, stale_ms=60000)
        a.invalidate_key(ns, "k", soft=True)
        refresher = a.lget(ns, "k")
        assert refresher.lease == recache.Lease.GRANTED and refresher.entry is not None
        e = b.get_or_fill(ns, "k", lambda: pytest.fail("second refresher"))
        assert e.value == b"old" and e.stale


def test_rejected_fill_still_returns_the_computed_value(client: recache.Client) -> None:
    ns = unique("gof-reject")

    def compute() -> str:
        client_side = recache.Client(client.host, client.port, timeout=30)
        client_side.delete(ns, "k")  # cancels the lease while we compute
        client_side.close()
        return "computed"

    report = recache.FillReport()
    e = client.get_or_fill(ns, "k", compute, report=report)
    assert e.value == b"computed"
    assert report.computed and not report.stored
    assert isinstance(report.fill_error, recache.LeaseRejected)
    assert client.get(ns, "k") is None


def test_compute_exception_propagates(client: recache.Client) -> None:
    ns = unique("gof-raise")

    def compute() -> bytes:
        raise RuntimeError("model server down")

    with pytest.raises(RuntimeError, match="model server down"):
        client.get_or_fill(ns, "k", compute)
    client.delete(ns, "k")  # cancels the orphaned lease
    assert client.get_or_fill(ns, "k", lambda: "ok").value == b"ok"


def test_early_refresh_returns_the_fresh_value_and_refills(client: recache.Client) -> None:
    ns = unique("gof-early")
    # Inside the window a read refreshes with probability 1 - left / window (the server's
    # probabilistic early expiration): here about 0.99998 per read, so a few reads suffice.
    client.ns_config(ns, {"early-refresh": 4_000_000_000})
    client.set(ns, "k", "current", ttl_ms=60000)
    report = recache.FillReport()
    for _ in range(20):
        e = client.get_or_fill(ns, "k", lambda: "refreshed", ttl_ms=60000, report=report)
        assert e.value == b"current"
        if report.refresh:
            break
    assert report.refresh and report.stored
    assert client.get(ns, "k").value == b"refreshed"  # type: ignore[union-attr]


def test_wait_timeout_after_attempts(server: Server) -> None:
    ns = unique("gof-timeout")
    with server.client() as holder, server.client() as reader:
        assert holder.lget(ns, "k").lease == recache.Lease.GRANTED
        report = recache.FillReport()
        with pytest.raises(recache.WaitTimeout):
            reader.get_or_fill(ns, "k", lambda: pytest.fail("not the holder"), wait_ms=20,
                               max_attempts=2, report=report)
        assert report.attempts == 2
        held = reader.lget(ns, "k", wait_ms=20)
        assert held.status == recache.Status.WAIT_TIMEOUT
        with pytest.raises(recache.LeaseHeld):
            reader.get_or_fill(ns, "k", lambda: "x", wait_ms=0, max_attempts=1)
