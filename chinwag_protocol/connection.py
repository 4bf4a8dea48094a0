"""Sans-I/O connection state machines for both ends of a Chinwag connection.

Each is fed the bytes that arrived and hands back typed messages; whatever it
must say on its own (error replies to bad frames) is queued and handed out by
``data_to_send()``.  The asyncio layers only move bytes.
"""

from __future__ import annotations

import itertools
from collections import deque
from dataclasses import dataclass
from typing import TypeAlias

import msgspec

from chinwag_protocol.codec import (
    decode_reply,
    decode_request,
    decode_server_line,
    encode,
)
from chinwag_protocol.constants import DEFAULT_MAX_LINE
from chinwag_protocol.errors import ErrorCode, FrameError, ProtocolError, RequestError
from chinwag_protocol.framing import LineDecoder
from chinwag_protocol.messages import (
    ClientRequest,
    Error,
    Hello,
    Ok,
    Pong,
    Reply,
    Request,
    RequestId,
    ServerEvent,
    reply_type_for,
)


def error_reply(request_id: RequestId | None, code: ErrorCode | str, message: str) -> bytes:
    return encode(Error(id=request_id, code=str(code), message=message))


class ServerConnection:
    """The server's view of one client: framing, decoding, the hello rule.

    Lines are decoded one at a time by :meth:`next_request`, so the server can
    act on a ``hello`` (and set :attr:`registered`) before it looks at a
    ``join`` pipelined in the same packet.
    """

    __slots__ = ("_decoder", "_frames", "_out", "protocol_errors", "registered")

    def __init__(self, max_line: int = DEFAULT_MAX_LINE) -> None:
        self._decoder = LineDecoder(max_line)
        # both created only while they hold something: an idle connection (the
        # common case on a big server) then costs ~800 bytes less
        self._frames: deque[bytes | FrameError] | None = None
        self._out: list[bytes] | None = None
        self.registered = False
        #: how many bad lines this peer has sent (for abuse limits and metrics)
        self.protocol_errors = 0

    def receive_data(self, data: bytes) -> None:
        self._queue_frames(self._decoder.feed(data))

    def receive_eof(self) -> None:
        self._queue_frames(self._decoder.feed_eof())

    def _queue_frames(self, frames: list[bytes | FrameError]) -> None:
        if frames:
            if self._frames is None:
                self._frames = deque(frames)
            else:
                self._frames.extend(frames)

    @property
    def backlog(self) -> int:
        """Complete lines received and not yet taken by :meth:`next_request`."""
        return len(self._frames) if self._frames is not None else 0

    def next_request(self) -> ClientRequest | None:
        """The next valid request, or None when no complete line is left.

        Bad lines met on the way are answered (queued in :meth:`data_to_send`).
        """
        frames = self._frames
        if frames is None:
            return None
        while frames:
            frame = frames.popleft()
            if isinstance(frame, FrameError):
                self._error(None, frame)
                continue
            try:
                req = decode_request(frame)
            except RequestError as exc:
                self._error(exc.request_id, exc)
                continue
            except ProtocolError as exc:
                self._error(None, exc)
                continue
            if not self.registered and not isinstance(req, Hello):
                if not isinstance(req, Pong):
                    self._reply(error_reply(req.id, ErrorCode.NOT_REGISTERED, "say hello first"))
                continue
            return req
        self._frames = None
        return None

    def _reply(self, data: bytes) -> None:
        if self._out is None:
            self._out = [data]
        else:
            self._out.append(data)

    def _error(self, request_id: RequestId | None, exc: ProtocolError) -> None:
        self.protocol_errors += 1
        self._reply(error_reply(request_id, exc.code, exc.message))

    def data_to_send(self) -> bytes:
        """The bytes the state machine produced by itself since the last call."""
        out = self._out
        if not out:
            return b""
        self._out = None
        return out[0] if len(out) == 1 else b"".join(out)


@dataclass(frozen=True, slots=True)
class ReplyReceived:
    """A reply matched to the request that asked for it."""

    request: Request
    reply: Reply

    @property
    def ok(self) -> bool:
        return not isinstance(self.reply, Error)


@dataclass(frozen=True, slots=True)
class ServerError:
    """An ``error`` with no (known) id, or a line from the server we cannot read."""

    code: str
    message: str


ClientEvent: TypeAlias = ServerEvent | ReplyReceived | ServerError


class ClientConnection:
    """The client's view: numbers requests, matches replies to them."""

    def __init__(self, max_line: int = 16 * 1024 * 1024) -> None:
        self._decoder = LineDecoder(max_line)
        self._ids = itertools.count(1)
        self._pending: dict[RequestId, Request] = {}

    @property
    def pending(self) -> int:
        return len(self._pending)

    def request(self, req: Request) -> tuple[Request, bytes]:
        """Give ``req`` a fresh id (unless it has one) and return it with its bytes."""
        if req.id is None:
            req = msgspec.structs.replace(req, id=next(self._ids))
        assert req.id is not None
        self._pending[req.id] = req
        return req, encode(req)

    def send(self, req: Request) -> bytes:
        """Bytes for a request that expects no reply (``pong``, fire-and-forget)."""
        return encode(req)

    def receive_data(self, data: bytes) -> list[ClientEvent]:
        events: list[ClientEvent] = []
        for frame in self._decoder.feed(data):
            if isinstance(frame, FrameError):
                events.append(ServerError(frame.code, frame.message))
                continue
            try:
                msg = decode_server_line(frame)
                if isinstance(msg, Ok | Error):
                    events.append(self._match(frame, msg))
                else:
                    events.append(msg)
            except ProtocolError as exc:
                events.append(ServerError(exc.code, exc.message))
        return events

    def _match(self, frame: bytes, msg: Ok | Error) -> ClientEvent:
        req = self._pending.pop(msg.id, None) if msg.id is not None else None
        if req is None:
            if isinstance(msg, Error):
                return ServerError(msg.code, msg.message)
            return ServerError(ErrorCode.BAD_FRAME, f"reply to unknown request id {msg.id!r}")
        if isinstance(msg, Error):
            return ReplyReceived(req, msg)
        return ReplyReceived(req, decode_reply(frame, reply_type_for(type(req))))
