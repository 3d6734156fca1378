"""recache: a pure-Python client for the recache cache server.

Standard library only.  Start with :class:`Client` (one connection to one
server), :meth:`Client.get_or_fill` (read-through with server-side single
flight), list values (:meth:`Client.list_get`, ``list_set``,
``list_remove``, ``list_get_or_fill``, ``suppress``), :meth:`Client.pipeline`
(many requests in one write), :meth:`Client.subscribe` (the invalidation event channel) and
:class:`Cluster` (several nodes placed by rendezvous hashing).  Exceptions
are in :mod:`recache.errors`, all re-exported here.

Thread safety: a Client, Pipeline, Subscription or Cluster is used by one
thread at a time; :class:`ClientPool` is thread-safe.
"""

from .client import Client, ClientPool, Pending, Pipeline
from .cluster import Cluster, ClusterError, hrw_hash, hrw_rank, hrw_score, parse_node
from .errors import (CLOSING_STATUSES, BadArgument, BadFrame, BadMagic, BadNamespace, BadVersion,
                     CasMismatch, ConditionRejected, ConnectionFailed, ConnectionLost, Exists,
                     FillUnavailable, Forbidden, FrameTooLarge, Internal, KeyTooLong, LeaseHeld,
                     LeaseRejected, NoMemory, NotNewer, ProtocolError, RecacheError, ServerBusy,
                     ServerError, ShuttingDown, SlowConsumer, TagTooLong, Timeout,
                     TooManyNamespaces, TooManyTags, TooManyWaiters, UnknownOpcode,
                     ValueTooLarge, WaitTimeout, WriteRejected, error_for_status)
from .errors import BadList, ExcludeTooLarge, SuppressFull, TooManyItems, WrongKind
from .results import (TTL_NONE, Cond, Entry, Event, EventKind, Fill, FillReport, Item, Lease,
                      LeaseResult, ListEntry, ListFill, ListLeaseResult, Mode, NodeResult, NsInfo,
                      ServerInfo, Status, SuppressResult, Suppression, WriteResult)
from .subscription import Subscription

__version__ = "0.1.0"

__all__ = [
    "Client", "ClientPool", "Pending", "Pipeline", "Cluster", "ClusterError", "hrw_hash",
    "hrw_rank", "hrw_score", "parse_node", "TTL_NONE", "Cond", "Entry", "Event", "EventKind",
    "Fill", "FillReport", "Lease", "LeaseResult", "Mode", "NodeResult", "NsInfo", "ServerInfo",
    "Status", "WriteResult", "Subscription", "RecacheError", "ConnectionFailed",
    "ConnectionLost", "Timeout", "ProtocolError", "WriteRejected", "ConditionRejected",
    "Exists", "NotNewer", "CasMismatch", "LeaseRejected", "FillUnavailable", "LeaseHeld",
    "WaitTimeout", "TooManyWaiters", "ServerError", "BadFrame", "BadMagic", "BadVersion",
    "UnknownOpcode", "FrameTooLarge", "KeyTooLong", "ValueTooLarge", "TooManyTags",
    "TagTooLong", "BadNamespace", "BadArgument", "NoMemory", "TooManyNamespaces", "ServerBusy",
    "ShuttingDown", "SlowConsumer", "Internal", "Forbidden", "error_for_status", "CLOSING_STATUSES",
    "Item", "ListEntry", "ListFill", "ListLeaseResult", "SuppressResult", "Suppression",
    "WrongKind", "BadList", "TooManyItems", "ExcludeTooLarge", "SuppressFull",
]
