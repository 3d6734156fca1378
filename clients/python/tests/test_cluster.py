"""Cluster: rendezvous placement identical to the C client's, routing and broadcasts."""

from __future__ import annotations

import os
import subprocess
from typing import List, Optional, Tuple

import pytest
from conftest import DEADLINE_S, Server

import recache
from recache import hrw_rank, hrw_score

KEYS = 5000

Row = Tuple[bytes, bytes, List[int], List[float]]


def c_ranking(count: int, nodes: List[str]) -> List[Row]:
    """Run tests/hrw_dump.c ($RECACHE_HRW_DUMP): the C library's ranking and exact scores."""
    binary = os.environ.get("RECACHE_HRW_DUMP")
    if not binary:
        raise RuntimeError("RECACHE_HRW_DUMP is not set (ctest sets it)")
    out = subprocess.run([binary, str(count), *nodes], check=True, capture_output=True,
                         timeout=DEADLINE_S).stdout.decode()
    rows = []
    for line in out.splitlines():
        ns_hex, key_hex, order, scores = line.split("\t")
        rows.append((bytes.fromhex(ns_hex), bytes.fromhex(key_hex),
                     [int(i) for i in order.split(",")],
                     [float.fromhex(s) for s in scores.split(",")]))
    assert len(rows) == count
    return rows


def _split(specs: List[str]) -> Tuple[List[str], List[float]]:
    nodes, weights = [], []
    for spec in specs:
        node, _, weight = spec.partition("=")
        nodes.append(node)
        weights.append(float(weight) if weight else 1.0)
    return nodes, weights


@pytest.mark.parametrize("specs", [
    ["127.0.0.1:7400", "127.0.0.1:7401", "127.0.0.1:7402"],
    ["10.0.0.1:7400=1", "10.0.0.2:7400=2", "10.0.0.3:7400=0.5", "[::1]:7400=3.25"],
    ["only-node:1"],
    [f"cache-{i}.example.internal:7400" for i in range(9)],
    ["a:1=0.001", "b:1=1000", "c:1=1e-9", "d:1=7"],
])
def test_ranking_identical_to_c(specs: List[str]) -> None:
    nodes, weights = _split(specs)
    for ns, key, order, scores in c_ranking(KEYS, specs):
        assert hrw_rank(nodes, ns, key, weights) == order, (ns, key)
        assert [hrw_score(n, ns, key, w) for n, w in zip(nodes, weights)] == scores


def _owners(nodes: List[str], keys: List[bytes], weights: Optional[List[float]] = None
            ) -> List[str]:
    return [nodes[hrw_rank(nodes, "recs", k, weights)[0]] for k in keys]


def test_adding_or_removing_a_node_moves_only_its_share() -> None:
    keys = [f"user:{i}".encode() for i in range(KEYS)]
    base = [f"10.0.0.{i}:7400" for i in range(1, 5)]
    before = _owners(base, keys)
    grown = _owners(base + ["10.0.0.9:7400"], keys)
    moved = [(a, b) for a, b in zip(before, grown) if a != b]
    assert all(b == "10.0.0.9:7400" for _, b in moved)  # only to the new node
    assert abs(len(moved) / KEYS - 1 / 5) < 0.03  # and about its fair share
    shrunk = _owners([n for n in base if n != "10.0.0.2:7400"], keys)
    for a, b in zip(before, shrunk):
        if a != "10.0.0.2:7400":
            assert a == b  # keys of the other nodes stay put
    assert before.count("10.0.0.2:7400") == sum(a != b for a, b in zip(before, shrunk))


def test_weights_set_the_share() -> None:
    keys = [f"user:{i}".encode() for i in range(KEYS)]
    nodes = ["a:1", "b:1", "c:1"]
    owners = _owners(nodes, keys, [1.0, 2.0, 1.0])
    share = owners.count("b:1") / KEYS
    assert abs(share - 0.5) < 0.03


def test_bad_cluster_arguments() -> None:
    with pytest.raises(ValueError):
        recache.Cluster([])
    with pytest.raises(ValueError):
        recache.Cluster(["no-port"])
    with pytest.raises(ValueError):
        recache.Cluster([("a:1", 0.0)])
    with pytest.raises(ValueError):
        recache.Cluster(["a:1", "a:1"])
    with pytest.raises(ValueError):
        hrw_rank([], "ns", "k")
    assert recache.parse_node("[::1]:7400") == ("::1", 7400)


def test_routes_like_the_c_client_on_three_servers(servers: List[Server]) -> None:
    nodes = [s.node for s in servers]
    rows = c_ranking(600, nodes)
    with recache.Cluster(nodes, timeout=30) as cluster:
        with cluster.client(nodes[0]).pipeline() as p0, \
                cluster.client(nodes[1]).pipeline() as p1, \
                cluster.client(nodes[2]).pipeline() as p2:
            for ns, key, order, _ in rows:
                assert cluster.node_for(ns, key) == nodes[order[0]]  # type: ignore[arg-type]
                assert cluster.rank(ns, key) == [nodes[i] for i in order]  # type: ignore
                [p0, p1, p2][order[0]].set(ns, key, b"v:" + key)  # type: ignore[arg-type]
        for ns, key, order, _ in rows:
            got = cluster.get(ns, key)  # type: ignore[arg-type]
            assert got is not None and got.value == b"v:" + key
        # Each key is on its node and nowhere else.
        direct = [s.client() for s in servers]
        for ns, key, order, _ in rows[:200]:
            present = [direct[i].get(ns, key) is not None for i in range(3)]  # type: ignore
            assert present == [i == order[0] for i in range(3)]
        counts = [int(c.stats()["entries"]) for c in direct]  # type: ignore[index]
        assert sum(counts) == len(rows) and min(counts) > 0
        for c in direct:
            c.close()
        # Single-key operations follow the same node.
        one_ns, one_key = rows[0][0].decode(), rows[0][1]
        assert cluster.touch(one_ns, one_key, 60000) and cluster.invalidate_key(one_ns, one_key)
        assert cluster.get(one_ns, one_key) is None and not cluster.delete(one_ns, one_key)
        assert cluster.get_or_fill(one_ns, one_key, lambda: "filled").value == b"filled"
        lease = cluster.lget(one_ns, b"other-key")
        assert lease.token is not None
        cluster.fill(one_ns, b"other-key", lease.token, "x")
        assert cluster.set(one_ns, one_key, "y").ns_version == 1


def test_broadcasts_report_every_node(servers: List[Server]) -> None:
    nodes = [s.node for s in servers]
    with recache.Cluster(nodes, timeout=30) as cluster:
        results = cluster.bump("recs", 5)
        assert [(r.node, r.ok, r.value) for r in results] == [(n, True, 5) for n in nodes]
        assert all(r.ok for r in cluster.invalidate_tag("segment:eu", soft=True))
        cfg = cluster.ns_config("recs", {"default-ttl": 60000})
        assert [r.value for r in cfg] == [5, 5, 5]
        assert [r.value for r in cluster.flush()] == [None, None, None]
        with pytest.raises(recache.ClusterError) as bad:
            cluster.ns_config("recs", "not-a-setting=1")
        assert len(bad.value.failed) == 3 and "not-a-setting" in (bad.value.failed[0].error or "")
        assert servers[1].stop() == 0
        with pytest.raises(recache.ClusterError) as exc:
            cluster.bump("recs")
        res = exc.value.results
        assert [r.ok for r in res] == [True, False, True]
        assert res[0].value == 6 and res[2].value == 6 and res[1].error
        assert isinstance(res[1].exception, ConnectionError)
        assert exc.value.failed == [res[1]]
