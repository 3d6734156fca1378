"""Every data operation of recache.Client against a real server, and reconnection."""

from __future__ import annotations

import socket

import pytest
from conftest import Server, unique

import recache
from recache import Cond


def test_hello_and_ping(client: recache.Client) -> None:
    info = client.server_info
    assert info.server_version.startswith("recache-server")
    assert info.max_value == 1048576 and info.max_key == 250
    assert info.max_tags == 32 and info.max_tag_len == 128
    assert info.max_frame >= info.max_value + info.max_key
    assert client.hello() == info
    client.ping()


def test_set_get_roundtrip_and_metadata(client: recache.Client) -> None:
    ns = unique("ops")
    wr = client.set(ns, "user:42", b"[101,202]", ttl_ms=60000, flags=7, entry_version=17,
                    tags=["segment:eu", "product:1"])
    assert wr == recache.WriteResult(1, 17)
    e = client.get(ns, "user:42")
    assert e is not None
    assert e.value == b"[101,202]" and e.flags == 7 and e.entry_version == 17
    assert e.ns_version == 1 and not e.stale and 0 < e.ttl_ms <= 60000
    assert client.get(ns, b"user:\x00binary") is None
    client.set(ns, b"user:\x00binary", "h\u00e9")  # str values are sent as UTF-8
    e2 = client.get(ns, b"user:\x00binary")
    assert e2 is not None and e2.value == "h\u00e9".encode() and e2.never_expires


def test_conditions(client: recache.Client) -> None:
    ns = unique("cond")
    client.set(ns, "k", "v1", cond=Cond.IF_ABSENT)
    with pytest.raises(recache.Exists) as exc:
        client.set(ns, "k", "v2", cond=Cond.IF_ABSENT)
    assert isinstance(exc.value, recache.ConditionRejected)
    client.set(ns, "k", "v5", cond=Cond.IF_NEWER, entry_version=5)
    with pytest.raises(recache.NotNewer) as nn:
        client.set(ns, "k", "v4", cond=Cond.IF_NEWER, entry_version=4)
    assert nn.value.entry_version == 5 and nn.value.status == 3
    with pytest.raises(recache.CasMismatch):
        client.set(ns, "k", "v9", cond=Cond.CAS, cas_version=4, entry_version=9)
    assert client.set(ns, "k", "v6", cond=Cond.CAS, cas_version=5, entry_version=6) \
        .entry_version == 6
    e = client.get(ns, "k")
    assert e is not None and e.value == b"v6"
    # A delete of a versioned entry leaves a tombstone: an older write is still refused.
    assert client.delete(ns, "k") is True
    with pytest.raises(recache.NotNewer):
        client.set(ns, "k", "old", cond=Cond.IF_NEWER, entry_version=3)


def test_stale_window_and_touch(client: recache.Client) -> None:
    ns = unique("stale")
    client.set(ns, "k", "v", ttl_ms=60000, stale_ms=60000, tags=["t-stale"])
    assert client.invalidate_key(ns, "k", soft=True) is True
    e = client.get(ns, "k")
    assert e is not None and e.stale and e.value == b"v"
    client.set(ns, "k2", "v", ttl_ms=1000, stale_ms=0)
    assert client.touch(ns, "k2", 90000) is True
    e2 = client.get(ns, "k2")
    assert e2 is not None and e2.ttl_ms > 1000
    assert client.touch(ns, "absent", 1000) is False


def test_delete_and_invalidate_key(client: recache.Client) -> None:
    ns = unique("del")
    client.set(ns, "a", "1")
    client.set(ns, "b", "2")
    assert client.delete(ns, "a") is True
    assert client.delete(ns, "a") is False
    assert client.get(ns, "a") is None
    assert client.invalidate_key(ns, "b") is True
    assert client.get(ns, "b") is None
    assert client.invalidate_key(ns, "b") is False


def test_tags_hard_and_soft(client: recache.Client) -> None:
    ns = unique("tags")
    tag_h, tag_s = unique("hard"), unique("soft")
    client.set(ns, "h", "1", tags=[tag_h])
    client.set(ns, "s", "2", tags=[tag_s], ttl_ms=60000, stale_ms=60000)
    assert client.invalidate_tag(tag_h) > 0
    assert client.get(ns, "h") is None
    assert client.invalidate_tag(tag_s, soft=True) > 0
    s = client.get(ns, "s")
    assert s is not None and s.stale
    assert client.invalidate_tag(unique("nobody")) > 0  # a stamp even when no entry carries it


def test_versions_bump_staging_min_version(client: recache.Client) -> None:
    ns = unique("ver")
    client.set(ns, "k", "v1")
    client.set(ns, "k", "v2-staged", version=2)
    assert client.get(ns, "k").value == b"v1"  # type: ignore[union-attr]
    assert client.bump(ns) == 2
    e = client.get(ns, "k")
    assert e is not None and e.value == b"v2-staged" and e.ns_version == 2
    assert client.get(ns, "k", version=1).value == b"v1"  # type: ignore[union-attr]
    assert client.bump(ns, 7) == 7 and client.bump(ns, 5) == 7
    # min_version: a node behind adopts the version first.
    ns2 = unique("minver")
    client.set(ns2, "k", "at-1")
    assert client.get(ns2, "k", min_version=4) is None  # version 4 has no entry yet
    info = client.ns_info(ns2)
    assert info is not None and info.version == 4
    assert client.get(ns2, "k", version=1).value == b"at-1"  # type: ignore[union-attr]


def test_ns_info_config_and_stats(client: recache.Client) -> None:
    ns = unique("cfg")
    assert client.ns_info(ns) is None
    assert client.stats(ns) is None
    info = client.ns_config(ns, {"default-ttl": 3600000, "stale": 60000})
    assert info.version == 1
    assert info.fields["default-ttl"] == "3600000" and info.fields["stale"] == "60000"
    assert client.ns_config(ns, "early-refresh=1000 ttl-jitter=5").fields["ttl-jitter"] == "5"
    with pytest.raises(recache.BadArgument) as exc:
        client.ns_config(ns, "no-such-setting=1")
    assert exc.value.from_server and "no-such-setting" in exc.value.message
    client.set(ns, "k", "v")
    ns_stats = client.stats(ns)
    assert ns_stats is not None and ns_stats["sets"] == "1"
    st = client.stats()
    assert st is not None and int(st["instance_id"]) == client.server_info.instance_id
    seq, inst = client.node_seq()
    assert seq > 0 and inst == client.server_info.instance_id


def test_lget_and_fill(client: recache.Client) -> None:
    ns = unique("lease")
    lr = client.lget(ns, "k")
    assert lr.status == recache.Status.MISS and lr.lease == recache.Lease.GRANTED
    assert lr.token is not None and len(lr.token) == 16 and not lr.hit
    held = client.lget(ns, "k")
    assert held.status == recache.Status.LEASE_HELD and held.lease == recache.Lease.HELD
    assert held.token is None
    wr = client.fill(ns, "k", lr.token, "computed", ttl_ms=60000, tags=["lt"])
    assert wr.ns_version == lr.ns_version
    hit = client.lget(ns, "k")
    assert hit.status == recache.Status.OK and hit.entry is not None
    assert hit.entry.value == b"computed" and hit.lease == recache.Lease.NONE
    # A lease lost to a delete: the late fill is refused with its own exception.
    lr2 = client.lget(ns, "k2")
    assert lr2.token is not None
    client.delete(ns, "k2")
    with pytest.raises(recache.LeaseRejected) as exc:
        client.fill(ns, "k2", lr2.token, "late")
    assert not isinstance(exc.value, recache.ConditionRejected)
    assert client.get(ns, "k2") is None
    with pytest.raises(ValueError):
        client.fill(ns, "k2", bytes(16), "zero token")


def test_flush(server: Server) -> None:
    with server.client() as c:
        ns = unique("flush")
        c.set(ns, "k", "v")
        c.bump(ns)
        c.set(ns, "k", "v2")
        c.flush()
        assert c.get(ns, "k") is None
        assert c.ns_info(ns).version == 2  # type: ignore[union-attr]


def test_broken_connection_reconnects_without_retry(client: recache.Client) -> None:
    ns = unique("reconnect")
    client.set(ns, "k", "before")
    assert client._conn is not None
    client._conn._sock.shutdown(socket.SHUT_RDWR)  # the network breaks under the client
    with pytest.raises(recache.ConnectionLost):
        client.set(ns, "k", "during")
    assert not client.connected
    # The failed write was not retried behind the caller's back ...
    assert client.get(ns, "k").value == b"before"  # type: ignore[union-attr]
    # ... and the call after the failure reconnected on its own.
    assert client.connected


def test_server_restart_reconnects() -> None:
    srv = Server()
    port = srv.port
    c = srv.client()
    c.set("restart", "k", "v")
    first = c.server_info.instance_id
    assert srv.stop() == 0
    with pytest.raises((recache.ConnectionLost, recache.ShuttingDown)):
        c.get("restart", "k")
    srv2 = Server(port=port)
    try:
        assert c.get("restart", "k") is None  # a new, empty node
        assert c.server_info.instance_id != first
    finally:
        c.close()
        assert srv2.stop() == 0


def test_connect_failure_is_connection_failed() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # bound but not listening: refused
        with pytest.raises(recache.ConnectionFailed):
            recache.Client("127.0.0.1", port, timeout=5)
        lazy = recache.Client("127.0.0.1", port, timeout=5, connect=False)
        assert not lazy.connected
        with pytest.raises(ConnectionError):
            lazy.ping()


def test_client_pool_is_shared_by_threads(server: Server) -> None:
    import threading

    pool = recache.ClientPool("127.0.0.1", server.port, size=3, timeout=30)
    ns = unique("pool")
    errors = []

    def work(i: int) -> None:
        try:
            for j in range(20):
                with pool.client() as c:
                    c.set(ns, f"{i}:{j}", str(j))
                    assert c.get(ns, f"{i}:{j}").value == str(j).encode()  # type: ignore
        except Exception as e:  # reported below
            errors.append(e)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    pool.close()
    assert errors == [] and not any(t.is_alive() for t in threads)
    assert pool._created <= 3
