"""One TCP connection to a recache server: framing, deadlines, request ids.

Design: blocking sockets with a deadline per call.  A single request is
``sendall`` then reads until its answer; a batch (pipeline) is written and
read concurrently through ``select`` so that a large batch cannot deadlock
against the server's output buffer.  Every transport failure closes the
connection and raises :class:`~recache.errors.ConnectionLost` (or
:class:`~recache.errors.Timeout`); the owner then opens a new connection on
its next call.  Not thread-safe: one caller at a time.
"""

from __future__ import annotations

import select
import socket
import time
from typing import Dict, Iterable, List, Optional, Tuple

from . import _wire as w
from .errors import ConnectionFailed, ConnectionLost, ProtocolError, Timeout

#: A received frame: (opcode, hflags, status, request_id, body).
Frame = Tuple[int, int, int, int, bytes]

_RECV_CHUNK = 256 * 1024


def deadline_after(seconds: float) -> float:
    return time.monotonic() + seconds


class Connection:
    """A connected socket plus its receive buffer.  Owned by one Client or Subscription."""

    def __init__(self, host: str, port: int, connect_timeout: float) -> None:
        """Connect (bounded by connect_timeout seconds).  Raises ConnectionFailed."""
        try:
            self._sock = socket.create_connection((host, port), timeout=connect_timeout)
        except socket.timeout as e:
            raise ConnectionFailed(f"connect to {host}:{port} timed out") from e
        except OSError as e:
            raise ConnectionFailed(f"connect to {host}:{port}: {e}") from e
        self._sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._buf = bytearray()
        self._pos = 0
        self._next_id = 1
        self.closed = False

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            try:
                self._sock.close()
            except OSError:
                pass

    def new_id(self) -> int:
        """A fresh non-zero request id (wraps at 2**32; never 0)."""
        rid = self._next_id
        self._next_id = rid + 1 if rid < 0xFFFFFFFF else 1
        return rid

    # ---- failure handling ------------------------------------------------------------------

    def _fail(self, exc: BaseException, what: str) -> ConnectionLost:
        """Close and return the exception to raise for a transport failure."""
        self.close()
        if isinstance(exc, ConnectionLost):
            return exc
        if isinstance(exc, (socket.timeout, TimeoutError)):
            return Timeout(f"{what}: timed out")
        return ConnectionLost(f"{what}: {exc}")

    @staticmethod
    def _left(deadline: float) -> float:
        left = deadline - time.monotonic()
        if left <= 0:
            raise Timeout("timed out waiting for the server")
        return left

    # ---- frames out of the buffer --------------------------------------------------------------

    def _take_frame(self) -> Optional[Frame]:
        """Decode one complete frame from the buffer, or None when more bytes are needed."""
        avail = len(self._buf) - self._pos
        if avail < w.HEADER_SIZE:
            return None
        header = bytes(self._buf[self._pos:self._pos + w.HEADER_SIZE])
        opcode, hflags, status, rid, body_len = w.parse_header(header)
        if avail < w.HEADER_SIZE + body_len:
            return None  # (body_len is a U32: at most the wire maximum, 4 GiB - 1)
        start = self._pos + w.HEADER_SIZE
        body = bytes(self._buf[start:start + body_len])
        self._pos = start + body_len
        if self._pos == len(self._buf):
            self._buf.clear()
            self._pos = 0
        elif self._pos > _RECV_CHUNK:
            del self._buf[:self._pos]
            self._pos = 0
        return opcode, hflags, status, rid, body

    def _recv_into_buffer(self) -> None:
        """One recv; raises ConnectionLost on EOF."""
        chunk = self._sock.recv(_RECV_CHUNK)
        if not chunk:
            raise ConnectionLost("connection closed by the server")
        self._buf += chunk

    # ---- I/O --------------------------------------------------------------------------------

    def read_frame(self, deadline: Optional[float]) -> Optional[Frame]:
        """The next frame, waiting until deadline (None = forever).

        Returns None when the deadline passes with no complete frame (the
        connection stays usable: callers decide whether silence is fatal).
        Raises ConnectionLost / ProtocolError (connection closed).
        """
        try:
            while True:
                fr = self._take_frame()
                if fr is not None:
                    return fr
                if deadline is None:
                    self._sock.settimeout(None)
                else:
                    left = deadline - time.monotonic()
                    if left <= 0:
                        return None
                    self._sock.settimeout(left)
                try:
                    self._recv_into_buffer()
                except socket.timeout:
                    return None
        except (OSError, ConnectionLost) as e:
            raise self._fail(e, "receive") from None

    def call(self, data: bytes, rid: int, deadline: float) -> Frame:
        """Send one request frame and return the response carrying rid.

        Push frames are skipped.  Raises Timeout / ConnectionLost /
        ProtocolError (the connection is then closed).  An unprompted error
        response (request id 0, e.g. SERVER_BUSY) is returned as is.
        """
        try:
            self._sock.settimeout(self._left(deadline))
            self._sock.sendall(data)
        except (OSError, ConnectionLost) as e:
            raise self._fail(e, "send") from None
        while True:
            fr = self.read_frame(deadline)
            if fr is None:
                raise self._fail(Timeout("no answer within the timeout"), "receive")
            if fr[1] & w.F_PUSH:
                continue
            if fr[3] == rid or (fr[3] == 0 and fr[2] >= w.STATUS_FIRST_ERROR):
                return fr
            raise self._fail(ProtocolError(f"response for unknown request id {fr[3]}"),
                             "receive")

    def exchange(self, frames: Iterable[bytes], rids: List[int], deadline: float
                 ) -> Dict[int, Frame]:
        """Write every frame (one buffer) while reading answers; return them by request id.

        Raises Timeout / ConnectionLost / ProtocolError (connection closed),
        also when an unprompted error (request id 0) arrives.
        """
        out = memoryview(b"".join(frames))
        sent = 0
        want = set(rids)
        got: Dict[int, Frame] = {}
        try:
            self._sock.setblocking(False)
            while want:
                fr = self._take_frame()
                if fr is not None:
                    if fr[1] & w.F_PUSH:
                        continue
                    if fr[3] not in want:
                        raise ProtocolError(f"response for unknown request id {fr[3]}"
                                            + (f" (status {fr[2]})" if fr[3] == 0 else ""))
                    want.discard(fr[3])
                    got[fr[3]] = fr
                    continue
                wlist = [self._sock] if sent < len(out) else []
                r, wr, _ = select.select([self._sock], wlist, [], self._left(deadline))
                if not r and not wr:
                    raise Timeout("pipeline: no answer within the timeout")
                try:
                    if wr:
                        sent += self._sock.send(out[sent:sent + _RECV_CHUNK])
                    if r:
                        self._recv_into_buffer()
                except BlockingIOError:
                    continue  # readiness was spurious: select again
        except (OSError, ConnectionLost) as e:
            raise self._fail(e, "pipeline") from None
        return got
