"""List values, in-place removal and suppression (PROTOCOL.md section 16), as test_lists.c.

Cases: round trip (rank order, 32-bit scores, metadata, top, exclude, empty
list, miss); every SET option on a list; wrong kind both ways; bad input
refused locally (non-finite score, id sets over the wire's 8191, no ids) or
by the server (duplicate id), each with its class; the server's limits on
a server started with small ones (max-list-items 8, max-exclude 4,
max-suppressed 3); in-place removal (order, version, TTL kept; lease
cancelled); suppression at read time, by TTL, per namespace, listed by
SUPPRESSED; pipelining of every list operation; SUPPRESS / UNSUPPRESS and
list-remove events; list leases (a parked read answered through its own
filter) and list_get_or_fill (one compute under 50 threads); the cluster's
list routing and suppress broadcasts.  Waits are on server state with a
deadline (conftest.wait_for), never a bare sleep.
"""

from __future__ import annotations

import math
import struct
import threading
from typing import Callable, Iterator, List, Optional

import pytest
from conftest import Server, ns_stat, unique, wait_for

import recache

HERD = 50


def ids_of(entry: Optional[recache.ListEntry]) -> List[int]:
    assert entry is not None
    return entry.ids


_LIST_REQUESTS = ("requests_list_set", "requests_list_get", "requests_list_lget",
                  "requests_list_remove", "requests_suppress", "requests_unsuppress")


def requests(c: recache.Client) -> int:
    """List requests the server has received (STATS counters)."""
    st = c.stats()
    assert st is not None
    return sum(int(st[k]) for k in _LIST_REQUESTS)


@pytest.fixture(scope="module")
def small() -> Iterator[Server]:
    """A server with small list limits, so every bound is reachable."""
    srv = Server(["--max-list-items", "8", "--max-exclude", "4", "--max-suppressed", "3"])
    yield srv
    assert srv.stop() == 0


# ---- encoding (no server) -------------------------------------------------------------------


def test_wire_encoding_matches_the_protocol() -> None:
    from recache import _wire
    from recache.subscription import decode_event

    # PROTOCOL.md section 16: item 4409 with score 0.5.
    assert _wire.items_bytes([(4409, 0.5)]) == bytes.fromhex("3911000000000000" "0000003f")
    assert _wire.ids_field([1, 2], "ids", recache.BadArgument) == (
        b"\x10\x00" + (1).to_bytes(8, "little") + (2).to_bytes(8, "little"))

    def event(kind: int, text: bytes) -> bytes:
        return (struct.pack("<QQQBB", 5, 9, 0, kind, 0) + b"\x02ns" + b"\x00\x00" + b"\x00"
                + struct.pack("<H", len(text)) + text)

    ev = decode_event(event(8, struct.pack("<QQ", 3, (1 << 64) - 1)))
    assert ev.kind == recache.EventKind.SUPPRESS and ev.ids == (3, (1 << 64) - 1)
    assert ev.ns == "ns" and ev.text == "" and ev.seq == 5
    assert decode_event(event(9, b"")).ids == ()
    with pytest.raises(recache.ProtocolError):
        decode_event(event(9, b"\x01\x02\x03"))  # not whole ids
    assert decode_event(event(1, b"list-remove")).cause == "list-remove"


# ---- reads and writes --------------------------------------------------------------------------


def test_round_trip(client: recache.Client) -> None:
    ns = unique("lists-rt")
    items = [(101, 0.9), (202, 0.5), (303, -1.25), ((1 << 64) - 1, 0.0)]
    wr = client.list_set(ns, "u1", items, ttl_ms=60000, flags=7)
    got = client.list_get(ns, "u1")
    assert got is not None and len(got) == 4
    assert got.ids == [101, 202, 303, (1 << 64) - 1]
    # Scores are 32-bit floats: 0.9 comes back rounded, the exact ones unchanged.
    assert got.items[0][1] == pytest.approx(0.9, rel=1e-7) and got.items[0][1] != 0.9
    assert [s for _, s in got.items[1:]] == [0.5, -1.25, 0.0]
    assert got.flags == 7 and 0 < got.ttl_ms <= 60000 and not got.stale
    assert got.ns_version == wr.ns_version and not got.never_expires
    assert ids_of(client.list_get(ns, "u1", top=2)) == [101, 202]
    assert ids_of(client.list_get(ns, "u1", top=2, exclude=[202, 999, 202])) == [101, 303]
    client.list_set(ns, "empty", [])
    empty = client.list_get(ns, "empty")
    assert empty is not None and empty.items == [] and empty.never_expires
    assert client.list_get(ns, "nope") is None
    # Lists are entries: delete, touch and invalidation apply as to byte values.
    assert client.touch(ns, "u1", 1000) and client.list_get(ns, "u1").ttl_ms <= 1000  # type: ignore
    assert client.delete(ns, "u1") and client.list_get(ns, "u1") is None


def test_set_options_on_lists(client: recache.Client) -> None:
    ns = unique("lists-opt")
    tag = unique("model")
    a, b = [(1, 1.0), (2, 0.5)], [(3, 1.0)]
    client.list_set(ns, "k", a, tags=[tag], entry_version=5)
    with pytest.raises(recache.Exists):
        client.list_set(ns, "k", b, cond=recache.Cond.IF_ABSENT)
    with pytest.raises(recache.NotNewer) as nn:
        client.list_set(ns, "k", b, cond=recache.Cond.IF_NEWER, entry_version=5)
    assert nn.value.entry_version == 5
    with pytest.raises(recache.CasMismatch):
        client.list_set(ns, "k", b, cond=recache.Cond.CAS, cas_version=4)
    assert ids_of(client.list_get(ns, "k")) == [1, 2]
    client.list_set(ns, "k", b, cond=recache.Cond.CAS, cas_version=5, entry_version=6)
    got = client.list_get(ns, "k")
    assert got is not None and got.ids == [3] and got.entry_version == 6
    client.list_set(ns, "t", a, tags=[tag])
    client.invalidate_tag(tag)  # a hard invalidation of the list's tag: a miss
    assert client.list_get(ns, "t") is None
    client.list_set(ns, "s", a, ttl_ms=60000, stale_ms=60000)
    client.invalidate_key(ns, "s", soft=True)
    stale = client.list_get(ns, "s")
    assert stale is not None and stale.stale and stale.ids == [1, 2]
    v2 = client.list_set(ns, "staged", a, version=client.bump(ns) + 1)
    assert client.list_get(ns, "staged") is None
    assert ids_of(client.list_get(ns, "staged", version=v2.ns_version)) == [1, 2]


def test_wrong_kind_both_ways(client: recache.Client) -> None:
    ns = unique("lists-wk")
    client.set(ns, "bytes", "hello")
    client.list_set(ns, "list", [(1, 1.0), (2, 1.0), (3, 1.0)])
    with pytest.raises(recache.WrongKind) as exc:
        client.list_get(ns, "bytes")
    assert exc.value.from_server and exc.value.status == 60
    with pytest.raises(recache.WrongKind):
        client.get(ns, "list")
    with pytest.raises(recache.WrongKind):
        client.list_remove(ns, "bytes", [1])
    with pytest.raises(recache.WrongKind):
        client.lget(ns, "list")
    with pytest.raises(recache.WrongKind):
        client.list_lget(ns, "bytes")
    with pytest.raises(recache.WrongKind):
        client.list_get_or_fill(ns, "bytes", lambda: pytest.fail("computed"))
    assert client.get(ns, "bytes").value == b"hello"  # type: ignore[union-attr]
    assert ids_of(client.list_get(ns, "list")) == [1, 2, 3]
    client.list_set(ns, "bytes", [(9, 1.0)])  # a write may change the kind
    assert ids_of(client.list_get(ns, "bytes")) == [9]
    client.set(ns, "list", "now bytes")
    assert client.get(ns, "list").value == b"now bytes"  # type: ignore[union-attr]
    client.ping()


def test_bad_input_is_refused(client: recache.Client) -> None:
    ns = unique("lists-bad")
    client.list_set(ns, "k", [(1, 1.0), (2, 0.5)])
    before = requests(client)
    for score in (math.nan, math.inf, -math.inf, 1e39):
        with pytest.raises(recache.BadList) as local:
            client.list_set(ns, "k", [(1, 1.0), (2, score)])
        assert not local.value.from_server and local.value.status == 61
    with pytest.raises(recache.ExcludeTooLarge) as ex:
        client.list_get(ns, "k", exclude=range(8192))
    assert not ex.value.from_server
    with pytest.raises(recache.TooManyItems):
        client.list_remove(ns, "k", range(8192))
    calls: List[Callable[[], object]] = [
        lambda: client.list_remove(ns, "k", []), lambda: client.suppress(ns, []),
        lambda: client.unsuppress(ns, []), lambda: client.suppress(ns, range(8192))]
    for call in calls:
        with pytest.raises(recache.BadArgument) as ba:
            call()
        assert not ba.value.from_server
    with pytest.raises(ValueError):
        client.list_set(ns, "k", [(-1, 1.0)])
    with pytest.raises(ValueError):
        client.list_set(ns, "k", [(1 << 64, 1.0)])
    with pytest.raises(ValueError):
        client.list_get(ns, "k", top=-1)
    with pytest.raises(ValueError):
        client.suppress(ns, [1], ttl_ms=1 << 32)
    with pytest.raises(TypeError):
        client.list_set(ns, "k", [1, 2])  # type: ignore[list-item]
    with pytest.raises(TypeError):
        client.list_set(ns, "k", [(1, "high")])  # type: ignore[list-item]
    with pytest.raises(TypeError):
        client.list_set(ns, "k", b"\x00" * 12)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        client.list_remove(ns, "k", 5)  # type: ignore[arg-type]
    with pytest.raises(recache.ValueTooLarge):
        client.list_set(ns, "k", [(i, 1.0) for i in range(client.server_info.max_value // 12
                                                            + 1)])
    assert requests(client) == before  # nothing above reached the server
    with pytest.raises(recache.BadList) as dup:
        client.list_set(ns, "k", [(1, 1.0), (1, 0.5)])
    assert dup.value.from_server
    assert ids_of(client.list_get(ns, "k")) == [1, 2]  # a refused write changes nothing
    client.ping()



def test_server_limits(small: Server) -> None:
    ns = unique("lists-lim")
    with small.client() as c:
        c.list_set(ns, "k", [(1, 1.0), (2, 1.0), (3, 1.0)])
        nine = [(i, 1.0) for i in range(1, 10)]
        with pytest.raises(recache.TooManyItems) as tm:
            c.list_set(ns, "k", nine)
        assert tm.value.from_server and tm.value.status == 62
        c.list_set(ns, "k", nine[:8])  # exactly the bound
        c.list_set(ns, "k", [(1, 1.0), (2, 1.0), (3, 1.0)])
        with pytest.raises(recache.ExcludeTooLarge) as ex:
            c.list_get(ns, "k", exclude=[10, 11, 12, 13, 14])
        assert ex.value.from_server and ex.value.status == 63
        assert ids_of(c.list_get(ns, "k", exclude=[10, 11, 12, 13])) == [1, 2, 3]
        with pytest.raises(recache.ExcludeTooLarge):
            c.list_lget(ns, "k", exclude=[10, 11, 12, 13, 14])
        with pytest.raises(recache.TooManyItems):
            c.list_remove(ns, "k", range(1, 10))
        assert ids_of(c.list_get(ns, "k")) == [1, 2, 3]
        # max-suppressed 3: four at once, or 2 + 2, is full and changes nothing.
        with pytest.raises(recache.SuppressFull) as full:
            c.suppress(ns, [1, 2, 3, 4])
        assert full.value.status == 64
        assert c.suppress(ns, [1, 2]).count == 2
        with pytest.raises(recache.SuppressFull):
            c.suppress(ns, [3, 4])
        assert c.suppress(ns, [1, 2]).count == 0  # already suppressed: new TTL only
        assert sorted(s.id for s in c.suppressed(ns)) == [1, 2]
        assert ids_of(c.list_get(ns, "k")) == [3]
        assert c.unsuppress(ns, [1, 2, 7]).count == 2
        assert c.suppress(ns, [3, 4, 5]).count == 3  # room again
        c.unsuppress(ns, [3, 4, 5])


# ---- removal and suppression ---------------------------------------------------------------


def test_remove_in_place(client: recache.Client) -> None:
    ns = unique("lists-rm")
    items = [(10, 5.0), (20, 4.0), (30, 3.0), (40, 2.0), (50, 1.0)]
    client.list_set(ns, "u", items, ttl_ms=600000, entry_version=42)
    assert client.list_remove(ns, "u", [40, 20, 20, 77]) == 2
    got = client.list_get(ns, "u")
    assert got is not None and got.items == [(10, 5.0), (30, 3.0), (50, 1.0)]
    assert got.entry_version == 42 and 500000 < got.ttl_ms <= 600000
    assert client.list_remove(ns, "u", [99]) == 0
    assert client.list_remove(ns, "absent", [1]) is None
    assert ns_stat(client, ns, "list_items_removed") == 2


def test_remove_cancels_the_lease(server: Server) -> None:
    ns = unique("lists-rm-lease")
    with server.client() as a, server.client() as b:
        a.list_set(ns, "u", [(1, 1.0), (2, 1.0)], ttl_ms=60000, stale_ms=60000)
        a.invalidate_key(ns, "u", soft=True)
        lr = a.list_lget(ns, "u")  # stale: this reader recomputes
        assert lr.lease == recache.Lease.GRANTED and lr.entry is not None and lr.entry.stale
        assert lr.token is not None
        assert b.list_remove(ns, "u", [2]) == 1  # the purchase lands meanwhile
        with pytest.raises(recache.LeaseRejected):
            a.list_fill(ns, "u", lr.token, [(1, 1.0), (2, 1.0)])  # cannot bring 2 back
        assert ids_of(a.list_get(ns, "u")) == [1]
        # A removal on a miss cancels the lease all the same.
        miss = a.list_lget(ns, "gone")
        assert miss.lease == recache.Lease.GRANTED and miss.token is not None
        assert b.list_remove(ns, "gone", [1]) is None
        with pytest.raises(recache.LeaseRejected):
            a.list_fill(ns, "gone", miss.token, [(1, 1.0)])
        with pytest.raises(ValueError):
            a.list_fill(ns, "gone", bytes(16), [(1, 1.0)])


def test_suppression_at_read_time(client: recache.Client) -> None:
    ns, other = unique("lists-sup"), unique("lists-sup-other")
    client.list_set(ns, "a", [(1, 1.0), (2, 1.0), (3, 1.0), (4, 1.0)])
    client.list_set(ns, "b", [(2, 1.0), (5, 1.0)])
    client.list_set(other, "a", [(1, 1.0), (2, 1.0)])
    first = client.suppress(ns, [2, 3])
    assert first.count == 2 and first.stamp > 0
    assert ids_of(client.list_get(ns, "a")) == [1, 4]
    assert ids_of(client.list_get(ns, "a", top=2)) == [1, 4]  # top counts after suppression
    assert ids_of(client.list_get(ns, "b")) == [5]
    assert ids_of(client.list_get(other, "a")) == [1, 2]  # other namespaces are untouched
    second = client.suppress(ns, [7], ttl_ms=600000)
    assert second.stamp > first.stamp  # stamps of one server strictly increase
    live = {s.id: s for s in client.suppressed(ns)}
    assert sorted(live) == [2, 3, 7]
    assert live[2].permanent and live[2].ttl_ms == recache.TTL_NONE
    assert live[2].stamp == first.stamp and live[7].stamp == second.stamp
    assert 0 < live[7].ttl_ms <= 600000 and not live[7].permanent
    assert client.suppressed(unique("never-seen")) == []
    client.bump(ns)  # suppressions survive a bump
    client.list_set(ns, "a", [(3, 1.0), (8, 1.0)])
    assert ids_of(client.list_get(ns, "a")) == [8]
    un = client.unsuppress(ns, [3, 9])
    assert un.count == 1 and un.stamp > second.stamp
    assert ids_of(client.list_get(ns, "a")) == [3, 8]
    assert ns_stat(client, ns, "suppressed") == 2
    client.unsuppress(ns, [2, 7])
    assert client.suppressed(ns) == []


def test_suppression_ends_by_ttl(client: recache.Client) -> None:
    ns = unique("lists-sup-ttl")
    client.list_set(ns, "a", [(1, 1.0), (2, 1.0)])
    client.suppress(ns, [2], ttl_ms=50)
    client.suppress(ns, [1], ttl_ms=600000)
    assert ids_of(client.list_get(ns, "a")) in ([], [2])  # 2 may already be back
    wait_for(lambda: ids_of(client.list_get(ns, "a")) == [2], "the 50 ms suppression to end")
    assert [s.id for s in client.suppressed(ns)] == [1]
    client.unsuppress(ns, [1])


# ---- pipelines and events ------------------------------------------------------------------


def test_pipeline_of_list_operations(client: recache.Client) -> None:
    ns = unique("lists-pipe")
    client.set(ns, "bytes", "b")
    with client.pipeline() as p:
        s1 = p.list_set(ns, "a", [(1, 3.0), (2, 2.0), (3, 1.0)], ttl_ms=60000)
        s2 = p.list_set(ns, "b", [(1, 1.0), (1, 2.0)])  # duplicate id: BadList
        g1 = p.list_get(ns, "a", top=2, exclude=[1])
        r1 = p.list_remove(ns, "a", [3])
        sup = p.suppress(ns, [2], ttl_ms=60000)
        g2 = p.list_get(ns, "a")
        live = p.suppressed(ns)
        wk = p.list_get(ns, "bytes")
        uns = p.unsuppress(ns, [2])
        lg = p.list_lget(ns, "a", top=1)
        miss = p.list_remove(ns, "none", [1])
        with pytest.raises(recache.BadList):
            p.list_set(ns, "c", [(1, math.nan)])  # refused at queue time, nothing queued
        with pytest.raises(recache.ExcludeTooLarge):
            p.list_get(ns, "a", exclude=range(9000))
    assert len(p) == 11
    assert s1.result().ns_version == 1
    assert isinstance(s2.exception(), recache.BadList)
    assert ids_of(g1.result()) == [2, 3]
    assert r1.result() == 1
    assert sup.result().count == 1
    assert ids_of(g2.result()) == [1]
    assert [s.id for s in live.result()] == [2]
    with pytest.raises(recache.WrongKind):
        wk.result()
    assert uns.result().count == 1
    lr = lg.result()
    assert lr.status == recache.Status.OK and ids_of(lr.entry) == [1]
    assert miss.result() is None


def test_subscribe_gets_suppress_events(client: recache.Client) -> None:
    ns = unique("lists-sub")
    client.list_set(ns, "u", [(1, 1.0), (2, 1.0)])
    with client.subscribe([ns]) as sub:
        client.suppress(ns, [2, (1 << 64) - 1], ttl_ms=60000)
        client.unsuppress(ns, [2])
        client.list_remove(ns, "u", [1])
        events: List[recache.Event] = []
        while len(events) < 3:
            ev = sub.next(timeout=30)
            assert ev is not None
            if ev.kind != recache.EventKind.HEARTBEAT:
                events.append(ev)
    sup, uns, rm = events
    assert sup.kind == recache.EventKind.SUPPRESS and sup.ns == ns
    assert sup.ids == (2, (1 << 64) - 1) and sup.text == "" and sup.cause is None
    assert uns.kind == recache.EventKind.UNSUPPRESS and uns.ns == ns and uns.ids == (2,)
    assert rm.kind == recache.EventKind.KEY and rm.key == b"u" and rm.cause == "list-remove"
    assert rm.ids == () and sup.seq < uns.seq < rm.seq


# ---- leases and get_or_fill ----------------------------------------------------------------


def test_list_lease_fill_and_parked_reader(server: Server) -> None:
    ns = unique("lists-lease")
    with server.client() as holder, server.client() as reader:
        holder.suppress(ns, [3])
        lr = holder.list_lget(ns, "u")
        assert lr.status == recache.Status.MISS and lr.lease == recache.Lease.GRANTED
        assert lr.token is not None and lr.entry is None
        got: List[recache.ListLeaseResult] = []
        t = threading.Thread(target=lambda: got.append(
            reader.list_lget(ns, "u", top=2, exclude=[1], wait_ms=60000)))
        t.start()
        wait_for(lambda: ns_stat(holder, ns, "waits") >= 1, "the reader to park")
        holder.list_fill(ns, "u", lr.token, [(1, 4.0), (2, 3.0), (3, 2.0), (4, 1.0), (5, 0.5)],
                         ttl_ms=60000)
        t.join(60)
        assert not t.is_alive()
        parked = got[0]
        # The filled list through the parked read's own filter and the suppressions.
        assert parked.status == recache.Status.OK and ids_of(parked.entry) == [2, 4]
        assert parked.lease == recache.Lease.NONE
        # A byte fill answers a parked list read WRONG_KIND.
        lr2 = holder.list_lget(ns, "v")
        assert lr2.token is not None
        errors: List[BaseException] = []

        def park() -> None:
            try:
                reader.list_lget(ns, "v", wait_ms=60000)
            except recache.RecacheError as e:
                errors.append(e)

        t2 = threading.Thread(target=park)
        t2.start()
        wait_for(lambda: ns_stat(holder, ns, "waits") >= 2, "the second reader to park")
        holder.fill(ns, "v", lr2.token, "bytes")
        t2.join(60)
        assert len(errors) == 1 and isinstance(errors[0], recache.WrongKind)
        holder.unsuppress(ns, [3])


def test_list_get_or_fill_herd_computes_once(server: Server) -> None:
    ns = unique("lists-herd")
    clients = [server.client() for _ in range(HERD)]
    start = threading.Barrier(HERD, timeout=60)
    computes: List[int] = []
    lock = threading.Lock()
    results: List[Optional[List[int]]] = [None] * HERD
    errors: List[BaseException] = []

    def reader(i: int) -> None:
        c = clients[i]

        def compute() -> List[recache.Item]:
            with lock:
                computes.append(i)
            wait_for(lambda: ns_stat(c, ns, "waits") >= HERD - 1, "the herd to park")
            return [(7, 0.9), (8, 0.8), (9, 0.7)]

        try:
            start.wait()
            results[i] = c.list_get_or_fill(ns, "hot", compute, top=2, ttl_ms=60000,
                                            wait_ms=60000).ids
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
    assert results == [[7, 8]] * HERD


def test_list_get_or_fill_outcomes(client: recache.Client) -> None:
    ns = unique("lists-gof")
    tag = unique("dep")
    client.suppress(ns, [2])
    report = recache.FillReport()
    e = client.list_get_or_fill(
        ns, "u", lambda: recache.ListFill([(1, 3.0), (2, 2.0), (3, 1.0), (4, 0.5)],
                                          ttl_ms=60000, flags=3, tags=[tag], entry_version=9),
        exclude=[4], report=report)
    # The computed list as stored and read back: without the suppressed id and the excluded one.
    assert e.ids == [1, 3] and e.flags == 3 and e.entry_version == 9 and 0 < e.ttl_ms <= 60000
    assert report.computed and report.stored and report.fill_error is None
    assert ids_of(client.list_get(ns, "u")) == [1, 3, 4]
    hit = client.list_get_or_fill(ns, "u", lambda: pytest.fail("computed on a hit"), top=1,
                                  report=report)
    assert hit.ids == [1] and report.attempts == 1 and not report.computed
    client.invalidate_tag(tag)  # the fill carried the tag
    assert client.list_get(ns, "u") is None
    # A stale list is recomputed by the lease holder.
    client.list_set(ns, "s", [(1, 1.0)], ttl_ms=60000, stale_ms=60000)
    client.invalidate_key(ns, "s", soft=True)
    fresh = client.list_get_or_fill(ns, "s", lambda: [(5, 1.0), (6, 0.5)], report=report)
    assert fresh.ids == [5, 6] and not fresh.stale and report.computed

    # A removal during the computation rejects the fill: the computed list is still
    # returned (exclude and top applied locally), and not cached.
    def compute() -> List[recache.Item]:
        with recache.Client(client.host, client.port, timeout=30) as other:
            assert other.list_remove(ns, "r", [1]) is None  # cancels the lease
        return [(1, 1.0), (2, 0.5), (3, 0.25), (4, 0.125)]

    rejected = client.list_get_or_fill(ns, "r", compute, top=2, exclude=[1], report=report)
    assert rejected.items == [(2, 0.5), (3, 0.25)]
    assert report.computed and not report.stored
    assert isinstance(report.fill_error, recache.LeaseRejected)
    assert client.list_get(ns, "r") is None
    # Bad computed items raise before anything is stored.
    with pytest.raises(recache.BadList):
        client.list_get_or_fill(ns, "bad", lambda: [(1, math.inf)])
    client.delete(ns, "bad")  # cancels the orphaned lease
    client.unsuppress(ns, [2])


# ---- cluster -------------------------------------------------------------------------------


def test_cluster_routes_lists_and_broadcasts_suppress(servers: List[Server]) -> None:
    nodes = [s.node for s in servers]
    ns = "recs"
    keys = [f"user:{i}" for i in range(60)]
    with recache.Cluster(nodes, timeout=30) as cluster:
        for i, k in enumerate(keys):
            cluster.list_set(ns, k, [(i, 1.0), (1000, 0.5), (2000 + i, 0.25)], ttl_ms=60000)
        direct = [s.client() for s in servers]
        for i, k in enumerate(keys):
            owner = nodes.index(cluster.node_for(ns, k))
            present = [d.list_get(ns, k) is not None for d in direct]
            assert present == [j == owner for j in range(3)]
            assert ids_of(cluster.list_get(ns, k, exclude=[i])) == [1000, 2000 + i]
        assert len({cluster.node_for(ns, k) for k in keys}) == 3
        results = cluster.suppress(ns, [1000], ttl_ms=600000)
        assert [(r.node, r.ok, r.count) for r in results] == [(n, True, 1) for n in nodes]
        assert all(isinstance(r.value, int) and r.value > 0 for r in results)
        for d in direct:
            assert [s.id for s in d.suppressed(ns)] == [1000]
        assert all(ids_of(cluster.list_get(ns, k)) == [i, 2000 + i] for i, k in enumerate(keys))
        assert cluster.list_remove(ns, keys[0], [0]) == 1
        assert ids_of(cluster.list_get(ns, keys[0])) == [2000]
        assert cluster.list_get_or_fill(ns, "fresh", lambda: [(1, 1.0), (1000, 0.9)]).ids == [1]
        lr = cluster.list_lget(ns, "leased")
        assert lr.token is not None
        cluster.list_fill(ns, "leased", lr.token, [(3, 1.0)])
        assert ids_of(cluster.list_get(ns, "leased")) == [3]
        assert [r.count for r in cluster.unsuppress(ns, [1000, 1001])] == [1, 1, 1]
        with pytest.raises(recache.BadArgument):
            cluster.suppress(ns, [])  # refused before any node is asked
        for d in direct:
            d.close()
        assert servers[2].stop() == 0
        with pytest.raises(recache.ClusterError) as exc:
            cluster.suppress(ns, [5])
        res = exc.value.results
        assert [r.ok for r in res] == [True, True, False] and exc.value.failed == [res[2]]
        assert res[0].count == 1 and isinstance(res[2].exception, ConnectionError)
        with pytest.raises(recache.ClusterError):
            cluster.unsuppress(ns, [5])
