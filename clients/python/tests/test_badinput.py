"""Bad input: each becomes its own exception class, and the connection stays usable."""

from __future__ import annotations

import pytest
from conftest import unique

import recache


def _still_usable(c: recache.Client) -> None:
    c.ping()
    assert c.connected


def test_empty_key(client: recache.Client) -> None:
    with pytest.raises(recache.BadArgument) as exc:
        client.set("bad", "", "v")
    assert exc.value.from_server and exc.value.message
    with pytest.raises(recache.BadArgument):
        client.get("bad", b"")
    _still_usable(client)


def test_key_too_long(client: recache.Client) -> None:
    limit = client.server_info.max_key
    client.set("bad", "k" * limit, "v")  # exactly the limit is fine
    with pytest.raises(recache.KeyTooLong) as exc:
        client.set("bad", "k" * (limit + 1), "v")
    assert exc.value.from_server and exc.value.status == 37
    with pytest.raises(recache.KeyTooLong) as local:
        client.get("bad", b"k" * 70000)  # cannot even be encoded: refused locally
    assert not local.value.from_server
    _still_usable(client)


def test_too_many_tags_and_tag_too_long(client: recache.Client) -> None:
    info = client.server_info
    client.set("bad", "tags-ok", "v", tags=[f"t{i}" for i in range(info.max_tags)])
    with pytest.raises(recache.TooManyTags):
        client.set("bad", "tags", "v", tags=[f"t{i}" for i in range(info.max_tags + 1)])
    with pytest.raises(recache.TooManyTags) as local:
        client.set("bad", "tags", "v", tags=[f"t{i}" for i in range(300)])
    assert not local.value.from_server
    with pytest.raises(recache.TagTooLong):
        client.set("bad", "tags", "v", tags=["x" * (info.max_tag_len + 1)])
    with pytest.raises(recache.TagTooLong):
        client.invalidate_tag("x" * (info.max_tag_len + 1))
    with pytest.raises(recache.BadArgument):
        client.invalidate_tag("")
    with pytest.raises(TypeError):
        client.set("bad", "tags", "v", tags="one-string-not-a-list")  # type: ignore[arg-type]
    _still_usable(client)


def test_value_too_large_is_refused_before_sending(client: recache.Client) -> None:
    ns = unique("big")
    limit = client.server_info.max_value
    sets_before = client.stats()["requests_set"]  # type: ignore[index]
    with pytest.raises(recache.ValueTooLarge) as exc:
        client.set(ns, "k", bytes(limit + 1))
    assert not exc.value.from_server and exc.value.status == 38
    assert client.stats()["requests_set"] == sets_before  # type: ignore[index]
    with client.pipeline() as p:
        with pytest.raises(recache.ValueTooLarge):
            p.set(ns, "k", bytes(limit + 1))
        ok = p.set(ns, "k", bytes(limit))  # exactly the limit is stored
    assert ok.result().ns_version == 1
    assert len(client.get(ns, "k").value) == limit  # type: ignore[union-attr]
    # The namespace's own (smaller) limit is the server's to enforce.
    client.ns_config(ns, {"max-value": 10})
    with pytest.raises(recache.ValueTooLarge) as srv:
        client.set(ns, "k2", bytes(11))
    assert srv.value.from_server
    _still_usable(client)


def test_bad_namespace(client: recache.Client) -> None:
    for ns in ("", "n" * 65):
        with pytest.raises(recache.BadNamespace) as exc:
            client.set(ns, "k", "v")
        assert exc.value.from_server
        with pytest.raises(recache.BadNamespace):
            client.bump(ns)
    with pytest.raises(recache.BadNamespace) as local:
        client.get("n" * 256, "k")
    assert not local.value.from_server
    with pytest.raises(recache.BadNamespace):
        client.subscribe([""])
    _still_usable(client)


def test_bad_python_arguments(client: recache.Client) -> None:
    with pytest.raises(TypeError):
        client.set("bad", 42, "v")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        client.set("bad", "k", 3.5)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        client.set("bad", "k", "v", ttl_ms=-1)
    with pytest.raises(ValueError):
        client.set("bad", "k", "v", ttl_ms=1 << 32)
    with pytest.raises(ValueError):
        client.get("bad", "k", version=1 << 64)
    with pytest.raises(ValueError):
        client.set("bad", "k", "v", cond=9)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        client.ns_config("bad", {"default-ttl": "soon"})  # type: ignore[dict-item]
    _still_usable(client)


def test_error_hierarchy() -> None:
    assert issubclass(recache.KeyTooLong, recache.ServerError)
    assert issubclass(recache.NotNewer, recache.WriteRejected)
    assert issubclass(recache.LeaseRejected, recache.WriteRejected)
    assert not issubclass(recache.LeaseRejected, recache.ConditionRejected)
    assert issubclass(recache.Timeout, recache.ConnectionLost)
    assert issubclass(recache.Timeout, TimeoutError)
    assert issubclass(recache.ConnectionFailed, ConnectionError)
    e = recache.error_for_status(99, "from the future")
    assert isinstance(e, recache.ServerError) and e.status == 99
