"""The README's Python example runs as written against a real server and does what it says."""

from __future__ import annotations

import os
import re
from typing import Any, Dict, Iterator, List

import pytest
from conftest import Server

import recache

README = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..",
                      "README.md")


def _example() -> str:
    with open(README, encoding="utf-8") as f:
        text = f.read()
    section = text[text.index("## Python client"):]
    section = section[:section.index("\n## ", 1)]
    m = re.search(r"```python\n(.*?)```", section, re.S)
    assert m is not None, "README's Python section has no python block"
    return m.group(1)


@pytest.fixture
def service(server: Server, monkeypatch: pytest.MonkeyPatch) -> Iterator[Dict[str, Any]]:
    monkeypatch.setenv("RECACHE_PORT", str(server.port))
    monkeypatch.setenv("MODEL_VERSION", "1")
    ns: Dict[str, Any] = {"__name__": "readme_example"}
    exec(compile(_example(), "README.md", "exec"), ns)
    calls: List[int] = []
    real = ns["model"].recommend

    def counted(user_id: int) -> list:
        calls.append(user_id)
        return real(user_id)

    ns["model"].recommend = counted
    ns["calls"] = calls
    yield ns
    ns["pool"].close()


def test_readme_example(service: Dict[str, Any], server: Server) -> None:
    recs, calls = service["recommendations"], service["calls"]
    first = recs(42)
    assert first == [i for i, _ in service["Model"]().recommend(42)] and recs(42) == first
    assert calls == [42]  # computed once, then served from the cache
    assert recs(42, count=2) == first[:2]  # top N on the server
    service["on_purchase"](42, first[0])
    assert recs(42) == first[1:] and calls == [42]  # removed in place: no recomputation
    other = recs(7)
    service["on_item_discontinued"](other[1])  # hidden from every list of the namespace
    assert recs(7) == other[:1] + other[2:] and calls == [42, 7]
    with server.client() as c:
        assert c.list_get("recs", "user:42", version=1) is not None
        service["on_deploy"](2)
        assert c.ns_info("recs").version == 2  # type: ignore[union-attr]
        assert c.list_get("recs", "user:42") is None  # "current" never serves model 1's list
    service["MODEL_VERSION"] = 2  # an instance running the new model
    assert recs(42) == first  # the new model's list (this stand-in ignores purchases)
    assert calls == [42, 7, 42]
    assert isinstance(service["pool"], recache.ClientPool)
