"""Exceptions raised by the recache client.

Every exception derives from :class:`RecacheError`.  The server's statuses
(PROTOCOL.md section 7) map one to one onto classes:

* a miss is **not** an exception (``get`` returns ``None``);
* a write rejected by its condition raises a :class:`ConditionRejected`
  subclass (:class:`Exists`, :class:`NotNewer`, :class:`CasMismatch`); a
  fill whose lease is no longer current raises :class:`LeaseRejected`.  Both
  are :class:`WriteRejected` and carry the versions the server reported;
* a lease read that could not produce a value in the end
  (``get_or_fill``) raises a :class:`FillUnavailable` subclass
  (:class:`LeaseHeld`, :class:`WaitTimeout`, :class:`TooManyWaiters`);
* an error status (32 and above) raises a :class:`ServerError` subclass
  carrying the server's message (``str(exc)`` and ``exc.message``).  The
  client raises the same classes for input it refuses before sending
  (``exc.from_server`` is then ``False``);
* transport failures raise :class:`ConnectionFailed` (could not connect),
  :class:`ConnectionLost` (the connection broke during a call) or
  :class:`Timeout`.  After any of them the connection is closed and the
  next call reconnects; the failed call itself is never retried.
"""

from __future__ import annotations

import builtins
from typing import Dict, Optional, Tuple, Type


class RecacheError(Exception):
    """Base class of every recache exception.

    Attributes:
        status: the wire status (PROTOCOL.md section 7), or ``None`` for
            errors that are not a server status (transport, protocol).
        message: the human-readable message (the server's own text for
            error statuses it sent).
    """

    status: Optional[int] = None

    def __init__(self, message: str, status: Optional[int] = None) -> None:
        super().__init__(message)
        self.message = message
        if status is not None:
            self.status = status


# ---- transport ---------------------------------------------------------------------------------


class ConnectionFailed(RecacheError, builtins.ConnectionError):
    """The client could not connect (resolve, TCP connect or HELLO failed)."""


class ConnectionLost(RecacheError, builtins.ConnectionError):
    """The connection broke during a call; whether a write took effect is unknown."""


class Timeout(ConnectionLost, builtins.TimeoutError):
    """No answer within the client's timeout; the connection is closed."""


class ProtocolError(ConnectionLost):
    """The server sent a malformed or unexpected frame; the connection is closed."""


# ---- outcomes (statuses 1..31) -----------------------------------------------------------------


class WriteRejected(RecacheError):
    """A SET that stored nothing.

    Attributes:
        ns_version: the namespace version the write addressed.
        entry_version: the stored entry version that won (0 if none).
    """

    def __init__(self, message: str, status: Optional[int] = None, ns_version: int = 0,
                 entry_version: int = 0) -> None:
        super().__init__(message, status)
        self.ns_version = ns_version
        self.entry_version = entry_version


class ConditionRejected(WriteRejected):
    """The write's condition (if_absent, if_newer, cas) was not met."""


class Exists(ConditionRejected):
    """IF_ABSENT: a fresh entry exists (status EXISTS)."""

    status = 2


class NotNewer(ConditionRejected):
    """IF_NEWER: the stored entry (or tombstone) has an entry version >= the write's."""

    status = 3


class CasMismatch(ConditionRejected):
    """CAS: no live entry with the expected entry version."""

    status = 4


class LeaseRejected(WriteRejected):
    """A fill whose lease is no longer current (deleted, invalidated, bumped, expired)."""

    status = 5


class FillUnavailable(RecacheError):
    """A lease read gave up without a value (see ``Client.get_or_fill``)."""


class LeaseHeld(FillUnavailable):
    """Another reader holds the key's lease and nobody filled it in time."""

    status = 6


class WaitTimeout(FillUnavailable):
    """A parked lease read's wait_ms passed before a value arrived."""

    status = 7


class TooManyWaiters(FillUnavailable):
    """The server's bound on parked lease reads was reached (not retried)."""

    status = 8


# ---- error statuses (32 and above) -------------------------------------------------------------


class ServerError(RecacheError):
    """An error status; ``message`` is the server's text.

    Attributes:
        from_server: ``False`` when the client refused the input before
            sending it (same class as the server would have answered).
    """

    def __init__(self, message: str, status: Optional[int] = None,
                 from_server: bool = True) -> None:
        super().__init__(message, status)
        self.from_server = from_server


class BadFrame(ServerError):
    """Malformed frame (BAD_FRAME)."""

    status = 32


class BadMagic(ServerError):
    """Bad magic byte (BAD_MAGIC); connection closed."""

    status = 33


class BadVersion(ServerError):
    """Unsupported protocol version; connection closed."""

    status = 34


class UnknownOpcode(ServerError):
    """Operation unknown to this server."""

    status = 35


class FrameTooLarge(ServerError):
    """Frame over max_frame; connection closed."""

    status = 36


class KeyTooLong(ServerError):
    """Key longer than the server's max_key."""

    status = 37


class ValueTooLarge(ServerError):
    """Value over max_value (global or namespace)."""

    status = 38


class TooManyTags(ServerError):
    """More tags than the server's max_tags."""

    status = 39


class TagTooLong(ServerError):
    """Tag longer than the server's max_tag_len."""

    status = 40


class BadNamespace(ServerError):
    """Namespace name empty or too long."""

    status = 41


class BadArgument(ServerError):
    """Invalid argument (empty key or tag, bad setting)."""

    status = 42


class NoMemory(ServerError):
    """The value cannot fit under the memory limit."""

    status = 43


class TooManyNamespaces(ServerError):
    """Namespace limit reached."""

    status = 44


class ServerBusy(ServerError):
    """Connection limit reached; connection closed."""

    status = 45


class ShuttingDown(ServerError):
    """Server shutting down; connection closed."""

    status = 46


class SlowConsumer(ServerError):
    """Output buffer limit exceeded; closed."""

    status = 47


class Internal(ServerError):
    """Internal server error."""

    status = 48


class Forbidden(ServerError):
    """The operation is reserved to the admin port on this server (FORBIDDEN: FLUSH and
    NS_CONFIG on a server started with --data-port-admin-ops no)."""

    status = 49


class WrongKind(ServerError):
    """A list operation on a byte value, or a byte operation on a list (WRONG_KIND);
    nothing changed."""

    status = 60


class BadList(ServerError):
    """A malformed list (BAD_LIST): a duplicate item id or a non-finite score."""

    status = 61


class TooManyItems(ServerError):
    """More list items (or ids to remove) than the server's max-list-items."""

    status = 62


class ExcludeTooLarge(ServerError):
    """A list read's exclude set is larger than the server's max-exclude."""

    status = 63


class SuppressFull(ServerError):
    """The namespace would suppress more than max-suppressed ids; nothing changed."""

    status = 64


_STATUS_CLASSES: Tuple[Type[RecacheError], ...] = (
    Exists, NotNewer, CasMismatch, LeaseRejected, LeaseHeld, WaitTimeout, TooManyWaiters, BadFrame,
    BadMagic, BadVersion, UnknownOpcode, FrameTooLarge, KeyTooLong, ValueTooLarge, TooManyTags,
    TagTooLong, BadNamespace, BadArgument, NoMemory, TooManyNamespaces, ServerBusy, ShuttingDown,
    SlowConsumer, Internal, Forbidden, WrongKind, BadList, TooManyItems, ExcludeTooLarge, SuppressFull)
_BY_STATUS: Dict[int, Type[RecacheError]] = {int(c.status or 0): c for c in _STATUS_CLASSES}

#: Error statuses after which the server closes the connection (PROTOCOL.md 7, 10).
CLOSING_STATUSES = frozenset((33, 34, 36, 45, 46, 47))


def error_for_status(status: int, message: str) -> RecacheError:
    """Build the exception for a wire status (unknown ones get the base class of their range)."""
    cls = _BY_STATUS.get(status)
    if cls is None:
        if status >= 32:
            return ServerError(message or f"server error status {status}", status)
        return RecacheError(message or f"unexpected outcome status {status}", status)
    return cls(message or cls.__doc__ or "", status)


__all__ = [
    "RecacheError", "ConnectionFailed", "ConnectionLost", "Timeout", "ProtocolError",
    "WriteRejected", "ConditionRejected", "Exists", "NotNewer", "CasMismatch", "LeaseRejected",
    "FillUnavailable", "LeaseHeld", "WaitTimeout", "TooManyWaiters", "ServerError", "BadFrame",
    "BadMagic", "BadVersion", "UnknownOpcode", "FrameTooLarge", "KeyTooLong", "ValueTooLarge",
    "TooManyTags", "TagTooLong", "BadNamespace", "BadArgument", "NoMemory", "TooManyNamespaces",
    "ServerBusy", "ShuttingDown", "SlowConsumer", "Internal", "WrongKind", "BadList",
    "TooManyItems", "ExcludeTooLarge", "SuppressFull", "error_for_status",
    "CLOSING_STATUSES",
]
