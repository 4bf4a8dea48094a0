"""One client connection: the asyncio Protocol that moves bytes for the hub.

It feeds received bytes to the sans-I/O :class:`ServerConnection`, hands each
decoded request to the :class:`~server.hub.Hub`, and owns the connection's
output buffer: everything sent during one loop iteration is joined and
written with a single ``transport.write`` (write coalescing).  A client whose
kernel and transport buffers hold more than ``max_send_buffer`` bytes is not
reading; it is disconnected rather than allowed to grow memory or slow others.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import TYPE_CHECKING, cast

from chinwag_protocol.codec import encode
from chinwag_protocol.connection import ServerConnection, error_reply
from chinwag_protocol.errors import ErrorCode
from chinwag_protocol.messages import Notice, Reply, RequestId
from server.identity import is_account_ident
from server.limits import ConnectionLimits

if TYPE_CHECKING:
    from server.hub import Hub
    from server.rooms import Room

log = logging.getLogger(__name__)


#: seconds a connection closed with a notice (idle, handshake, rate limit) waits
#: for the client to read it and hang up before it is cut
NOTICE_LINGER = 2.0


class Session(asyncio.Protocol):
    __slots__ = (
        "_flush_handle",
        "_out",
        "closing",
        "connected_at",
        "hub",
        "ident",
        "key",
        "last_rx",
        "limits",
        "nick",
        "paused",
        "peer",
        "pinged",
        "proto",
        "rooms",
        "transport",
    )

    def __init__(self, hub: Hub) -> None:
        self.hub = hub
        self.proto = ServerConnection(hub.settings.max_line)
        self.transport: asyncio.Transport | None = None
        self.nick = ""
        #: case-folded nick, the key in the hub's nick table
        self.key = ""
        #: who this session is for history ownership: an account or a one-off guest id
        self.ident = ""
        self.rooms: dict[str, Room] = {}
        #: bytes queued for this loop iteration's write (None: nothing queued)
        self._out: list[bytes] | None = None
        self._flush_handle: asyncio.Handle | None = None
        self.closing = False
        self.connected_at = self.last_rx = time.monotonic()
        self.pinged = False
        self.peer = "?"
        #: set while a request waits for password hashing: later lines wait too
        self.paused = False
        self.limits = ConnectionLimits(self, hub.settings)

    @property
    def registered(self) -> bool:
        return self.proto.registered

    @property
    def is_account(self) -> bool:
        """Signed in to a registered account (not a guest)."""
        return is_account_ident(self.ident)

    def __repr__(self) -> str:
        return f"<Session {self.nick or '-'} {self.peer}>"

    # ---- asyncio.Protocol ---------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports implement the interface without subclassing it
        self.transport = cast(asyncio.Transport, transport)
        peer = transport.get_extra_info("peername")
        if isinstance(peer, tuple) and len(peer) >= 2:
            self.peer = f"{peer[0]}:{peer[1]}"
        self.hub.attach(self)
        self.limits.admit(peer)  # over max_connections_per_address: told why and closed

    def data_received(self, data: bytes) -> None:
        if self.closing:
            return  # a half-closed connection is drained, not served
        self.last_rx = time.monotonic()
        self.pinged = False
        self.hub.stats.bytes_in += len(data)
        self.limits.on_bytes(len(data))
        proto = self.proto
        proto.receive_data(data)
        lines = proto.backlog
        self._process()
        self.limits.on_lines(lines - proto.backlog)  # bad lines count against the rate too

    def eof_received(self) -> bool:
        self.proto.receive_eof()
        self._process()
        return False  # let the transport close

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.closing:
            self.closing = True
            reason = "connection reset" if exc else "connection closed"
            self.hub.detach(self, reason)
        self.hub.forget(self)
        self.limits.release()
        if self._flush_handle is not None:
            self._flush_handle.cancel()
            self._flush_handle = None

    def _process(self) -> None:
        proto = self.proto
        hub = self.hub
        while not self.closing and not self.paused:
            req = proto.next_request()
            out = proto.data_to_send()  # errors for bad lines met first keep their order
            if out:
                self.send_raw(out)
            if req is None:
                break
            if self.limits.allow_request():
                hub.handle(self, req)
            else:
                self.limits.reject(req.id)

    def pause(self) -> None:
        """Hold back further requests (and reading) until :meth:`resume`."""
        self.paused = True
        if self.transport is not None and not self.closing:
            self.transport.pause_reading()

    def resume(self) -> None:
        self.paused = False
        if self.closing:
            return
        if self.transport is not None and not self.limits.paused:  # the byte budget rules
            self.transport.resume_reading()
        self._process()

    # ---- output -------------------------------------------------------------

    def send_raw(self, data: bytes) -> None:
        """Queue bytes; they are written once per loop iteration."""
        if self.closing:
            return
        fanout = self.hub.fanout
        if fanout.pending:  # earlier room events go first
            fanout.catch_up(self)
        out = self._out
        if out is None:
            self._out = [data]
            self._flush_handle = self.hub.loop.call_soon(self._flush)
        else:
            out.append(data)

    def send_batch(self, data: bytes) -> None:
        """A room's fan-out: written at once unless this session has bytes queued."""
        if self.closing:
            return
        out = self._out
        if out is not None:
            out.append(data)
            return
        transport = self.transport
        if transport is None:
            return
        self.hub.stats.bytes_out += len(data)
        transport.write(data)
        if transport.get_write_buffer_size() > self.hub.settings.max_send_buffer:
            # not now: the room is iterating over its members
            self.hub.loop.call_soon(self._overflow)

    def _overflow(self) -> None:
        transport = self.transport
        if self.closing or transport is None:
            return
        if transport.get_write_buffer_size() > self.hub.settings.max_send_buffer:
            self.hub.metrics_disconnect("send_buffer_full")
            self.close("send buffer full (client not reading)", abort=True)

    def send(self, msg: Notice | Reply) -> None:
        self.send_raw(encode(msg))

    def send_reply(self, reply: Reply) -> None:
        """Send a reply if its request asked for one (carried an id)."""
        if reply.id is not None:
            self.send_raw(encode(reply))

    def send_error(self, request_id: RequestId | None, code: ErrorCode, message: str) -> None:
        if request_id is not None:
            self.send_raw(error_reply(request_id, code, message))

    def _flush(self) -> None:
        self._flush_handle = None
        out = self._out
        self._out = None
        transport = self.transport
        if self.closing or not out or transport is None:
            return
        data = out[0] if len(out) == 1 else b"".join(out)
        self.hub.stats.bytes_out += len(data)
        transport.write(data)
        if transport.get_write_buffer_size() > self.hub.settings.max_send_buffer:
            self.hub.metrics_disconnect("send_buffer_full")
            self.close("send buffer full (client not reading)", abort=True)

    # ---- closing ----------------------------------------------------------

    def close(
        self,
        reason: str,
        *,
        notice: Notice | None = None,
        abort: bool = False,
        half_close: bool = False,
    ) -> None:
        """Leave every room (telling the others ``reason``) and close the connection.

        ``half_close`` sends FIN after the queued bytes but keeps reading (and
        discarding) until the peer closes: closing a socket with unread input
        sends RST, which can destroy the final replies and notice in flight.
        The caller must bound the wait (shutdown aborts after its grace time).
        A close that carries a ``notice`` half-closes by itself, bounded by
        :data:`NOTICE_LINGER` seconds, so the client gets to read why.
        """
        if self.closing:
            return
        self.hub.fanout.catch_up(self)  # room events queued for it before this go out first
        self.hub.detach(self, reason)
        out = self._out or []
        self._out = None
        if notice is not None:
            out.append(encode(notice))
        if self._flush_handle is not None:
            self._flush_handle.cancel()
            self._flush_handle = None
        transport = self.transport
        if transport is not None and not abort and out:
            transport.write(b"".join(out))
        self.closing = True
        if transport is not None:
            if abort:
                transport.abort()
            elif (half_close or notice is not None) and transport.can_write_eof():
                transport.write_eof()
                transport.resume_reading()
                if not half_close:
                    self.hub.loop.call_later(NOTICE_LINGER, transport.abort)
            else:
                transport.close()
