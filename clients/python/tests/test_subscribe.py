"""subscribe(): typed events, heartbeats, resumption by sequence number, RESYNC, CLOSING."""

from __future__ import annotations

from typing import List, Optional

import pytest
from conftest import DEADLINE_S, Server, unique

import recache
from recache import EventKind

#: Wait for one event at most this long (heartbeats come every 100 ms on the test server).
EVENT_WAIT_S = DEADLINE_S


def _next_non_heartbeat(sub: recache.Subscription) -> recache.Event:
    while True:
        ev = sub.next(EVENT_WAIT_S)
        assert ev is not None, "no event within the deadline"
        if ev.kind != EventKind.HEARTBEAT:
            return ev


def _collect(sub: recache.Subscription, n: int) -> List[recache.Event]:
    return [_next_non_heartbeat(sub) for _ in range(n)]


def test_typed_events(server: Server, client: recache.Client) -> None:
    ns = unique("sub")
    tag = unique("tag")
    with client.subscribe() as sub:
        assert sub.instance_id == client.server_info.instance_id
        client.set(ns, b"k\x00", "v", tags=[tag])
        client.invalidate_key(ns, b"k\x00", soft=True)
        client.invalidate_tag(tag, soft=True)
        client.bump(ns)
        client.flush()
        key_set, key_soft, tag_ev, bump, flush = _collect(sub, 5)
    assert key_set.kind == EventKind.KEY and key_set.ns == ns and key_set.key == b"k\x00"
    assert key_set.mode == recache.Mode.HARD
    assert key_soft.kind == EventKind.KEY and key_soft.mode == recache.Mode.SOFT
    assert tag_ev.kind == EventKind.TAG and tag_ev.tag == tag and tag_ev.mode == recache.Mode.SOFT
    assert bump.kind == EventKind.BUMP and bump.ns == ns and bump.ns_version == 2
    assert flush.kind == EventKind.FLUSH
    seqs = [e.seq for e in (key_set, key_soft, tag_ev, bump, flush)]
    assert seqs == list(range(seqs[0], seqs[0] + 5))
    assert key_set.cause in (None, "set", "delete", "invalidate", "touch")
    assert bump.cause is None and flush.text == ""


def test_heartbeats_carry_the_position(client: recache.Client) -> None:
    with client.subscribe() as sub:
        ev: Optional[recache.Event] = None
        while ev is None or ev.kind != EventKind.HEARTBEAT:
            ev = sub.next(EVENT_WAIT_S)
            assert ev is not None
        assert ev.seq == sub.last_seq and ev.instance_id == sub.instance_id


def test_namespace_filter(client: recache.Client) -> None:
    mine, other = unique("mine"), unique("other")
    with client.subscribe([mine]) as sub:
        client.set(other, "k", "v")
        client.set(mine, "k", "v")
        ev = _next_non_heartbeat(sub)
    assert ev.ns == mine


def test_resume_replays_missed_events(client: recache.Client) -> None:
    ns = unique("resume")
    sub = client.subscribe([ns])
    client.set(ns, "a", "1")
    first = _next_non_heartbeat(sub)
    assert first.key == b"a"
    sub.close()
    position, instance = sub.last_seq, sub.instance_id
    # Missed while away:
    client.set(ns, "b", "2")
    client.delete(ns, "a")
    client.bump(ns)
    with client.subscribe([ns], from_seq=position, instance_id=instance) as again:
        replayed = _collect(again, 3)
        assert [(e.kind, e.key) for e in replayed] == [
            (EventKind.KEY, b"b"), (EventKind.KEY, b"a"), (EventKind.BUMP, b"")]
        assert replayed[0].seq > first.seq
        # resume() on a live subscription: nothing is replayed twice.
        again.resume()
        client.set(ns, "c", "3")
        assert _next_non_heartbeat(again).key == b"c"


def test_unknown_instance_gets_resync(client: recache.Client) -> None:
    real = client.server_info.instance_id
    with client.subscribe(from_seq=5, instance_id=real ^ 0x5A5A) as sub:
        ev = sub.next(EVENT_WAIT_S)
        assert ev is not None and ev.kind == EventKind.RESYNC
        assert sub.instance_id == real and sub.last_seq == ev.seq
        ns = unique("after-resync")
        client.set(ns, "k", "v")
        assert _next_non_heartbeat(sub).ns == ns


def test_closing_ends_iteration_and_reconnect_resumes() -> None:
    srv = Server(["--heartbeat-ms", "100"])
    port = srv.port
    with srv.client() as c:
        plain = c.subscribe()
        auto = c.subscribe(reconnect=True)
        c.set("closing", "k", "v")
        assert _next_non_heartbeat(plain).kind == EventKind.KEY
        assert _next_non_heartbeat(auto).kind == EventKind.KEY
        old_instance = auto.instance_id
    assert srv.stop() == 0
    closing = _next_non_heartbeat(plain)
    assert closing.kind == EventKind.CLOSING and closing.text
    with pytest.raises(StopIteration):
        next(plain)
    assert _next_non_heartbeat(auto).kind == EventKind.CLOSING
    srv2 = Server(["--heartbeat-ms", "100"], port=port)
    try:
        # The node restarted: the automatic resubscription is told to drop everything.
        ev = next(auto)
        assert ev.kind == EventKind.RESYNC and ev.instance_id != old_instance
        assert auto.reconnects == 1 and auto.instance_id == ev.instance_id
        auto.close()
    finally:
        assert srv2.stop() == 0


def test_event_cause_property() -> None:
    key = recache.Event(EventKind.KEY, 1, 1, text="delete")
    assert key.cause == "delete"
    assert recache.Event(EventKind.KEY, 1, 1).cause is None
    assert recache.Event(EventKind.CLOSING, 1, 1, text="bye").cause is None
