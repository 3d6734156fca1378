"""Prepared operations: one request body plus the decoder of its answer.

Design: each ``op_*`` function validates its arguments, encodes the request
body (``_wire``) and returns an :class:`Op` whose ``decode`` turns the
answer's (status, body) into the operation's Python result or raises its
exception.  :class:`~recache.Client` runs one Op per call and
:class:`~recache.Pipeline` queues many, so both share every encoder and
decoder.  Error statuses (32 and above) are turned into exceptions before
``decode`` is called.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import (Any, Callable, Dict, Generic, Iterable, List, Mapping, Optional, Sequence,
                    Tuple, Type, TypeVar)

from . import _wire as w
from .errors import (BadArgument, ExcludeTooLarge, ProtocolError, RecacheError, ServerError,
                     TooManyItems, ValueTooLarge, WriteRejected, error_for_status)
from .results import (Cond, Entry, Item, Lease, LeaseResult, ListEntry, ListLeaseResult, Mode,
                      NsInfo, ServerInfo, Settings, Status, SuppressResult, Suppression,
                      WriteResult)

T = TypeVar("T")

_STALE_DEFAULT = 0xFFFFFFFF


@dataclass(frozen=True)
class Op(Generic[T]):
    """One request ready to send: opcode, body, how long the server may park it, decoder."""

    opcode: int
    body: bytes
    decode: Callable[[int, bytes], T]
    wait_ms: int = 0


def _unexpected(status: int) -> RecacheError:
    return error_for_status(status, f"unexpected status {status} for this operation")


def _reject_unless(status: int, *allowed: int) -> None:
    if status not in allowed:
        raise _unexpected(status)


def _u64(v: int, what: str) -> int:
    return w.check_uint(v, 64, what)


def _u32(v: int, what: str) -> int:
    return w.check_uint(v, 32, what)


# ---- decoders -------------------------------------------------------------------------------


def _decode_entry_fields(r: w.Reader) -> Tuple[int, int, int, int, int]:
    """ns_version, entry_version, client_flags, ttl_ms, state: the GET/LGET fixed part."""
    return r.u64(), r.u64(), r.u32(), r.u32(), r.u8()


def _decode_entry(status: int, body: bytes, read_payload: Callable[[w.Reader], Any],
                  make: Callable[..., Any]) -> Any:
    """A GET-shaped answer (GET, LIST_GET): None on MISS, else make(payload, metadata...)."""
    _reject_unless(status, w.STATUS_OK, w.STATUS_MISS)
    r = w.Reader(body)
    ns_version, entry_version, flags, ttl, state = _decode_entry_fields(r)
    payload = read_payload(r)
    r.end()
    if status == w.STATUS_MISS:
        return None
    return make(payload, ns_version, entry_version, flags, ttl, state == 1)


def _decode_lease_read(status: int, body: bytes, read_payload: Callable[[w.Reader], Any],
                       make_entry: Callable[..., Any], make_result: Callable[..., Any],
                       opname: str) -> Any:
    """An LGET-shaped answer (LGET, LIST_LGET); raises ProtocolError on an unknown status or
    lease state."""
    if status >= w.STATUS_FIRST_ERROR:
        raise _unexpected(status)
    r = w.Reader(body)
    ns_version, entry_version, flags, ttl, state = _decode_entry_fields(r)
    lease_raw = r.u8()
    token = r.raw(w.TOKEN_SIZE)
    payload = read_payload(r)
    r.end()
    try:
        st = Status(status)
        lease = Lease(lease_raw)
    except ValueError:
        raise ProtocolError(f"{opname} answer with status {status}, lease {lease_raw}") from None
    entry = make_entry(payload, ns_version, entry_version, flags, ttl, state == 1) \
        if st == Status.OK else None
    return make_result(st, lease, token if lease == Lease.GRANTED else None, ns_version, entry)


def _decode_get(status: int, body: bytes) -> Optional[Entry]:
    return _decode_entry(status, body, w.Reader.value, Entry)


def _decode_lget(status: int, body: bytes) -> LeaseResult:
    return _decode_lease_read(status, body, w.Reader.value, Entry, LeaseResult, "LGET")


def _decode_list_get(status: int, body: bytes) -> Optional[ListEntry]:
    return _decode_entry(status, body, w.Reader.items, ListEntry)


def _decode_list_lget(status: int, body: bytes) -> ListLeaseResult:
    return _decode_lease_read(status, body, w.Reader.items, ListEntry, ListLeaseResult,
                              "LIST_LGET")


def _decode_list_remove(status: int, body: bytes) -> Optional[int]:
    """LIST_REMOVE: the number of items removed, None on MISS (no live list)."""
    _reject_unless(status, w.STATUS_OK, w.STATUS_MISS)
    r = w.Reader(body)
    r.u64()
    r.u64()
    count = r.u32()
    r.end()
    return None if status == w.STATUS_MISS else count


def _decode_suppression(status: int, body: bytes) -> SuppressResult:
    _reject_unless(status, w.STATUS_OK)
    r = w.Reader(body)
    stamp, count = r.u64(), r.u32()
    r.end()
    return SuppressResult(stamp, count)


def _decode_suppressed(status: int, body: bytes) -> List[Suppression]:
    _reject_unless(status, w.STATUS_OK)
    r = w.Reader(body)
    data = r.value()
    r.end()
    if len(data) % w.SUPPRESSION.size:
        raise ProtocolError(f"malformed response: SUPPRESSED records of {len(data)} bytes")
    return [Suppression(i, ttl, stamp) for i, ttl, stamp in w.SUPPRESSION.iter_unpack(data)]


def _decode_set(status: int, body: bytes) -> WriteResult:
    r = w.Reader(body)
    ns_version, entry_version = r.u64(), r.u64()
    r.end()
    if status == w.STATUS_OK:
        return WriteResult(ns_version, entry_version)
    exc = error_for_status(status, "")
    if isinstance(exc, WriteRejected):
        exc.ns_version = ns_version
        exc.entry_version = entry_version
        exc.args = (f"{exc.message} (ns version {ns_version}, stored entry version "
                    f"{entry_version})",)
    raise exc


def _decode_found(status: int, body: bytes) -> bool:
    """DELETE, TOUCH, INVALIDATE_KEY: True when the key was found, False on MISS."""
    _reject_unless(status, w.STATUS_OK, w.STATUS_MISS)
    r = w.Reader(body)
    r.u64()
    r.end()
    return status == w.STATUS_OK


def _decode_u64(status: int, body: bytes) -> int:
    _reject_unless(status, w.STATUS_OK)
    r = w.Reader(body)
    v = r.u64()
    r.end()
    return v


def _decode_empty(status: int, body: bytes) -> None:
    _reject_unless(status, w.STATUS_OK)
    w.Reader(body).end()


def _decode_stats(status: int, body: bytes) -> Optional[Dict[str, str]]:
    _reject_unless(status, w.STATUS_OK, w.STATUS_MISS)
    r = w.Reader(body)
    text = w.decode_text(r.value())
    r.end()
    return None if status == w.STATUS_MISS else dict(w.parse_kv_text(text))


def _decode_ns_info(status: int, body: bytes) -> Optional[NsInfo]:
    _reject_unless(status, w.STATUS_OK, w.STATUS_MISS)
    r = w.Reader(body)
    version = r.u64()
    text = w.decode_text(r.value())
    r.end()
    return None if status == w.STATUS_MISS else NsInfo(version, text)


def _decode_ns_config(status: int, body: bytes) -> NsInfo:
    info = _decode_ns_info(status, body)
    if info is None:
        raise _unexpected(status)
    return info


def decode_hello(status: int, body: bytes) -> ServerInfo:
    _reject_unless(status, w.STATUS_OK)
    r = w.Reader(body)
    instance_id, max_frame, max_value = r.u64(), r.u32(), r.u32()
    max_key, max_tags, max_tag_len = r.u16(), r.u8(), r.u8()
    version = w.decode_text(r.text_bytes())
    r.end()
    return ServerInfo(instance_id, max_frame, max_value, max_key, max_tags, max_tag_len, version)


def decode_subscribe(status: int, body: bytes) -> Tuple[int, int]:
    """(seq, instance_id) of a SUBSCRIBE answer."""
    _reject_unless(status, w.STATUS_OK)
    r = w.Reader(body)
    seq, instance_id = r.u64(), r.u64()
    r.end()
    return seq, instance_id


# ---- operations -----------------------------------------------------------------------------


def op_hello(client_name: str) -> Op[ServerInfo]:
    return Op(w.OP_HELLO, w.text_field(client_name), decode_hello)


def op_ping() -> Op[None]:
    return Op(w.OP_PING, b"", _decode_empty)


def op_get(ns: w.Bytesish, key: w.Bytesish, version: int, min_version: int
           ) -> Op[Optional[Entry]]:
    body = w.encode_get(ns, key, _u64(version, "version"), _u64(min_version, "min_version"))
    return Op(w.OP_GET, body, _decode_get)


def op_lget(ns: w.Bytesish, key: w.Bytesish, version: int, min_version: int,
            wait_ms: int) -> Op[LeaseResult]:
    body = w.encode_lget(ns, key, _u64(version, "version"), _u64(min_version, "min_version"),
                         _u32(wait_ms, "wait_ms"))
    return Op(w.OP_LGET, body, _decode_lget, wait_ms)


def op_set(ns: w.Bytesish, key: w.Bytesish, value: w.Bytesish, max_value: int, *,
           ttl_ms: int, stale_ms: Optional[int], flags: int, tags: Iterable[w.Bytesish],
           version: int, entry_version: int, cond: Cond, cas_version: int,
           token: Optional[bytes]) -> Op[WriteResult]:
    """SET.  Refuses a value over max_value (the server's HELLO limit) before sending."""
    data = w.to_bytes(value, "value")
    if len(data) > max_value:
        raise ValueTooLarge(f"value is {len(data)} bytes; the server's max_value is {max_value}",
                            38, False)
    tok = w.ZERO_TOKEN if token is None else bytes(token)
    if len(tok) != w.TOKEN_SIZE:
        raise ValueError(f"a lease token is {w.TOKEN_SIZE} bytes, got {len(tok)}")
    body = w.encode_set(ns, key, data, version=_u64(version, "version"),
                        entry_version=_u64(entry_version, "entry_version"),
                        cas_version=_u64(cas_version, "cas_version"),
                        ttl_ms=_u32(ttl_ms, "ttl_ms"),
                        stale_ms=_u32(_STALE_DEFAULT if stale_ms is None else stale_ms,
                                      "stale_ms"),
                        flags=_u32(flags, "flags"), cond=int(Cond(cond)), token=tok, tags=tags)
    return Op(w.OP_SET, body, _decode_set)


def op_list_set(ns: w.Bytesish, key: w.Bytesish, items: Iterable[Item], max_value: int, *,
                ttl_ms: int, stale_ms: Optional[int], flags: int, tags: Iterable[w.Bytesish],
                version: int, entry_version: int, cond: Cond, cas_version: int,
                token: Optional[bytes]) -> Op[WriteResult]:
    """LIST_SET.  Refuses before sending: a non-finite score (BadList), items
    over max_value bytes (ValueTooLarge, 12 bytes per item)."""
    data = w.items_bytes(items)
    if len(data) > max_value:
        raise ValueTooLarge(f"{len(data) // w.ITEM_SIZE} items are {len(data)} bytes; the "
                            f"server's max_value is {max_value}", 38, False)
    tok = w.ZERO_TOKEN if token is None else bytes(token)
    if len(tok) != w.TOKEN_SIZE:
        raise ValueError(f"a lease token is {w.TOKEN_SIZE} bytes, got {len(tok)}")
    body = w.encode_list_set(ns, key, data, version=_u64(version, "version"),
                             entry_version=_u64(entry_version, "entry_version"),
                             cas_version=_u64(cas_version, "cas_version"),
                             ttl_ms=_u32(ttl_ms, "ttl_ms"),
                             stale_ms=_u32(_STALE_DEFAULT if stale_ms is None else stale_ms,
                                           "stale_ms"),
                             flags=_u32(flags, "flags"), cond=int(Cond(cond)), token=tok,
                             tags=tags)
    return Op(w.OP_LIST_SET, body, _decode_set)


def _exclude(exclude: Iterable[int]) -> bytes:
    return w.ids_field(exclude, "exclude ids", ExcludeTooLarge)


def op_list_get(ns: w.Bytesish, key: w.Bytesish, version: int, min_version: int, top: int,
                exclude: Iterable[int]) -> Op[Optional[ListEntry]]:
    body = w.encode_list_get(ns, key, _u64(version, "version"), _u64(min_version, "min_version"),
                             _u32(top, "top"), _exclude(exclude))
    return Op(w.OP_LIST_GET, body, _decode_list_get)


def op_list_lget(ns: w.Bytesish, key: w.Bytesish, version: int, min_version: int, wait_ms: int,
                 top: int, exclude: Iterable[int]) -> Op[ListLeaseResult]:
    body = w.encode_list_lget(ns, key, _u64(version, "version"),
                              _u64(min_version, "min_version"), _u32(wait_ms, "wait_ms"),
                              _u32(top, "top"), _exclude(exclude))
    return Op(w.OP_LIST_LGET, body, _decode_list_lget, wait_ms)


def _some_ids(ids: Iterable[int], what: str, too_many: Type[ServerError]) -> bytes:
    """An IDS field of 1..8191 ids (none: BadArgument, locally)."""
    field = w.ids_field(ids, what, too_many)
    if len(field) == 2:
        raise BadArgument(f"no {what} given", BadArgument.status, False)
    return field


def op_list_remove(ns: w.Bytesish, key: w.Bytesish, ids: Iterable[int], version: int
                   ) -> Op[Optional[int]]:
    body = w.encode_list_remove(_u64(version, "version"), ns, key,
                                _some_ids(ids, "ids to remove", TooManyItems))
    return Op(w.OP_LIST_REMOVE, body, _decode_list_remove)


def op_suppress(ns: w.Bytesish, ids: Iterable[int], ttl_ms: int) -> Op[SuppressResult]:
    body = w.encode_suppress(_u32(ttl_ms, "ttl_ms"), ns,
                             _some_ids(ids, "ids to suppress", BadArgument))
    return Op(w.OP_SUPPRESS, body, _decode_suppression)


def op_unsuppress(ns: w.Bytesish, ids: Iterable[int]) -> Op[SuppressResult]:
    body = w.ns_field(ns) + _some_ids(ids, "ids to unsuppress", BadArgument)
    return Op(w.OP_UNSUPPRESS, body, _decode_suppression)


def op_suppressed(ns: w.Bytesish) -> Op[List[Suppression]]:
    return Op(w.OP_SUPPRESSED, w.ns_field(ns), _decode_suppressed)


def op_delete(ns: w.Bytesish, key: w.Bytesish, version: int) -> Op[bool]:
    return Op(w.OP_DELETE, w.encode_keyed(_u64(version, "version"), ns, key), _decode_found)


def op_touch(ns: w.Bytesish, key: w.Bytesish, ttl_ms: int, version: int) -> Op[bool]:
    body = w.encode_touch(_u64(version, "version"), _u32(ttl_ms, "ttl_ms"), ns, key)
    return Op(w.OP_TOUCH, body, _decode_found)


def op_invalidate_key(ns: w.Bytesish, key: w.Bytesish, soft: bool, version: int) -> Op[bool]:
    mode = Mode.SOFT if soft else Mode.HARD
    body = w.encode_invalidate_key(_u64(version, "version"), int(mode), ns, key)
    return Op(w.OP_INVALIDATE_KEY, body, _decode_found)


def op_invalidate_tag(tag: w.Bytesish, soft: bool) -> Op[int]:
    mode = Mode.SOFT if soft else Mode.HARD
    return Op(w.OP_INVALIDATE_TAG, w.encode_invalidate_tag(int(mode), tag), _decode_u64)


def op_bump(ns: w.Bytesish, to: int) -> Op[int]:
    return Op(w.OP_BUMP, w.encode_bump(_u64(to, "to"), ns), _decode_u64)


def op_stats(ns: Optional[w.Bytesish]) -> Op[Optional[Dict[str, str]]]:
    return Op(w.OP_STATS, w.ns_field(b"" if ns is None else ns), _decode_stats)


def op_ns_info(ns: w.Bytesish) -> Op[Optional[NsInfo]]:
    return Op(w.OP_NS_INFO, w.ns_field(ns), _decode_ns_info)


def settings_text(settings: Settings) -> bytes:
    """NS_CONFIG settings as "name=value" text; accepts text, a mapping or pairs."""
    if isinstance(settings, str):
        return settings.encode("utf-8")
    items = settings.items() if isinstance(settings, Mapping) else settings
    parts = []
    for name, value in items:
        if not isinstance(value, int) or isinstance(value, bool):
            raise TypeError(f"setting {name!r} must be an int")
        parts.append(f"{name}={value}")
    return " ".join(parts).encode("utf-8")


def op_ns_config(ns: w.Bytesish, settings: Settings) -> Op[NsInfo]:
    return Op(w.OP_NS_CONFIG, w.encode_ns_config(ns, settings_text(settings)), _decode_ns_config)


def op_flush() -> Op[None]:
    return Op(w.OP_FLUSH, b"", _decode_empty)


def op_subscribe(seq: int, instance_id: int, namespaces: Sequence[w.Bytesish]
                 ) -> Op[Tuple[int, int]]:
    body = w.encode_subscribe(_u64(seq, "from_seq"), _u64(instance_id, "instance_id"),
                              namespaces)
    return Op(w.OP_SUBSCRIBE, body, decode_subscribe)


def answer(op: Op[T], opcode: int, status: int, body: bytes) -> T:
    """Decode the answer (opcode, status, body) to op, raising its exception.

    Error statuses raise their ServerError with the server's message; an
    answer for another opcode raises ProtocolError.
    """
    if status >= w.STATUS_FIRST_ERROR:
        try:
            r = w.Reader(body)
            message = w.decode_text(r.text_bytes())
            r.end()
        except ProtocolError:
            message = ""
        raise error_for_status(status, message)
    if opcode != op.opcode:
        raise ProtocolError(f"answer for opcode 0x{opcode:02x} to a 0x{op.opcode:02x} request")
    return op.decode(status, body)

