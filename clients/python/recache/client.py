"""The recache client: one connection, every operation, pipelines and get_or_fill.

Design: a :class:`Client` owns at most one :class:`~recache._conn.Connection`.
It connects (and sends HELLO, learning the server's limits) when created, or
on first use with ``connect=False``.  Each call builds a prepared operation
(``_ops``), sends it and waits for its answer, bounded by ``timeout``
(extended by a lease read's ``wait_ms``).  When a call fails in transport
(:class:`~recache.errors.ConnectionLost`, :class:`~recache.errors.Timeout`)
or the server answers with a status after which it closes the connection,
the connection is dropped and the *next* call opens a new one; the failed
call is never retried, so a write is never silently sent twice.
"""

from __future__ import annotations

import threading
from contextlib import contextmanager
from typing import (Any, Callable, Dict, Generic, Iterable, Iterator, List, Optional, Protocol,
                    Sequence, Tuple, TypeVar, Union, cast)

from . import _ops
from . import _wire as w
from ._conn import Connection, deadline_after
from .errors import (CLOSING_STATUSES, ConnectionFailed, ConnectionLost, FillUnavailable, LeaseHeld,
                     RecacheError, TooManyWaiters, WaitTimeout, WrongKind)
from .results import (Cond, Entry, Fill, FillReport, Item, Lease, LeaseResult, ListEntry,
                      ListFill, ListLeaseResult, NsInfo, ServerInfo, Settings, Status,
                      SuppressResult, Suppression, WriteResult)
from .subscription import Subscription

T = TypeVar("T")
Key = w.Bytesish
#: Namespaces (and tags) are names: str (sent as UTF-8) or bytes.
Ns = w.Bytesish
Compute = Callable[[], Union[str, bytes, Fill]]
#: What ``list_get_or_fill``'s compute returns: the items, or a ListFill with write options.
ListCompute = Callable[[], Union[Sequence[Item], ListFill]]

E = TypeVar("E", Entry, ListEntry)
E_co = TypeVar("E_co", Entry, ListEntry, covariant=True)


class _LeaseRead(Protocol[E_co]):
    """What the read-through loop needs of a lease read (LeaseResult, ListLeaseResult)."""

    @property
    def status(self) -> Status: ...

    @property
    def lease(self) -> Lease: ...

    @property
    def token(self) -> Optional[bytes]: ...

    @property
    def ns_version(self) -> int: ...

    @property
    def entry(self) -> Optional[E_co]: ...

DEFAULT_PORT = 7400
DEFAULT_TIMEOUT = 5.0
DEFAULT_WAIT_MS = 1000
DEFAULT_ATTEMPTS = 3


def _reset(report: Optional[FillReport]) -> FillReport:
    """The report a read-through call fills in (the caller's, zeroed, or a new one)."""
    rep = report if report is not None else FillReport()
    rep.attempts, rep.computed, rep.refresh, rep.stored, rep.fill_error = 0, False, False, \
        False, None
    return rep


def _filtered(items: Sequence[Item], top: int, exclude: Iterable[int]) -> List[Item]:
    """The server's list filter (exclude set, then at most top items) on a local copy."""
    skip = set(exclude)
    out = [it for it in items if it[0] not in skip]
    return out[:top] if top else out


class Client:
    """A connection to one recache server.

    Args:
        host, port: the server.
        timeout: seconds allowed for each call's answer (a lease read may
            wait ``wait_ms`` longer); also the connect timeout unless
            ``connect_timeout`` is given.
        client_name: sent in HELLO.
        connect: connect now (raises :class:`~recache.errors.ConnectionFailed`)
            or on the first call.

    Thread safety: a Client is one connection and must be used by one
    thread at a time.  Use one Client per thread, or a :class:`ClientPool`.

    Errors: every method raises :class:`~recache.errors.RecacheError`
    subclasses as documented in :mod:`recache.errors`; ``TypeError`` /
    ``ValueError`` for arguments of the wrong type or range.  Keys, values,
    namespaces and tags are ``str`` (sent as UTF-8) or ``bytes``; returned
    values are ``bytes`` owned by the caller.  A broken connection is
    reopened by the next call; no call is retried.
    """

    def __init__(self, host: str = "127.0.0.1", port: int = DEFAULT_PORT,
                 timeout: float = DEFAULT_TIMEOUT, *, connect_timeout: Optional[float] = None,
                 client_name: str = "recache-python", connect: bool = True) -> None:
        self.host = host
        self.port = port
        self.timeout = timeout
        self.connect_timeout = timeout if connect_timeout is None else connect_timeout
        self.client_name = client_name
        self._conn: Optional[Connection] = None
        self._info: Optional[ServerInfo] = None
        if connect:
            self._connection()

    def __repr__(self) -> str:
        state = "connected" if self.connected else "disconnected"
        return f"<recache.Client {self.host}:{self.port} {state}>"

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # ---- connection ---------------------------------------------------------------------------

    @property
    def connected(self) -> bool:
        """True while the client holds an open connection."""
        return self._conn is not None and not self._conn.closed

    def close(self) -> None:
        """Close the connection (a later call reconnects).  Idempotent."""
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def _connection(self) -> Connection:
        """The open connection, connecting and exchanging HELLO first if needed."""
        if self._conn is not None and not self._conn.closed:
            return self._conn
        self._conn = None
        conn = Connection(self.host, self.port, self.connect_timeout)
        try:
            self._info = self._call_on(conn, _ops.op_hello(self.client_name))
        except ConnectionLost as e:  # nothing of the caller's request was sent yet
            conn.close()
            raise ConnectionFailed(f"HELLO to {self.host}:{self.port}: {e}") from e
        except BaseException:
            conn.close()
            raise
        self._conn = conn
        return conn

    @property
    def server_info(self) -> ServerInfo:
        """The server's HELLO answer (limits, instance id); connects if needed."""
        self._connection()
        assert self._info is not None
        return self._info

    def _call_on(self, conn: Connection, op: _ops.Op[T]) -> T:
        rid = conn.new_id()
        deadline = deadline_after(self.timeout + op.wait_ms / 1000.0)
        opcode, _, status, got_rid, body = conn.call(w.frame(op.opcode, rid, op.body), rid,
                                                     deadline)
        if status in CLOSING_STATUSES or got_rid == 0:
            conn.close()
        return _ops.answer(op, opcode, status, body)

    def _run(self, op: _ops.Op[T]) -> T:
        conn = self._connection()
        try:
            return self._call_on(conn, op)
        finally:
            if conn.closed and self._conn is conn:
                self._conn = None

    def _max_value(self) -> int:
        return self.server_info.max_value

    # ---- operations ---------------------------------------------------------------------------

    def hello(self) -> ServerInfo:
        """Send HELLO again and return (and remember) the server's answer."""
        self._info = self._run(_ops.op_hello(self.client_name))
        return self._info

    def ping(self) -> None:
        """Round trip to the server."""
        self._run(_ops.op_ping())

    def get(self, ns: Ns, key: Key, *, version: int = 0, min_version: int = 0
            ) -> Optional[Entry]:
        """The entry under (ns, key), or None on a miss.

        version: the namespace version read (0 = current).  min_version: a
        version the node must have reached (it adopts it first when behind).
        A stale entry is returned with ``entry.stale`` True.
        """
        return self._run(_ops.op_get(ns, key, version, min_version))

    def set(self, ns: Ns, key: Key, value: w.Bytesish, *, ttl_ms: int = 0,
            stale_ms: Optional[int] = None, flags: int = 0, tags: Sequence[str] = (),
            version: int = 0, entry_version: int = 0, cond: Cond = Cond.NONE,
            cas_version: int = 0, token: Optional[bytes] = None) -> WriteResult:
        """Store value; returns the namespace version written and the stored entry version.

        ttl_ms: 0 = the namespace's default; stale_ms: None = the
        namespace's default window, 0 = none; flags: opaque u32; tags: what
        the value depends on; version: namespace version written (0 =
        current, higher = staged); entry_version: the writer's stamp; cond:
        ``Cond.IF_ABSENT``, ``IF_NEWER`` (compares entry_version) or ``CAS``
        (expects cas_version); token: a lease token (a fill; see ``fill``).

        Raises Exists / NotNewer / CasMismatch when the condition fails,
        LeaseRejected when the token's lease is no longer current (each
        carrying ``entry_version``, the version that won), ValueTooLarge
        before sending when the value exceeds the server's max_value, and the
        server's errors (KeyTooLong, TooManyTags, BadNamespace, ...).
        """
        return self._run(_ops.op_set(ns, key, value, self._max_value(), ttl_ms=ttl_ms,
                                     stale_ms=stale_ms, flags=flags, tags=tags, version=version,
                                     entry_version=entry_version, cond=cond,
                                     cas_version=cas_version, token=token))

    def delete(self, ns: Ns, key: Key, *, version: int = 0) -> bool:
        """Remove the entry; True if it existed, False on a miss.  Cancels its lease."""
        return self._run(_ops.op_delete(ns, key, version))

    def touch(self, ns: Ns, key: Key, ttl_ms: int = 0, *, version: int = 0) -> bool:
        """Give a live entry a new TTL from now (0 = namespace default); False on a miss."""
        return self._run(_ops.op_touch(ns, key, ttl_ms, version))

    def stats(self, ns: Optional[str] = None) -> Optional[Dict[str, str]]:
        """Server statistics (or a namespace's report) as {name: value}; None if ns is unknown."""
        return self._run(_ops.op_stats(ns))

    def lget(self, ns: Ns, key: Key, *, version: int = 0, min_version: int = 0,
             wait_ms: int = 0) -> LeaseResult:
        """Lease read (PROTOCOL.md 5.8 and 6): every outcome is returned, none raised.

        With wait_ms > 0, a miss whose lease another reader holds is parked
        on the server until the value arrives (status OK) or wait_ms passes
        (WAIT_TIMEOUT); the call's timeout is extended by wait_ms.
        """
        return self._run(_ops.op_lget(ns, key, version, min_version, wait_ms))

    def fill(self, ns: Ns, key: Key, token: bytes, value: w.Bytesish, *, ttl_ms: int = 0,
             stale_ms: Optional[int] = None, flags: int = 0, tags: Sequence[str] = (),
             version: int = 0, entry_version: int = 0) -> WriteResult:
        """Store value under a lease token from ``lget`` (version: the one the read addressed).

        Raises LeaseRejected when the lease is no longer current (deleted,
        invalidated, bumped, a carried tag invalidated, expired); ValueError
        for a missing or all-zero token.
        """
        if not token or bytes(token) == w.ZERO_TOKEN:
            raise ValueError("fill needs the lease token from lget (use set for a plain write)")
        return self.set(ns, key, value, ttl_ms=ttl_ms, stale_ms=stale_ms, flags=flags, tags=tags,
                        version=version, entry_version=entry_version, token=token)

    def bump(self, ns: Ns, to: int = 0) -> int:
        """Make version ``to`` (0 = current + 1) current if higher; returns the current version."""
        return self._run(_ops.op_bump(ns, to))

    def ns_info(self, ns: Ns) -> Optional[NsInfo]:
        """The namespace's current version and report, or None if it does not exist."""
        return self._run(_ops.op_ns_info(ns))

    def ns_config(self, ns: Ns, settings: Settings) -> NsInfo:
        """Apply settings ("a=1 b=2", {"a": 1} or pairs); returns the namespace after it.

        Raises BadArgument (nothing applied; the message names the problem).
        """
        return self._run(_ops.op_ns_config(ns, settings))

    def invalidate_tag(self, tag: str, *, soft: bool = False) -> int:
        """Invalidate every entry carrying tag (hard: misses, soft: stale); returns the invalidation's stamp."""
        return self._run(_ops.op_invalidate_tag(tag, soft))

    def invalidate_key(self, ns: Ns, key: Key, *, soft: bool = False, version: int = 0) -> bool:
        """Hard (remove) or soft (make stale) invalidation of one key; False on a miss."""
        return self._run(_ops.op_invalidate_key(ns, key, soft, version))

    def flush(self) -> None:
        """Drop every entry on the server (versions and tag invalidations are kept)."""
        self._run(_ops.op_flush())

    def node_seq(self) -> Tuple[int, int]:
        """(newest event sequence number, instance id) of the node, from STATS."""
        st = self.stats() or {}
        try:
            return int(st["events_published"]), int(st["instance_id"])
        except (KeyError, ValueError):
            raise RecacheError("server STATS lacks events_published / instance_id") from None

    # ---- lists and suppression (PROTOCOL.md section 16) -------------------------------------

    def list_set(self, ns: Ns, key: Key, items: Iterable[Item], *, ttl_ms: int = 0,
                 stale_ms: Optional[int] = None, flags: int = 0, tags: Sequence[str] = (),
                 version: int = 0, entry_version: int = 0, cond: Cond = Cond.NONE,
                 cas_version: int = 0, token: Optional[bytes] = None) -> WriteResult:
        """Store a list: ``items`` are ``(item_id, score)`` pairs in rank order.

        Every option is :meth:`set`'s (TTL, stale window, flags, tags,
        namespace version, entry version, conditions, lease token) with the
        same meaning and outcomes; an empty list is valid.  Ids are u64 and
        distinct; scores are stored as 32-bit floats (read back rounded).

        Raises, before sending: TypeError / ValueError for an item that is
        not an (int u64, number) pair, BadList for a score that is not
        finite or overflows a 32-bit float, ValueTooLarge when 12 bytes per
        item exceed the server's max_value.  From the server: BadList (a
        duplicate id), TooManyItems (over max-list-items), the rejections of
        :meth:`set` (Exists, NotNewer, CasMismatch, LeaseRejected) and its
        errors.  A refused write changes nothing.
        """
        return self._run(_ops.op_list_set(ns, key, items, self._max_value(), ttl_ms=ttl_ms,
                                          stale_ms=stale_ms, flags=flags, tags=tags,
                                          version=version, entry_version=entry_version,
                                          cond=cond, cas_version=cas_version, token=token))

    def list_fill(self, ns: Ns, key: Key, token: bytes, items: Iterable[Item], *,
                  ttl_ms: int = 0, stale_ms: Optional[int] = None, flags: int = 0,
                  tags: Sequence[str] = (), version: int = 0,
                  entry_version: int = 0) -> WriteResult:
        """Store a list under a lease token from ``list_lget`` (or ``lget``): :meth:`fill`
        for lists.  Raises LeaseRejected when the lease is no longer current (a
        ``list_remove`` of the key cancels it too); ValueError for a missing token."""
        if not token or bytes(token) == w.ZERO_TOKEN:
            raise ValueError("list_fill needs the lease token from list_lget")
        return self.list_set(ns, key, items, ttl_ms=ttl_ms, stale_ms=stale_ms, flags=flags,
                             tags=tags, version=version, entry_version=entry_version,
                             token=token)

    def list_get(self, ns: Ns, key: Key, *, top: int = 0, exclude: Iterable[int] = (),
                 version: int = 0, min_version: int = 0) -> Optional[ListEntry]:
        """The list under (ns, key), or None on a miss.

        The server returns, in rank order, at most ``top`` items (0 = all)
        that are neither in ``exclude`` nor suppressed in the namespace at
        the moment of the read.  version / min_version as :meth:`get`.

        Raises WrongKind when the key holds a byte value, ExcludeTooLarge
        for an exclude set over the server's max-exclude (over 8191 ids:
        before sending), ValueError for an id or top out of range.
        """
        return self._run(_ops.op_list_get(ns, key, version, min_version, top, exclude))

    def list_lget(self, ns: Ns, key: Key, *, top: int = 0, exclude: Iterable[int] = (),
                  version: int = 0, min_version: int = 0,
                  wait_ms: int = 0) -> ListLeaseResult:
        """Lease read of a list: :meth:`lget`'s outcomes (all returned, none raised),
        with :meth:`list_get`'s ``top`` and ``exclude``.

        A parked read answered by a fill receives the filled list through
        its own top, exclude and the namespace's suppressions.  Raises
        WrongKind when the key holds (or is filled with) a byte value, and
        list_get's argument errors.
        """
        return self._run(_ops.op_list_lget(ns, key, version, min_version, wait_ms, top,
                                           exclude))

    def list_remove(self, ns: Ns, key: Key, ids: Iterable[int], *,
                    version: int = 0) -> Optional[int]:
        """Remove the ids from one list in place, atomically (a purchase).

        Returns how many items were removed (0 when none was in the list),
        or None when there is no live list under the key.  The list keeps
        its rank order, entry version, TTL and tags; the key's lease is
        cancelled (a recomputation already under way cannot put a removed
        item back: its fill gets LeaseRejected), also on a miss.

        Raises WrongKind for a byte value, TooManyItems for more ids than
        max-list-items (over 8191: before sending), BadArgument (before
        sending) for no ids.
        """
        return self._run(_ops.op_list_remove(ns, key, ids, version))

    def suppress(self, ns: Ns, ids: Iterable[int], *, ttl_ms: int = 0) -> SuppressResult:
        """Hide ids from every list of ns, from now on, for ttl_ms (0 = until unsuppressed).

        An id already suppressed gets the new TTL.  Returns the change's
        stamp and the number of ids newly suppressed.  Suppressions survive
        FLUSH and BUMP.  Raises SuppressFull when the namespace would then
        suppress more than max-suppressed ids (nothing changes), NoMemory,
        BadArgument (before sending) for no ids or more than 8191.
        """
        return self._run(_ops.op_suppress(ns, ids, ttl_ms))

    def unsuppress(self, ns: Ns, ids: Iterable[int]) -> SuppressResult:
        """Make ids visible again in ns; returns the stamp and how many were suppressed.

        Raises BadArgument (before sending) for no ids or more than 8191.
        """
        return self._run(_ops.op_unsuppress(ns, ids))

    def suppressed(self, ns: Ns) -> List[Suppression]:
        """The live suppressions of ns (id, TTL left, stamp); empty for an unknown namespace."""
        return self._run(_ops.op_suppressed(ns))

    # ---- pipelines, lease helper, subscriptions ---------------------------------------------

    def pipeline(self) -> "Pipeline":
        """A batch of requests sent with one write (see :class:`Pipeline`)."""
        return Pipeline(self)

    def get_or_fill(self, ns: Ns, key: Key, compute: Compute, *, ttl_ms: int = 0,
                    stale_ms: Optional[int] = None, flags: int = 0, tags: Sequence[str] = (),
                    entry_version: int = 0, version: int = 0, min_version: int = 0,
                    wait_ms: int = DEFAULT_WAIT_MS, max_attempts: int = DEFAULT_ATTEMPTS,
                    report: Optional[FillReport] = None) -> Entry:
        """Read-through with server-side single flight (the C client's rc_get_or_fill).

        Each attempt is one lease read that may park up to wait_ms:

        * fresh hit: the value.  If the server also handed this reader an
          early-refresh lease, compute runs and its value is filled, but the
          value read is returned; a failing refresh is only reported.
        * stale hit, this reader granted the lease: compute, fill, new value.
        * stale hit, lease held elsewhere: the stale value at once.
        * miss, lease granted: compute, fill, the new value.
        * miss, parked: the value the lease holder filled.
        * WAIT_TIMEOUT, LEASE_HELD, or a miss whose lease vanished while
          parked (a flush): another attempt, up to max_attempts; then
          WaitTimeout / LeaseHeld / FillUnavailable is raised.
          TooManyWaiters is raised at once.

        compute() takes no argument and returns the value (str or bytes,
        written with ttl_ms / stale_ms / flags / tags / entry_version) or a
        :class:`~recache.Fill` choosing its own options.  An exception from
        compute propagates (the lease then expires on the server).  When the
        computed value could not be stored (LeaseRejected because the key was
        invalidated meanwhile, or any other fill failure) it is still
        returned: it is right for this caller, only not cached;
        ``report.stored`` says so.  For a computed value, ``ttl_ms`` of the
        returned Entry is the TTL requested (0 = the namespace default).
        """
        rep = _reset(report)
        defaults = Fill(b"", ttl_ms, stale_ms, flags, tuple(tags), entry_version)
        return self._read_through(
            lambda: self.lget(ns, key, version=version, min_version=min_version,
                              wait_ms=wait_ms),
            lambda lr: self._compute_and_fill(ns, key, compute, defaults, lr, version, rep),
            wait_ms, max_attempts, rep)

    def _read_through(self, lget: Callable[[], _LeaseRead[E]],
                      compute_and_fill: Callable[[_LeaseRead[E]], E], wait_ms: int,
                      max_attempts: int, rep: FillReport) -> E:
        """The lease loop shared by get_or_fill and list_get_or_fill (see get_or_fill)."""
        last = Status.MISS
        for _ in range(max(1, max_attempts)):
            rep.attempts += 1
            lr = lget()
            if lr.status == Status.OK and lr.entry is not None:
                if lr.lease == Lease.GRANTED and lr.entry.stale:
                    return compute_and_fill(lr)
                if lr.lease == Lease.GRANTED:
                    rep.refresh = True
                    try:
                        compute_and_fill(lr)
                    except Exception as e:  # the value read is fresh: report, do not fail
                        rep.fill_error = e
                return lr.entry
            if lr.status == Status.MISS and lr.lease == Lease.GRANTED:
                return compute_and_fill(lr)
            if lr.status == Status.TOO_MANY_WAITERS:
                raise TooManyWaiters("too many parked requests on the server", 8)
            last = lr.status
        if last == Status.WAIT_TIMEOUT:
            raise WaitTimeout(f"no value within {wait_ms} ms on {rep.attempts} attempts", 7)
        if last == Status.LEASE_HELD:
            raise LeaseHeld(f"lease held by another reader on {rep.attempts} attempts", 6)
        raise FillUnavailable(f"the lease vanished while parked on {rep.attempts} attempts",
                              int(last))

    def _compute_and_fill(self, ns: Ns, key: Key, compute: Compute, defaults: Fill,
                          lr: _LeaseRead[Entry], version: int, rep: FillReport) -> Entry:
        """This reader holds the lease: compute, fill under the token, return the value."""
        out = compute()
        rep.computed = True
        f = out if isinstance(out, Fill) else Fill(out, defaults.ttl_ms, defaults.stale_ms,
                                                   defaults.flags, defaults.tags,
                                                   defaults.entry_version)
        value = w.to_bytes(f.value, "computed value")
        ns_version, entry_version = lr.ns_version, f.entry_version
        assert lr.token is not None
        try:
            wr = self.fill(ns, key, lr.token, value, ttl_ms=f.ttl_ms, stale_ms=f.stale_ms,
                           flags=f.flags, tags=f.tags, version=version,
                           entry_version=f.entry_version)
            rep.stored = True
            ns_version, entry_version = wr.ns_version, wr.entry_version
        except RecacheError as e:  # not cached, still the right value for this caller
            rep.fill_error = e
        return Entry(value, ns_version, entry_version, f.flags, f.ttl_ms, False)

    def list_get_or_fill(self, ns: Ns, key: Key, compute: ListCompute, *, top: int = 0,
                         exclude: Iterable[int] = (), ttl_ms: int = 0,
                         stale_ms: Optional[int] = None, flags: int = 0,
                         tags: Sequence[str] = (), entry_version: int = 0, version: int = 0,
                         min_version: int = 0, wait_ms: int = DEFAULT_WAIT_MS,
                         max_attempts: int = DEFAULT_ATTEMPTS,
                         report: Optional[FillReport] = None) -> ListEntry:
        """:meth:`get_or_fill` for lists (the C client's rc_list_get_or_fill).

        Each attempt is one ``list_lget`` with ``top`` and ``exclude``; the
        outcomes, retries and exceptions are get_or_fill's.  compute() takes
        no argument and returns the items (``(id, score)`` pairs in rank
        order) or a :class:`~recache.ListFill` choosing its own write
        options; the full list is stored.  A list this call computed and
        stored is read back once (``list_get`` with top and exclude), so the
        caller sees it without the namespace's suppressed ids like any read;
        when that read finds nothing (the list was removed or replaced by a
        byte value at once) or the fill failed (``report.stored`` False,
        ``report.fill_error`` why), the computed list is returned with only
        exclude and top applied.  Raises the exceptions of list_set for bad
        computed items (before anything is sent) and WrongKind when the key
        holds a byte value.
        """
        rep = _reset(report)
        skip = list(exclude)
        defaults = ListFill((), ttl_ms, stale_ms, flags, tuple(tags), entry_version)
        return self._read_through(
            lambda: self.list_lget(ns, key, top=top, exclude=skip, version=version,
                                   min_version=min_version, wait_ms=wait_ms),
            lambda lr: self._list_compute_and_fill(ns, key, compute, defaults, lr, version,
                                                   min_version, top, skip, rep),
            wait_ms, max_attempts, rep)

    def _list_compute_and_fill(self, ns: Ns, key: Key, compute: ListCompute,
                               defaults: ListFill, lr: _LeaseRead[ListEntry], version: int,
                               min_version: int, top: int, exclude: List[int],
                               rep: FillReport) -> ListEntry:
        """This reader holds the lease: compute, fill the list, return it as read back."""
        out = compute()
        rep.computed = True
        f = out if isinstance(out, ListFill) else ListFill(
            out, defaults.ttl_ms, defaults.stale_ms, defaults.flags, defaults.tags,
            defaults.entry_version)
        data = w.items_bytes(f.items)  # bad items raise here, before anything is sent
        items: List[Item] = [(i, sc) for i, sc in w.ITEM.iter_unpack(data)]
        ns_version, entry_version = lr.ns_version, f.entry_version
        assert lr.token is not None
        try:
            wr = self.list_fill(ns, key, lr.token, items, ttl_ms=f.ttl_ms, stale_ms=f.stale_ms,
                                flags=f.flags, tags=f.tags, version=version,
                                entry_version=f.entry_version)
            rep.stored = True
            ns_version, entry_version = wr.ns_version, wr.entry_version
        except RecacheError as e:  # not cached, still the right list for this caller
            rep.fill_error = e
        if rep.stored and not rep.refresh:
            try:  # the server's view: the namespace's suppressions applied
                back = self.list_get(ns, key, top=top, exclude=exclude, version=ns_version,
                                     min_version=min_version)
            except WrongKind:
                back = None
            if back is not None:
                return back
        return ListEntry(_filtered(items, top, exclude), ns_version, entry_version, f.flags,
                         f.ttl_ms, False)

    def subscribe(self, namespaces: Optional[Sequence[str]] = None,
                  from_seq: Optional[int] = None, instance_id: Optional[int] = None, *,
                  reconnect: bool = False, idle_timeout: Optional[float] = None
                  ) -> Subscription:
        """Open the invalidation event channel on a dedicated connection.

        namespaces: names of interest (None = all); from_seq / instance_id:
        resume after that event of that node instance (None = from now);
        reconnect: resubscribe from the last position by itself after a
        broken connection or CLOSING; idle_timeout: seconds of silence (not
        even a heartbeat) that mean a dead channel (default: timeout).
        Returns a :class:`~recache.Subscription` (an iterator of events)
        owned by the caller; this client's own connection is not used.
        Raises ConnectionFailed, or BadNamespace for an invalid name.
        """
        return Subscription(self.host, self.port, namespaces, from_seq, instance_id,
                            timeout=self.timeout, connect_timeout=self.connect_timeout,
                            reconnect=reconnect, idle_timeout=idle_timeout,
                            client_name=self.client_name)


class Pending(Generic[T]):
    """The future result of one pipelined request (available after the pipeline ran)."""

    __slots__ = ("_op", "_done", "_value", "_error")

    def __init__(self, op: _ops.Op[T]) -> None:
        self._op = op
        self._done = False
        self._value: Any = None
        self._error: Optional[BaseException] = None

    @property
    def done(self) -> bool:
        return self._done

    def _settle(self, opcode: int, status: int, body: bytes) -> None:
        try:
            self._value = _ops.answer(self._op, opcode, status, body)
        except RecacheError as e:
            self._error = e
        self._done = True

    def result(self) -> T:
        """The operation's result, or raise its exception (as the Client method would)."""
        if not self._done:
            raise RuntimeError("the pipeline has not been executed yet")
        if self._error is not None:
            raise self._error
        return cast(T, self._value)

    def exception(self) -> Optional[BaseException]:
        """The operation's exception, or None when it succeeded."""
        if not self._done:
            raise RuntimeError("the pipeline has not been executed yet")
        return self._error


class Pipeline:
    """Many requests sent in one write; answers matched by request id.

    Usage::

        with client.pipeline() as p:
            a = p.get("recs", "user:1")
            b = p.set("recs", "user:2", b"[7,8]", ttl_ms=60000)
        a.result(), b.result()

    Queue methods mirror :class:`Client` and return a :class:`Pending`.
    Leaving the ``with`` block without an exception runs :meth:`execute`;
    with an exception nothing is sent.  Each request keeps its own outcome
    (``Pending.result()`` raises that request's exception); a transport
    failure makes ``execute`` raise ConnectionLost / Timeout and leaves
    every Pending unsettled.  A pipeline belongs to its client's thread.
    """

    def __init__(self, client: Client) -> None:
        self._client = client
        self._ops: List[Pending[Any]] = []
        self._executed = False

    def __enter__(self) -> "Pipeline":
        return self

    def __exit__(self, exc_type: Any, *exc: Any) -> None:
        if exc_type is None and not self._executed:
            self.execute()

    def __len__(self) -> int:
        return len(self._ops)

    def _add(self, op: _ops.Op[T]) -> Pending[T]:
        if self._executed:
            raise RuntimeError("this pipeline was already executed")
        p: Pending[T] = Pending(op)
        self._ops.append(p)
        return p

    def execute(self) -> List[Any]:
        """Send every queued request, wait for every answer.

        Returns the list of results in queue order, each a value or the
        request's exception instance (not raised).  Raises only transport
        errors (the connection is then closed).
        """
        if self._executed:
            raise RuntimeError("this pipeline was already executed")
        self._executed = True
        if not self._ops:
            return []
        c = self._client
        conn = c._connection()
        rids = [conn.new_id() for _ in self._ops]
        frames = [w.frame(p._op.opcode, rid, p._op.body) for p, rid in zip(self._ops, rids)]
        wait = max(p._op.wait_ms for p in self._ops)
        try:
            got = conn.exchange(frames, rids, deadline_after(c.timeout + wait / 1000.0))
        finally:
            if conn.closed and c._conn is conn:
                c._conn = None
        for p, rid in zip(self._ops, rids):
            opcode, _, status, _, body = got[rid]
            p._settle(opcode, status, body)
            if status in CLOSING_STATUSES:
                conn.close()
                c._conn = None
        return [p._value if p._error is None else p._error for p in self._ops]

    # ---- queue methods (arguments as the Client methods of the same name) ----------------------

    def ping(self) -> Pending[None]:
        return self._add(_ops.op_ping())

    def get(self, ns: Ns, key: Key, *, version: int = 0, min_version: int = 0
            ) -> Pending[Optional[Entry]]:
        return self._add(_ops.op_get(ns, key, version, min_version))

    def set(self, ns: Ns, key: Key, value: w.Bytesish, *, ttl_ms: int = 0,
            stale_ms: Optional[int] = None, flags: int = 0, tags: Sequence[str] = (),
            version: int = 0, entry_version: int = 0, cond: Cond = Cond.NONE,
            cas_version: int = 0, token: Optional[bytes] = None) -> Pending[WriteResult]:
        return self._add(_ops.op_set(ns, key, value, self._client._max_value(), ttl_ms=ttl_ms,
                                     stale_ms=stale_ms, flags=flags, tags=tags, version=version,
                                     entry_version=entry_version, cond=cond,
                                     cas_version=cas_version, token=token))

    def delete(self, ns: Ns, key: Key, *, version: int = 0) -> Pending[bool]:
        return self._add(_ops.op_delete(ns, key, version))

    def touch(self, ns: Ns, key: Key, ttl_ms: int = 0, *, version: int = 0) -> Pending[bool]:
        return self._add(_ops.op_touch(ns, key, ttl_ms, version))

    def lget(self, ns: Ns, key: Key, *, version: int = 0, min_version: int = 0,
             wait_ms: int = 0) -> Pending[LeaseResult]:
        return self._add(_ops.op_lget(ns, key, version, min_version, wait_ms))

    def invalidate_key(self, ns: Ns, key: Key, *, soft: bool = False,
                       version: int = 0) -> Pending[bool]:
        return self._add(_ops.op_invalidate_key(ns, key, soft, version))

    def invalidate_tag(self, tag: str, *, soft: bool = False) -> Pending[int]:
        return self._add(_ops.op_invalidate_tag(tag, soft))

    def bump(self, ns: Ns, to: int = 0) -> Pending[int]:
        return self._add(_ops.op_bump(ns, to))

    def ns_info(self, ns: Ns) -> Pending[Optional[NsInfo]]:
        return self._add(_ops.op_ns_info(ns))

    def stats(self, ns: Optional[str] = None) -> Pending[Optional[Dict[str, str]]]:
        return self._add(_ops.op_stats(ns))

    def list_set(self, ns: Ns, key: Key, items: Iterable[Item], *, ttl_ms: int = 0,
                 stale_ms: Optional[int] = None, flags: int = 0, tags: Sequence[str] = (),
                 version: int = 0, entry_version: int = 0, cond: Cond = Cond.NONE,
                 cas_version: int = 0, token: Optional[bytes] = None) -> Pending[WriteResult]:
        return self._add(_ops.op_list_set(ns, key, items, self._client._max_value(),
                                          ttl_ms=ttl_ms, stale_ms=stale_ms, flags=flags,
                                          tags=tags, version=version,
                                          entry_version=entry_version, cond=cond,
                                          cas_version=cas_version, token=token))

    def list_get(self, ns: Ns, key: Key, *, top: int = 0, exclude: Iterable[int] = (),
                 version: int = 0, min_version: int = 0) -> Pending[Optional[ListEntry]]:
        return self._add(_ops.op_list_get(ns, key, version, min_version, top, exclude))

    def list_lget(self, ns: Ns, key: Key, *, top: int = 0, exclude: Iterable[int] = (),
                  version: int = 0, min_version: int = 0,
                  wait_ms: int = 0) -> Pending[ListLeaseResult]:
        return self._add(_ops.op_list_lget(ns, key, version, min_version, wait_ms, top,
                                           exclude))

    def list_remove(self, ns: Ns, key: Key, ids: Iterable[int], *,
                    version: int = 0) -> Pending[Optional[int]]:
        return self._add(_ops.op_list_remove(ns, key, ids, version))

    def suppress(self, ns: Ns, ids: Iterable[int], *, ttl_ms: int = 0
                 ) -> Pending[SuppressResult]:
        return self._add(_ops.op_suppress(ns, ids, ttl_ms))

    def unsuppress(self, ns: Ns, ids: Iterable[int]) -> Pending[SuppressResult]:
        return self._add(_ops.op_unsuppress(ns, ids))

    def suppressed(self, ns: Ns) -> Pending[List[Suppression]]:
        return self._add(_ops.op_suppressed(ns))


class ClientPool:
    """A small thread-safe pool of Clients to one server.

    ``with pool.client() as c: c.get(...)`` lends a Client to the calling
    thread for the block (at most ``size`` exist; a borrower waits up to
    ``timeout`` seconds for a free one, then gets ``TimeoutError``).
    Clients connect lazily and reconnect by themselves after a failure.
    """

    def __init__(self, host: str = "127.0.0.1", port: int = DEFAULT_PORT, size: int = 8,
                 timeout: float = DEFAULT_TIMEOUT, **client_kwargs: Any) -> None:
        if size < 1:
            raise ValueError("pool size must be at least 1")
        self._host, self._port, self._client_kwargs = host, port, client_kwargs
        self._size = size
        self._timeout = timeout
        self._idle: List[Client] = []
        self._created = 0
        self._closed = False
        self._cond = threading.Condition()

    @contextmanager
    def client(self) -> Iterator[Client]:
        c = self._acquire()
        try:
            yield c
        finally:
            self._release(c)

    def _acquire(self) -> Client:
        with self._cond:
            ok = self._cond.wait_for(lambda: self._closed or self._idle
                                     or self._created < self._size, self._timeout)
            if self._closed:
                raise RuntimeError("the pool is closed")
            if not ok:
                raise TimeoutError(f"no free client within {self._timeout} s")
            if self._idle:
                return self._idle.pop()
            self._created += 1
        return Client(self._host, self._port, self._timeout, connect=False, **self._client_kwargs)

    def _release(self, c: Client) -> None:
        with self._cond:
            if self._closed:
                c.close()
            else:
                self._idle.append(c)
            self._cond.notify()

    def close(self) -> None:
        """Close the idle clients; clients still lent are closed when returned."""
        with self._cond:
            self._closed = True
            for c in self._idle:
                c.close()
            self._idle.clear()
            self._cond.notify_all()


__all__ = ["Client", "Pipeline", "Pending", "ClientPool"]
