"""Result types and enumerations of the recache client.

Every result is an immutable dataclass owned by the caller; values are
``bytes`` copies (no buffer is shared with the client).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple, Union

from ._wire import parse_kv_text

#: ``Entry.ttl_ms`` when the entry never expires.
TTL_NONE = 0xFFFFFFFF


class Cond(enum.IntEnum):
    """SET conditions (PROTOCOL.md 5.4)."""

    NONE = 0
    IF_ABSENT = 1
    IF_NEWER = 2
    CAS = 3


class Mode(enum.IntEnum):
    """Invalidation modes: HARD entries become misses, SOFT ones stale."""

    HARD = 0
    SOFT = 1


class Lease(enum.IntEnum):
    """Lease state of an LGET answer."""

    NONE = 0
    GRANTED = 1
    HELD = 2


class Status(enum.IntEnum):
    """Outcome statuses (below 32) a lease read can answer with."""

    OK = 0
    MISS = 1
    EXISTS = 2
    NOT_NEWER = 3
    CAS_MISMATCH = 4
    LEASE_REJECTED = 5
    LEASE_HELD = 6
    WAIT_TIMEOUT = 7
    TOO_MANY_WAITERS = 8


class EventKind(enum.IntEnum):
    """Kinds of pushed subscribe events (PROTOCOL.md 5.16)."""

    KEY = 1
    TAG = 2
    BUMP = 3
    FLUSH = 4
    RESYNC = 5
    HEARTBEAT = 6
    CLOSING = 7
    SUPPRESS = 8
    UNSUPPRESS = 9


@dataclass(frozen=True)
class ServerInfo:
    """The server's HELLO answer: its identity and limits."""

    instance_id: int
    max_frame: int
    max_value: int
    max_key: int
    max_tags: int
    max_tag_len: int
    server_version: str


@dataclass(frozen=True)
class Entry:
    """A value read from the server (or computed by ``get_or_fill``).

    ``ttl_ms`` is the time left (``TTL_NONE`` when it never expires, 0 when
    stale); ``stale`` is True for a value served stale.
    """

    value: bytes
    ns_version: int
    entry_version: int = 0
    flags: int = 0
    ttl_ms: int = TTL_NONE
    stale: bool = False

    @property
    def never_expires(self) -> bool:
        return self.ttl_ms == TTL_NONE


@dataclass(frozen=True)
class WriteResult:
    """A stored write: the namespace version written and the stored entry version."""

    ns_version: int
    entry_version: int


@dataclass(frozen=True)
class LeaseResult:
    """The full outcome of a lease read (``Client.lget``).

    Attributes:
        status: ``Status.OK`` (a hit, fresh or stale: ``entry`` is set), or
            ``MISS``, ``LEASE_HELD``, ``WAIT_TIMEOUT``, ``TOO_MANY_WAITERS``.
        lease: ``GRANTED`` means this reader must compute and ``fill`` with
            ``token``; ``HELD`` means another reader does.
        token: the 16-byte lease token when granted, else ``None``.
        ns_version: the namespace version looked up (pass it to ``fill``).
    """

    status: Status
    lease: Lease
    token: Optional[bytes]
    ns_version: int
    entry: Optional[Entry] = None

    @property
    def hit(self) -> bool:
        return self.entry is not None


@dataclass(frozen=True)
class NsInfo:
    """A namespace report (NS_INFO, NS_CONFIG): current version and its text."""

    version: int
    text: str

    @property
    def fields(self) -> Dict[str, str]:
        """The report's "name value" lines as a dict."""
        return dict(parse_kv_text(self.text))


@dataclass(frozen=True)
class Event:
    """One pushed event of a subscription.

    ``ns`` and ``tag`` are decoded text, ``key`` raw bytes; fields that do
    not apply to the kind are empty (or 0).  ``text`` is the raw EVENT text
    field: the reason of a CLOSING; on KEY events, newer servers put the
    cause there (see :attr:`cause`).  On SUPPRESS and UNSUPPRESS events
    ``ids`` holds the item ids (decoded from the text field, 8 bytes each)
    and ``text`` is empty: SUPPRESS hides them from every list of ``ns``
    (a near-cache removes them from its lists of ``ns``), UNSUPPRESS makes
    them visible again (a near-cache drops its lists of ``ns``).  ``kind``
    is an :class:`EventKind`, or the raw int for a kind this client does
    not know.
    """

    kind: Union[EventKind, int]
    seq: int
    instance_id: int
    ns_version: int = 0
    mode: Mode = Mode.HARD
    ns: str = ""
    key: bytes = b""
    tag: str = ""
    text: str = ""
    ids: Tuple[int, ...] = ()

    @property
    def cause(self) -> Optional[str]:
        """For KEY events: what happened to the key ("set", "delete", "invalidate", "touch",
        "list-remove": items were removed from the list in place).

        ``None`` for other kinds and when the server did not say (older servers leave
        the text empty).
        """
        if self.kind != EventKind.KEY or not self.text:
            return None
        return self.text


#: One list item: (item id, score), the id a u64, the score a 32-bit float.
Item = Tuple[int, float]


@dataclass(frozen=True)
class ListEntry:
    """A list read from the server (or computed by ``list_get_or_fill``).

    ``items`` are ``(id, score)`` pairs in rank order, already filtered as
    the read asked (``top``, ``exclude``) and without the ids the namespace
    suppresses; scores are the stored 32-bit floats.  The metadata are
    :class:`Entry`'s: ``ttl_ms`` is the time left (``TTL_NONE`` when it
    never expires, 0 when stale), ``stale`` True for a list served stale.
    """

    items: List[Item]
    ns_version: int
    entry_version: int = 0
    flags: int = 0
    ttl_ms: int = TTL_NONE
    stale: bool = False

    @property
    def ids(self) -> List[int]:
        """The item ids in rank order."""
        return [i for i, _ in self.items]

    @property
    def never_expires(self) -> bool:
        return self.ttl_ms == TTL_NONE

    def __len__(self) -> int:
        return len(self.items)


@dataclass(frozen=True)
class ListLeaseResult:
    """The full outcome of a list lease read (``Client.list_lget``): as
    :class:`LeaseResult`, with a :class:`ListEntry` on a hit."""

    status: Status
    lease: Lease
    token: Optional[bytes]
    ns_version: int
    entry: Optional[ListEntry] = None

    @property
    def hit(self) -> bool:
        return self.entry is not None


@dataclass(frozen=True)
class SuppressResult:
    """The answer to SUPPRESS / UNSUPPRESS.

    Attributes:
        stamp: the change's hybrid logical clock stamp (wall-clock ms since
            the epoch in the high 48 bits, a counter in the low 16).
        count: SUPPRESS: ids newly suppressed; UNSUPPRESS: ids that were
            suppressed.
    """

    stamp: int
    count: int


@dataclass(frozen=True)
class Suppression:
    """One live suppression (``Client.suppressed``).

    ``ttl_ms`` is the time left, ``TTL_NONE`` when it lasts until
    unsuppressed; ``stamp`` is the HLC stamp of the suppression.
    """

    id: int
    ttl_ms: int
    stamp: int

    @property
    def permanent(self) -> bool:
        return self.ttl_ms == TTL_NONE


@dataclass(frozen=True)
class ListFill:
    """What a ``list_get_or_fill`` compute function may return instead of
    plain items: the items plus the write options of its fill."""

    items: Sequence[Item]
    ttl_ms: int = 0
    stale_ms: Optional[int] = None
    flags: int = 0
    tags: Sequence[str] = ()
    entry_version: int = 0


@dataclass(frozen=True)
class Fill:
    """What a ``get_or_fill`` compute function may return instead of plain bytes:
    the value plus the write options of its fill."""

    value: Union[str, bytes]
    ttl_ms: int = 0
    stale_ms: Optional[int] = None
    flags: int = 0
    tags: Sequence[str] = ()
    entry_version: int = 0


@dataclass
class FillReport:
    """What one ``get_or_fill`` call did (pass one in to learn it).

    Attributes:
        attempts: lease reads sent.
        computed: True when this call ran compute (it held the lease).
        refresh: True when the lease was an early refresh of a fresh value.
        stored: True when the computed value was stored.
        fill_error: why a computed value was not stored (a LeaseRejected,
            another rejection or error), or the exception of a failed early
            refresh; None otherwise.
    """

    attempts: int = 0
    computed: bool = False
    refresh: bool = False
    stored: bool = False
    fill_error: Optional[BaseException] = None


@dataclass(frozen=True)
class NodeResult:
    """One node's answer to a cluster broadcast.

    ``value`` is the operation's number (the namespace version for bump and
    ns_config, the invalidation stamp for invalidate_tag and the change's
    stamp for suppress / unsuppress, None for flush) when ``ok``; otherwise
    ``error`` is the exception's text and ``exception`` the exception.
    ``count`` is the node's count for suppress / unsuppress (ids newly
    suppressed / ids that were suppressed), else None.
    """

    node: str
    ok: bool
    value: Optional[int] = None
    error: Optional[str] = None
    exception: Optional[BaseException] = field(default=None, compare=False, repr=False)
    count: Optional[int] = None


Settings = Union[str, Dict[str, int], Sequence[Tuple[str, int]]]
