"""recache: a pure-Python client for the recache cache server.

Standard library only.  Start with :class:`Client` (one connection to one
server), :meth:`Client.get_or_fill` (read-through with server-side single
flight), :meth:`Client.pipeline` (many requests in one write),
:meth:`Client.subscribe` (the invalidation event channel) and
:class:`Cluster` (several nodes placed by rendezvous hashing).  Exceptions
are in :mod:`recache.errors`, all re-exported here.

Thread safety: a Client, Pipeline, Subscription or Cluster is used by one
thread at a time; :class:`ClientPool` is thread-safe.
"""

from .client import Client, ClientPool, Pending, Pipeline
from .cluster import Cluster, ClusterError, hrw_hash, hrw_rank, hrw_score, parse_node
from .errors import *  # noqa: F401,F403
from .errors import __all__ as _errors_all
from .results import (TTL_NONE, Cond, Entry, Event, EventKind, Fill, FillReport, Lease,
                      LeaseResult, Mode, NodeResult, NsInfo, ServerInfo, Status, WriteResult)
from .subscription import Subscription

__version__ = "0.1.0"

__all__ = [
    "Client", "ClientPool", "Pending", "Pipeline", "Cluster", "ClusterError", "hrw_hash",
    "hrw_rank", "hrw_score", "parse_node", "TTL_NONE", "Cond", "Entry", "Event", "EventKind",
    "Fill", "FillReport", "Lease", "LeaseResult", "Mode", "NodeResult", "NsInfo", "ServerInfo",
    "Status", "WriteResult", "Subscription", *_errors_all,
]
