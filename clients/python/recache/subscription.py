"""The subscribe channel (PROTOCOL.md 5.15, 5.16, 8) as an iterator of typed events.

Design: a :class:`Subscription` owns its own connection, sends SUBSCRIBE and
then only reads pushed EVENT frames.  It remembers its position, the
``(last_seq, instance_id)`` pair a node needs to replay what a subscriber
missed: every yielded event of this node's instance moves ``last_seq``
forward (heartbeats too, since they carry the subscriber's position), and a
RESYNC moves both to the node's new position.  :meth:`Subscription.resume`
(or the automatic reconnect) subscribes again from that position, so the
node either replays every missed event or sends RESYNC: nothing is lost
silently.  A quiet channel still carries heartbeats (every ``heartbeat-ms``
on the server), so iteration treats ``idle_timeout`` seconds without any
frame as a dead connection.
"""

from __future__ import annotations

import struct
import time
from typing import Iterator, List, Optional, Sequence, Union

from . import _ops
from . import _wire as w
from ._conn import Connection, Frame, deadline_after
from .errors import (ConnectionFailed, ConnectionLost, ProtocolError, ServerBusy, ShuttingDown,
                     Timeout)
from .results import Event, EventKind, Mode

_ID = struct.Struct("<Q")
_BACKOFF_FIRST = 0.05
_BACKOFF_MAX = 2.0


def decode_event(body: bytes) -> Event:
    """Decode an EVENT push body; raises ProtocolError when malformed."""
    r = w.Reader(body)
    seq, instance_id, ns_version = r.u64(), r.u64(), r.u64()
    kind_raw, mode_raw = r.u8(), r.u8()
    ns = w.decode_text(r.short_bytes())
    key = r.text_bytes()
    tag = w.decode_text(r.short_bytes())
    raw_text = r.text_bytes()
    r.end()
    if mode_raw > 1:
        raise ProtocolError(f"EVENT with mode {mode_raw}")
    kind: Union[EventKind, int]
    try:
        kind = EventKind(kind_raw)
    except ValueError:
        kind = kind_raw
    if kind in (EventKind.SUPPRESS, EventKind.UNSUPPRESS):  # text: the item ids, U64 each
        if len(raw_text) % w.ID_SIZE:
            raise ProtocolError(f"EVENT kind {kind_raw} with {len(raw_text)} bytes of ids")
        ids = tuple(i for (i,) in _ID.iter_unpack(raw_text))
        return Event(kind, seq, instance_id, ns_version, Mode(mode_raw), ns, key, tag, "", ids)
    return Event(kind, seq, instance_id, ns_version, Mode(mode_raw), ns, key, tag,
                 w.decode_text(raw_text))


class Subscription:
    """An iterator of :class:`~recache.Event` from one node, resumable by sequence number.

    Created by :meth:`Client.subscribe` (arguments as there):

    * ``namespaces``: names of interest (None or empty = all).  TAG, FLUSH,
      RESYNC, HEARTBEAT and CLOSING events are always delivered.
    * ``from_seq`` / ``instance_id``: resume after event ``from_seq`` of
      that instance: the node replays what followed, or sends RESYNC when it
      cannot (unknown instance, i.e. the node restarted, or too far behind).
      None (both) = from now.
    * ``reconnect``: when the connection breaks or the server sends
      CLOSING, the next read reconnects (backoff 50 ms .. 2 s, at most
      ``reconnect_attempts`` tries) and resumes from the last position.
      Without it a broken connection raises ConnectionLost and CLOSING ends
      the iteration.
    * ``idle_timeout``: seconds without any frame (events or heartbeats)
      after which iteration treats the channel as dead (default: the
      client's timeout, which should exceed the server's heartbeat-ms).

    Attributes ``last_seq`` and ``instance_id`` are the position to resume
    from (``client.subscribe(from_seq=s.last_seq, instance_id=s.instance_id)``
    after this object is gone).  ``node_seq`` is what the last SUBSCRIBE
    answer reported.  Not thread-safe: one reader thread.  Raises
    ConnectionFailed when the (re)connection fails and the server's error
    classes (BadNamespace, ...) for a refused SUBSCRIBE.
    """

    def __init__(self, host: str, port: int, namespaces: Optional[Sequence[str]] = None,
                 from_seq: Optional[int] = None, instance_id: Optional[int] = None, *,
                 timeout: float = 5.0, connect_timeout: Optional[float] = None,
                 reconnect: bool = False, idle_timeout: Optional[float] = None,
                 reconnect_attempts: int = 8, client_name: str = "recache-python") -> None:
        self.host, self.port = host, port
        self.namespaces: List[str] = list(namespaces or [])
        self.last_seq = from_seq or 0
        self.instance_id = instance_id or 0
        self.node_seq = 0
        self.reconnects = 0
        self._timeout = timeout
        self._connect_timeout = timeout if connect_timeout is None else connect_timeout
        self._idle_timeout = timeout if idle_timeout is None else idle_timeout
        self._reconnect = reconnect
        self._attempts = max(1, reconnect_attempts)
        self._conn: Optional[Connection] = None
        self._ended = False
        self._subscribe()

    def __repr__(self) -> str:
        return (f"<recache.Subscription {self.host}:{self.port} seq={self.last_seq} "
                f"instance={self.instance_id:#x}>")

    def __enter__(self) -> "Subscription":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the channel; the iteration ends.  Idempotent."""
        self._ended = True
        self._drop()

    def _drop(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def _subscribe(self) -> None:
        """Connect and SUBSCRIBE from the current position."""
        conn = Connection(self.host, self.port, self._connect_timeout)
        try:
            op = _ops.op_subscribe(self.last_seq, self.instance_id, self.namespaces)
            rid = conn.new_id()
            opcode, _, status, _, body = conn.call(w.frame(op.opcode, rid, op.body), rid,
                                                   deadline_after(self._timeout))
            seq, instance_id = _ops.answer(op, opcode, status, body)
        except BaseException:
            conn.close()
            raise
        self.node_seq = seq
        if self.last_seq == 0 and self.instance_id == 0:
            self.last_seq, self.instance_id = seq, instance_id  # from now: no replay
        # Otherwise the node replays after last_seq (same instance) or sends RESYNC,
        # which moves the position when it is read.
        self._conn = conn

    def resume(self) -> None:
        """Drop the connection and subscribe again from (last_seq, instance_id)."""
        self._drop()
        self._ended = False
        self._subscribe()

    def _reconnect_with_backoff(self) -> None:
        delay = _BACKOFF_FIRST
        for attempt in range(self._attempts):
            try:
                self._subscribe()
                self.reconnects += 1
                return
            except (ConnectionLost, ConnectionFailed, ServerBusy, ShuttingDown):
                pass  # the node is away or restarting: try again
            if attempt + 1 < self._attempts:
                time.sleep(delay)  # backoff between attempts, not synchronisation
                delay = min(delay * 2, _BACKOFF_MAX)
        raise ConnectionLost(f"resubscribe to {self.host}:{self.port} failed "
                             f"{self._attempts} times")

    def _track(self, ev: Event) -> None:
        """Move the resume position past ev."""
        if ev.kind == EventKind.RESYNC:
            self.last_seq, self.instance_id = ev.seq, ev.instance_id
        elif ev.instance_id == self.instance_id and ev.seq > self.last_seq:
            self.last_seq = ev.seq

    def next(self, timeout: Optional[float] = None) -> Optional[Event]:
        """The next event, waiting up to timeout seconds (None = idle_timeout).

        Returns None when nothing arrived in time and ``timeout`` was given
        (silence is not an error: heartbeats tell a quiet channel from a dead
        one).  With ``timeout=None`` silence past idle_timeout raises Timeout
        (or reconnects).  Raises ConnectionLost (also once the subscription
        is closed or ended by CLOSING), ProtocolError, or the server's error;
        see the class doc for ``reconnect``.
        """
        while True:
            if self._ended:
                raise ConnectionLost("the subscription is closed")
            if self._conn is None:
                if not self._reconnect:
                    raise ConnectionLost("the subscribe channel is closed")
                self._reconnect_with_backoff()
            assert self._conn is not None
            wait = self._idle_timeout if timeout is None else timeout
            try:
                fr = self._conn.read_frame(deadline_after(wait))
            except ConnectionLost:
                self._drop()
                if self._reconnect:
                    continue
                raise
            if fr is None:
                if timeout is not None:
                    return None
                self._drop()
                if self._reconnect:
                    continue
                raise Timeout(f"no event or heartbeat within {wait} s: the channel is dead")
            ev = self._frame_event(fr)
            if ev is None:
                continue
            self._track(ev)
            if ev.kind == EventKind.CLOSING:
                self._drop()
                if not self._reconnect:
                    self._ended = True
            return ev

    def _frame_event(self, fr: Frame) -> Optional[Event]:
        opcode, hflags, status, rid, body = fr
        if hflags & w.F_PUSH:
            if opcode != w.OP_EVENT or status != 0 or rid != 0:
                self._drop()
                raise ProtocolError(f"malformed push: opcode {opcode} status {status}")
            try:
                return decode_event(body)
            except ProtocolError:
                self._drop()
                raise
        if status >= w.STATUS_FIRST_ERROR:  # e.g. SHUTTING_DOWN, SLOW_CONSUMER
            self._drop()
            if self._reconnect:
                return None
            _ops.answer(_ops.op_ping(), opcode, status, body)
        return None  # a response to nothing we sent: ignored

    def __iter__(self) -> Iterator[Event]:
        return self

    def __next__(self) -> Event:
        if self._ended and self._conn is None:
            raise StopIteration
        ev = self.next()
        assert ev is not None
        return ev
