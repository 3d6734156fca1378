"""The recache wire format (protocol/PROTOCOL.md, version 1): pure encoding and decoding.

Design: no I/O and no state.  ``encode_*`` functions build one request
frame's *body* from already-validated Python values; :func:`frame` prepends
the 16-byte header.  :class:`Reader` walks a response body field by field
and raises :class:`~recache.errors.ProtocolError` on a truncated field or
trailing bytes, exactly the decoding rules of PROTOCOL.md section 3.
Argument checks here are only those the wire itself imposes (a length must
fit its prefix); the server enforces its configured limits.
"""

from __future__ import annotations

import math
import struct
from typing import Callable, Iterable, List, Sequence, Tuple, Type, Union

from .errors import (BadArgument, BadList, BadNamespace, KeyTooLong, ProtocolError, ServerError,
                     TagTooLong, TooManyTags)

MAGIC = 0xC5
VERSION = 1
HEADER = struct.Struct("<BBBBHHII")
HEADER_SIZE = HEADER.size  # 16
F_RESPONSE = 0x01
F_PUSH = 0x02

OP_HELLO = 0x01
OP_PING = 0x02
OP_GET = 0x10
OP_SET = 0x11
OP_DELETE = 0x12
OP_TOUCH = 0x13
OP_STATS = 0x14
OP_LGET = 0x15
OP_BUMP = 0x20
OP_NS_INFO = 0x21
OP_NS_CONFIG = 0x22
OP_INVALIDATE_TAG = 0x23
OP_INVALIDATE_KEY = 0x24
OP_FLUSH = 0x25
OP_SUBSCRIBE = 0x30
OP_EVENT = 0x31
OP_LIST_SET = 0x50
OP_LIST_GET = 0x51
OP_LIST_LGET = 0x52
OP_LIST_REMOVE = 0x53
OP_SUPPRESS = 0x54
OP_UNSUPPRESS = 0x55
OP_SUPPRESSED = 0x56

STATUS_OK = 0
STATUS_MISS = 1
STATUS_FIRST_ERROR = 32

TOKEN_SIZE = 16
ZERO_TOKEN = bytes(TOKEN_SIZE)

#: A list item on the wire: U64 id, IEEE 754 binary32 score (PROTOCOL.md 16).
ITEM = struct.Struct("<Qf")
ITEM_SIZE = 12
ID_SIZE = 8
#: Most ids one IDS field can carry (U16 byte length / 8).
MAX_IDS = 0xFFFF // ID_SIZE  # 8191
#: SUPPRESSED records: U64 id, U32 ttl_ms left, U64 stamp.
SUPPRESSION = struct.Struct("<QIQ")

Bytesish = Union[str, bytes, bytearray, memoryview]

_U8 = struct.Struct("<B")
_U16 = struct.Struct("<H")
_U32 = struct.Struct("<I")
_U64 = struct.Struct("<Q")


def to_bytes(data: Bytesish, what: str) -> bytes:
    """Return data as bytes: str is encoded as UTF-8, bytes-like objects are copied.

    Raises TypeError for anything else (``what`` names the argument).
    """
    if isinstance(data, str):
        return data.encode("utf-8")
    if isinstance(data, (bytes, bytearray, memoryview)):
        return bytes(data)
    raise TypeError(f"{what} must be str or bytes, not {type(data).__name__}")


def check_uint(value: int, bits: int, what: str) -> int:
    """Return value if it is an int in [0, 2**bits), else raise ValueError / TypeError."""
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"{what} must be an int, not {type(value).__name__}")
    if value < 0 or value >> bits:
        raise ValueError(f"{what} must be in 0..{(1 << bits) - 1}, got {value}")
    return value


def frame(opcode: int, request_id: int, body: bytes) -> bytes:
    """One request frame: header (flags 0, status 0) followed by body."""
    return HEADER.pack(MAGIC, VERSION, opcode, 0, 0, 0, request_id, len(body)) + body


# ---- field encoders (each raises when the wire cannot carry the value) ------------------------


def _prefixed(data: Bytesish, what: str, prefix: struct.Struct,
              error: Type[ServerError]) -> bytes:
    """A length-prefixed field; a length the prefix cannot carry raises error locally."""
    b = to_bytes(data, what)
    limit = (1 << (8 * prefix.size)) - 1
    if len(b) > limit:
        raise error(f"{what} is {len(b)} bytes; the wire allows {limit}", error.status, False)
    return prefix.pack(len(b)) + b


def _counted(items: Iterable[Bytesish], what: str, encode: Callable[[Bytesish], bytes],
             error: Type[ServerError]) -> bytes:
    """U8 count + each item encoded; more than 255 items raises error locally."""
    if isinstance(items, (str, bytes, bytearray, memoryview)):
        raise TypeError(f"{what} must be a sequence of names, not a single string")
    parts = [encode(x) for x in items]
    if len(parts) > 255:
        raise error(f"{len(parts)} {what}; the wire allows 255", error.status, False)
    return _U8.pack(len(parts)) + b"".join(parts)


def ns_field(ns: Bytesish) -> bytes:
    """NS / NS_OPT: U8 length + bytes (over 255 bytes: BadNamespace)."""
    return _prefixed(ns, "namespace", _U8, BadNamespace)


def key_field(key: Bytesish) -> bytes:
    """KEY / KEY_OPT: U16 length + bytes (over 65535 bytes: KeyTooLong)."""
    return _prefixed(key, "key", _U16, KeyTooLong)


def tag_field(tag: Bytesish) -> bytes:
    """TAG: U8 length + bytes (over 255 bytes: TagTooLong)."""
    return _prefixed(tag, "tag", _U8, TagTooLong)


def text_field(text: Bytesish) -> bytes:
    """TEXT: U16 length + bytes (over 65535 bytes: BadArgument)."""
    return _prefixed(text, "text", _U16, BadArgument)


def tags_field(tags: Iterable[Bytesish]) -> bytes:
    """TAGS: U8 count + TAG each (over 255 tags: TooManyTags)."""
    return _counted(tags, "tags", tag_field, TooManyTags)


def nslist_field(namespaces: Sequence[Bytesish]) -> bytes:
    """NSLIST: U8 count + NS each (over 255 names: BadArgument)."""
    return _counted(namespaces, "namespaces", ns_field, BadArgument)


def value_field(value: bytes) -> bytes:
    """VALUE: U32 length + bytes (the caller checked the server's max_value)."""
    return _U32.pack(len(value)) + value


def items_bytes(items: Iterable[Tuple[int, float]]) -> bytes:
    """A list's items (``(id, score)`` pairs, rank order) as wire bytes, 12 per item.

    Raises TypeError for an item that is not an (int, number) pair, ValueError
    for an id outside u64, and BadList (refused locally, ``from_server``
    False) for a score that is not finite or does not fit a binary32 float.
    Duplicate ids are the server's to refuse (BAD_LIST).
    """
    if isinstance(items, (str, bytes, bytearray, memoryview)):
        raise TypeError("items must be a sequence of (id, score) pairs")
    pack = ITEM.pack
    parts = []
    for n, item in enumerate(items):
        try:
            item_id, score = item
        except (TypeError, ValueError):
            raise TypeError(f"item {n} must be an (id, score) pair, got {item!r}") from None
        check_uint(item_id, 64, f"item {n}'s id")
        if isinstance(score, bool) or not isinstance(score, (int, float)):
            raise TypeError(f"item {n}'s score must be a number, not {type(score).__name__}")
        if not math.isfinite(score):
            raise BadList(f"item {n}'s score {score} is not finite", BadList.status, False)
        try:
            parts.append(pack(item_id, score))
        except OverflowError:
            raise BadList(f"item {n}'s score {score} does not fit a 32-bit float",
                          BadList.status, False) from None
    return b"".join(parts)


def ids_field(ids: Iterable[int], what: str, error: Type[ServerError]) -> bytes:
    """IDS: U16 byte length + U64 each; more than 8191 ids raises error locally."""
    if isinstance(ids, (str, bytes, bytearray, memoryview)) or isinstance(ids, int):
        raise TypeError(f"{what} must be a sequence of int ids")
    out = [_U64.pack(check_uint(i, 64, f"an id in {what}")) for i in ids]
    if len(out) > MAX_IDS:
        raise error(f"{len(out)} {what}; the wire allows {MAX_IDS} ids per request",
                    error.status, False)
    return _U16.pack(len(out) * ID_SIZE) + b"".join(out)


# ---- request bodies ---------------------------------------------------------------------------


def encode_get(ns: Bytesish, key: Bytesish, version: int, min_version: int) -> bytes:
    return struct.pack("<QQ", version, min_version) + ns_field(ns) + key_field(key)


def encode_lget(ns: Bytesish, key: Bytesish, version: int, min_version: int,
                wait_ms: int) -> bytes:
    return struct.pack("<QQI", version, min_version, wait_ms) + ns_field(ns) + key_field(key)


def encode_set(ns: Bytesish, key: Bytesish, value: bytes, *, version: int, entry_version: int,
               cas_version: int, ttl_ms: int, stale_ms: int, flags: int, cond: int, token: bytes,
               tags: Iterable[Bytesish]) -> bytes:
    fixed = struct.pack("<QQQIIIB", version, entry_version, cas_version, ttl_ms, stale_ms, flags,
                        cond)
    return b"".join((fixed, token, ns_field(ns), key_field(key), tags_field(tags),
                     value_field(value)))


def encode_list_set(ns: Bytesish, key: Bytesish, items: bytes, *, version: int,
                    entry_version: int, cas_version: int, ttl_ms: int, stale_ms: int, flags: int,
                    cond: int, token: bytes, tags: Iterable[Bytesish]) -> bytes:
    """LIST_SET: SET's layout with ITEMS (the encoded items) in place of VALUE."""
    return encode_set(ns, key, items, version=version, entry_version=entry_version,
                      cas_version=cas_version, ttl_ms=ttl_ms, stale_ms=stale_ms, flags=flags,
                      cond=cond, token=token, tags=tags)


def encode_list_get(ns: Bytesish, key: Bytesish, version: int, min_version: int, top: int,
                    exclude: bytes) -> bytes:
    """LIST_GET: exclude is an encoded IDS field."""
    return struct.pack("<QQI", version, min_version, top) + ns_field(ns) + key_field(key) \
        + exclude


def encode_list_lget(ns: Bytesish, key: Bytesish, version: int, min_version: int, wait_ms: int,
                     top: int, exclude: bytes) -> bytes:
    """LIST_LGET: exclude is an encoded IDS field."""
    return struct.pack("<QQII", version, min_version, wait_ms, top) + ns_field(ns) \
        + key_field(key) + exclude


def encode_list_remove(version: int, ns: Bytesish, key: Bytesish, ids: bytes) -> bytes:
    return _U64.pack(version) + ns_field(ns) + key_field(key) + ids


def encode_suppress(ttl_ms: int, ns: Bytesish, ids: bytes) -> bytes:
    return _U32.pack(ttl_ms) + ns_field(ns) + ids


def encode_keyed(version: int, ns: Bytesish, key: Bytesish) -> bytes:
    """DELETE body: U64 ns_version, NS, KEY."""
    return _U64.pack(version) + ns_field(ns) + key_field(key)


def encode_touch(version: int, ttl_ms: int, ns: Bytesish, key: Bytesish) -> bytes:
    return struct.pack("<QI", version, ttl_ms) + ns_field(ns) + key_field(key)


def encode_invalidate_key(version: int, mode: int, ns: Bytesish, key: Bytesish) -> bytes:
    return struct.pack("<QB", version, mode) + ns_field(ns) + key_field(key)


def encode_invalidate_tag(mode: int, tag: Bytesish) -> bytes:
    return _U8.pack(mode) + tag_field(tag)


def encode_bump(to: int, ns: Bytesish) -> bytes:
    return _U64.pack(to) + ns_field(ns)


def encode_ns_config(ns: Bytesish, settings: bytes) -> bytes:
    return ns_field(ns) + value_field(settings)


def encode_subscribe(seq: int, instance_id: int, namespaces: Sequence[Bytesish]) -> bytes:
    return struct.pack("<QQ", seq, instance_id) + nslist_field(namespaces)


# ---- decoding ---------------------------------------------------------------------------------


class Reader:
    """Sequential decoder of one body; every method raises ProtocolError past the end."""

    __slots__ = ("_buf", "_pos")

    def __init__(self, body: bytes) -> None:
        self._buf = body
        self._pos = 0

    def _take(self, n: int) -> bytes:
        end = self._pos + n
        if end > len(self._buf):
            raise ProtocolError("malformed response: field runs past the end of the body")
        b = self._buf[self._pos:end]
        self._pos = end
        return b

    def _unpack(self, s: struct.Struct) -> int:
        value: int = s.unpack(self._take(s.size))[0]
        return value

    def u8(self) -> int:
        return self._unpack(_U8)

    def u16(self) -> int:
        return self._unpack(_U16)

    def u32(self) -> int:
        return self._unpack(_U32)

    def u64(self) -> int:
        return self._unpack(_U64)

    def raw(self, n: int) -> bytes:
        return self._take(n)

    def short_bytes(self) -> bytes:
        """U8-prefixed field (NS, TAG)."""
        return self._take(self.u8())

    def text_bytes(self) -> bytes:
        """U16-prefixed field (KEY, TEXT)."""
        return self._take(self.u16())

    def value(self) -> bytes:
        """U32-prefixed VALUE."""
        return self._take(self.u32())

    def items(self) -> List[Tuple[int, float]]:
        """ITEMS: U32-prefixed list items; a length not a multiple of 12 is ProtocolError."""
        data = self.value()
        if len(data) % ITEM_SIZE:
            raise ProtocolError(f"malformed response: list of {len(data)} bytes")
        return [(item_id, score) for item_id, score in ITEM.iter_unpack(data)]

    def end(self) -> None:
        """Raise ProtocolError if any byte is left over."""
        if self._pos != len(self._buf):
            raise ProtocolError("malformed response: trailing bytes after the last field")


def decode_text(b: bytes) -> str:
    """UTF-8 by convention; undecodable bytes are replaced rather than failing the call."""
    return b.decode("utf-8", errors="replace")


def parse_header(h: bytes) -> Tuple[int, int, int, int, int]:
    """Check a received header; returns (opcode, hflags, status, request_id, body_len).

    Raises ProtocolError for a bad magic, version, reserved field or flag combination.
    """
    magic, version, opcode, hflags, status, reserved, request_id, body_len = HEADER.unpack(h)
    if magic != MAGIC or version != VERSION:
        raise ProtocolError(f"malformed response: magic 0x{magic:02x} version {version}")
    if reserved != 0 or hflags & ~(F_RESPONSE | F_PUSH) or hflags == (F_RESPONSE | F_PUSH) \
            or hflags == 0:
        raise ProtocolError(f"malformed response: flags 0x{hflags:02x} reserved {reserved}")
    return opcode, hflags, status, request_id, body_len


def parse_kv_text(text: str) -> List[Tuple[str, str]]:
    """Split "name value" lines (STATS, NS_INFO) into pairs, in order."""
    pairs = []
    for line in text.splitlines():
        line = line.strip()
        if line:
            name, _, value = line.partition(" ")
            pairs.append((name, value.strip()))
    return pairs
