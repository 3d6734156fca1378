"""Client-side placement over several recache nodes (PROTOCOL.md section 14).

Design: weighted rendezvous (highest random weight) hashing, bit for bit
the algorithm of the C client's ``rc_hrw_rank`` (clients/c/rc_hrw.c): for
each node, FNV-1a 64 over ``node \\0 ns \\0 key`` then the splitmix64
finalizer gives h; u = ((h >> 11) + 0.5) / 2**53; score = -weight / ln(u);
nodes rank by descending score, exact ties by configuration order.  Python
floats are IEEE doubles and ``math.log`` is the C library's ``log``, so the
ranking is identical (tests/hrw_dump.c cross-checks it).
"""

from __future__ import annotations

import math
from typing import Any, Iterable, List, Optional, Sequence, Tuple, Union

from . import _ops
from . import _wire as w
from .client import Client, Compute, Key, ListCompute, Ns
from .errors import RecacheError
from .results import (Entry, Item, LeaseResult, ListEntry, ListLeaseResult, NodeResult, NsInfo,
                      Settings, SuppressResult, WriteResult)

_MASK = 0xFFFFFFFFFFFFFFFF
_FNV_OFFSET = 0xCBF29CE484222325
_FNV_PRIME = 0x100000001B3
_TWO_POW_53 = 9007199254740992.0

NodeSpec = Union[str, Tuple[str, float]]


def _fnv1a(h: int, data: bytes) -> int:
    for b in data:
        h = ((h ^ b) * _FNV_PRIME) & _MASK
    return h


def hrw_hash(node: w.Bytesish, ns: w.Bytesish, key: w.Bytesish) -> int:
    """The 64-bit placement hash of (node, ns, key): FNV-1a 64 then splitmix64's finalizer."""
    data = (w.to_bytes(node, "node") + b"\0" + w.to_bytes(ns, "namespace") + b"\0"
            + w.to_bytes(key, "key"))
    h = _fnv1a(_FNV_OFFSET, data)
    h ^= h >> 30
    h = (h * 0xBF58476D1CE4E5B9) & _MASK
    h ^= h >> 27
    h = (h * 0x94D049BB133111EB) & _MASK
    h ^= h >> 31
    return h


def hrw_score(node: w.Bytesish, ns: w.Bytesish, key: w.Bytesish, weight: float = 1.0) -> float:
    """The node's score for (ns, key); higher wins.  Same value as the C rc_hrw_score."""
    u = (float(hrw_hash(node, ns, key) >> 11) + 0.5) / _TWO_POW_53
    return -weight / math.log(u)


def _check_weight(weight: float) -> float:
    weight = float(weight)
    if not weight > 0.0 or not math.isfinite(weight):
        raise ValueError(f"a node weight must be > 0 and finite, got {weight}")
    return weight


def hrw_rank(nodes: Sequence[str], ns: w.Bytesish, key: w.Bytesish,
             weights: Optional[Sequence[float]] = None) -> List[int]:
    """Node indices by descending score for (ns, key), ties by lower index (rc_hrw_rank).

    Raises ValueError for no nodes, a weight count mismatch or a weight not > 0.
    """
    if not nodes:
        raise ValueError("no nodes to rank")
    if weights is not None and len(weights) != len(nodes):
        raise ValueError("one weight per node")
    ws = [1.0] * len(nodes) if weights is None else [_check_weight(x) for x in weights]
    nsb, keyb = w.to_bytes(ns, "namespace"), w.to_bytes(key, "key")
    scores = [hrw_score(n, nsb, keyb, ws[i]) for i, n in enumerate(nodes)]
    return sorted(range(len(nodes)), key=lambda i: (-scores[i], i))


def parse_node(node: str) -> Tuple[str, int]:
    """Split "host:port" (or "[v6]:port") into (host, port); raises ValueError."""
    host, sep, port = node.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"node must be 'host:port', got {node!r}")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    return host, int(port)


class ClusterError(RecacheError):
    """A broadcast that some node did not acknowledge; ``results`` has every node's answer."""

    def __init__(self, message: str, results: List[NodeResult]) -> None:
        super().__init__(message)
        self.results = results

    @property
    def failed(self) -> List[NodeResult]:
        return [r for r in self.results if not r.ok]


class Cluster:
    """Several recache nodes addressed as one cache, placed by rendezvous hashing.

    ``nodes`` are "host:port" strings or ("host:port", weight) pairs; the
    string as given is the node id the hash uses, so every client must
    configure the same strings (and weights) to agree on placement.  A node
    of weight 2 holds about twice the keys of a node of weight 1; adding or
    removing a node moves only the keys that node gains or held.

    Single-key operations (get, set, delete, touch, lget, fill, get_or_fill,
    invalidate_key, and the list operations list_set, list_get, list_lget,
    list_fill, list_get_or_fill, list_remove) go to the key's top-ranked
    node and behave exactly as the :class:`Client` methods (same arguments,
    results and exceptions).  Broadcasts (bump, invalidate_tag, flush,
    ns_config, suppress, unsuppress) go to every node in order and return
    one :class:`~recache.NodeResult` per node; when any node did not
    acknowledge they raise :class:`ClusterError` carrying all the results
    (the nodes that did acknowledge keep the change).  A namespace's
    suppressions are per node, so suppress and unsuppress are broadcasts;
    read one node's set with ``cluster.client(node).suppressed(ns)``.

    No failover (unlike the C rc_cluster, which moves a down node's keys to
    the next node with capped TTLs and replays missed invalidations): a key
    whose node is down fails with ConnectionFailed / ConnectionLost, and the
    node is used again once it answers.  One Client (connected lazily) per
    node; like a Client, a Cluster is used by one thread at a time.
    """

    def __init__(self, nodes: Sequence[NodeSpec], *, timeout: float = 5.0,
                 connect_timeout: Optional[float] = None,
                 client_name: str = "recache-python") -> None:
        if not nodes:
            raise ValueError("a cluster needs at least one node")
        self.nodes: List[str] = []
        self.weights: List[float] = []
        self._clients: List[Client] = []
        for spec in nodes:
            node, weight = (spec, 1.0) if isinstance(spec, str) else spec
            if node in self.nodes:
                raise ValueError(f"node {node!r} is listed twice")
            host, port = parse_node(node)
            self.nodes.append(node)
            self.weights.append(_check_weight(weight))
            self._clients.append(Client(host, port, timeout, connect_timeout=connect_timeout,
                                        client_name=client_name, connect=False))

    def __enter__(self) -> "Cluster":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def close(self) -> None:
        """Close every node's connection."""
        for c in self._clients:
            c.close()

    # ---- placement ----------------------------------------------------------------------------

    def rank(self, ns: Ns, key: Key) -> List[str]:
        """The node ids for (ns, key), best first."""
        return [self.nodes[i] for i in hrw_rank(self.nodes, ns, key, self.weights)]

    def node_for(self, ns: Ns, key: Key) -> str:
        """The node id that holds (ns, key)."""
        return self.nodes[hrw_rank(self.nodes, ns, key, self.weights)[0]]

    def client_for(self, ns: Ns, key: Key) -> Client:
        """The Client of the node that holds (ns, key)."""
        return self._clients[hrw_rank(self.nodes, ns, key, self.weights)[0]]

    def client(self, node: str) -> Client:
        """The Client of one node, by id; raises KeyError."""
        try:
            return self._clients[self.nodes.index(node)]
        except ValueError:
            raise KeyError(node) from None

    # ---- single-key operations (see Client for arguments and errors) -----------------------

    def get(self, ns: Ns, key: Key, **kwargs: Any) -> Optional[Entry]:
        return self.client_for(ns, key).get(ns, key, **kwargs)

    def set(self, ns: Ns, key: Key, value: w.Bytesish, **kwargs: Any) -> WriteResult:
        return self.client_for(ns, key).set(ns, key, value, **kwargs)

    def delete(self, ns: Ns, key: Key, **kwargs: Any) -> bool:
        return self.client_for(ns, key).delete(ns, key, **kwargs)

    def touch(self, ns: Ns, key: Key, ttl_ms: int = 0, **kwargs: Any) -> bool:
        return self.client_for(ns, key).touch(ns, key, ttl_ms, **kwargs)

    def lget(self, ns: Ns, key: Key, **kwargs: Any) -> LeaseResult:
        return self.client_for(ns, key).lget(ns, key, **kwargs)

    def fill(self, ns: Ns, key: Key, token: bytes, value: w.Bytesish,
             **kwargs: Any) -> WriteResult:
        return self.client_for(ns, key).fill(ns, key, token, value, **kwargs)

    def get_or_fill(self, ns: Ns, key: Key, compute: Compute, **kwargs: Any) -> Entry:
        return self.client_for(ns, key).get_or_fill(ns, key, compute, **kwargs)

    def invalidate_key(self, ns: Ns, key: Key, **kwargs: Any) -> bool:
        return self.client_for(ns, key).invalidate_key(ns, key, **kwargs)

    def list_set(self, ns: Ns, key: Key, items: Iterable[Item], **kwargs: Any) -> WriteResult:
        return self.client_for(ns, key).list_set(ns, key, items, **kwargs)

    def list_get(self, ns: Ns, key: Key, **kwargs: Any) -> Optional[ListEntry]:
        return self.client_for(ns, key).list_get(ns, key, **kwargs)

    def list_lget(self, ns: Ns, key: Key, **kwargs: Any) -> ListLeaseResult:
        return self.client_for(ns, key).list_lget(ns, key, **kwargs)

    def list_fill(self, ns: Ns, key: Key, token: bytes, items: Iterable[Item],
                  **kwargs: Any) -> WriteResult:
        return self.client_for(ns, key).list_fill(ns, key, token, items, **kwargs)

    def list_get_or_fill(self, ns: Ns, key: Key, compute: ListCompute,
                         **kwargs: Any) -> ListEntry:
        return self.client_for(ns, key).list_get_or_fill(ns, key, compute, **kwargs)

    def list_remove(self, ns: Ns, key: Key, ids: Iterable[int], **kwargs: Any) -> Optional[int]:
        return self.client_for(ns, key).list_remove(ns, key, ids, **kwargs)

    # ---- broadcasts -----------------------------------------------------------------------------

    def _broadcast(self, what: str, call: Any) -> List[NodeResult]:
        results = []
        for node, c in zip(self.nodes, self._clients):
            try:
                v = call(c)
                if isinstance(v, SuppressResult):
                    results.append(NodeResult(node, True, v.stamp, count=v.count))
                    continue
                results.append(NodeResult(node, True, v.version if isinstance(v, NsInfo) else v))
            except RecacheError as e:
                results.append(NodeResult(node, False, None, f"{type(e).__name__}: {e}", e))
        failed = [r.node for r in results if not r.ok]
        if failed:
            raise ClusterError(f"{what} not acknowledged by {', '.join(failed)}", results)
        return results

    def bump(self, ns: Ns, to: int = 0) -> List[NodeResult]:
        """Bump ns on every node (to = 0: each node's current + 1; give an explicit
        version to keep the nodes equal).  value = the node's current version."""
        return self._broadcast(f"bump {ns!r}", lambda c: c.bump(ns, to))

    def invalidate_tag(self, tag: str, *, soft: bool = False) -> List[NodeResult]:
        """Invalidate tag on every node; value = the node's invalidation stamp."""
        return self._broadcast(f"invalidate_tag {tag!r}",
                               lambda c: c.invalidate_tag(tag, soft=soft))

    def flush(self) -> List[NodeResult]:
        """Flush every node; value = None."""
        return self._broadcast("flush", lambda c: c.flush())

    def ns_config(self, ns: Ns, settings: Settings) -> List[NodeResult]:
        """Apply namespace settings on every node; value = the node's namespace version."""
        return self._broadcast(f"ns_config {ns!r}", lambda c: c.ns_config(ns, settings))

    def suppress(self, ns: Ns, ids: Iterable[int], *, ttl_ms: int = 0) -> List[NodeResult]:
        """Suppress ids in ns on every node (see Client.suppress); value = the node's
        stamp, count = the ids newly suppressed there.  Bad input (no ids, more than
        8191, an id out of range) raises before any node is asked; a node's
        SuppressFull is that node's failure (ClusterError)."""
        id_list = list(ids)
        _ops.op_suppress(ns, id_list, ttl_ms)  # refuse bad input once, before any node
        return self._broadcast(f"suppress {ns!r}",
                               lambda c: c.suppress(ns, id_list, ttl_ms=ttl_ms))

    def unsuppress(self, ns: Ns, ids: Iterable[int]) -> List[NodeResult]:
        """Unsuppress ids in ns on every node (see Client.unsuppress); value = the
        node's stamp, count = the ids that were suppressed there."""
        id_list = list(ids)
        _ops.op_unsuppress(ns, id_list)
        return self._broadcast(f"unsuppress {ns!r}", lambda c: c.unsuppress(ns, id_list))
