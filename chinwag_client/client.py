"""asyncio adapter: moves bytes between a stream and the sans-I/O client state machine."""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections.abc import AsyncIterator, Callable
from typing import TypeVar

from chinwag_protocol.connection import ClientConnection, ClientEvent, ReplyReceived
from chinwag_protocol.constants import PROTOCOL_VERSION
from chinwag_protocol.messages import Error, Hello, HelloOk, PingEvent, Pong, Quit, Reply, Request

R = TypeVar("R", bound=Reply)

_READ_SIZE = 256 * 1024


class RequestFailed(Exception):
    """The server answered a request with ``error``."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


class ConnectionLost(Exception):
    """The connection closed while a request was waiting for its reply."""


class ChinwagClient:
    """One connection to a Chinwag server.

    Events (everything that is not a reply) go to ``on_event`` when given,
    else into a queue read with :meth:`events` / :meth:`next_event`.
    Server ``ping`` events are answered with ``pong`` automatically.
    """

    def __init__(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        on_event: Callable[[ClientEvent], None] | None = None,
    ) -> None:
        self._reader = reader
        self._writer = writer
        self._conn = ClientConnection()
        self._on_event = on_event
        self._queue: asyncio.Queue[ClientEvent | None] = asyncio.Queue()
        self._waiters: dict[int | str, asyncio.Future[Reply]] = {}
        self.nick: str | None = None
        self.closed: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        self._reader_task = asyncio.create_task(self._read_loop(), name="chinwag-client-reader")

    @classmethod
    async def connect(
        cls,
        host: str,
        port: int,
        *,
        ssl_context: ssl.SSLContext | None = None,
        server_hostname: str | None = None,
        timeout: float = 10.0,
        on_event: Callable[[ClientEvent], None] | None = None,
    ) -> ChinwagClient:
        async with asyncio.timeout(timeout):
            reader, writer = await asyncio.open_connection(
                host,
                port,
                ssl=ssl_context,
                server_hostname=server_hostname if ssl_context else None,
                limit=_READ_SIZE,
            )
        return cls(reader, writer, on_event)

    @property
    def peer_certificate(self) -> bytes | None:
        """The server's certificate (DER) on a TLS connection."""
        sslobj = self._writer.get_extra_info("ssl_object")
        if sslobj is None:
            return None
        cert = sslobj.getpeercert(binary_form=True)
        return cert if isinstance(cert, bytes) else None

    @property
    def tls_version(self) -> str | None:
        """The negotiated protocol (``TLSv1.3``, ...) on a TLS connection, else None."""
        sslobj = self._writer.get_extra_info("ssl_object")
        return None if sslobj is None else sslobj.version()

    async def _read_loop(self) -> None:
        reason = "connection closed by server"
        try:
            while True:
                data = await self._reader.read(_READ_SIZE)
                if not data:
                    break
                for event in self._conn.receive_data(data):
                    self._dispatch(event)
        except (ConnectionError, OSError) as exc:
            reason = f"connection lost: {exc}"
        except asyncio.CancelledError:
            reason = "connection closed"
            raise
        finally:
            self._finish(reason)

    def _dispatch(self, event: ClientEvent) -> None:
        if isinstance(event, ReplyReceived):
            assert event.request.id is not None
            waiter = self._waiters.pop(event.request.id, None)
            if waiter is not None and not waiter.done():
                waiter.set_result(event.reply)
            return
        if isinstance(event, PingEvent):
            self.send_nowait(Pong())
        if self._on_event is not None:
            self._on_event(event)
        else:
            self._queue.put_nowait(event)

    def _finish(self, reason: str) -> None:
        for waiter in self._waiters.values():
            if not waiter.done():
                waiter.set_exception(ConnectionLost(reason))
        self._waiters.clear()
        if not self.closed.done():
            self.closed.set_result(reason)
        self._queue.put_nowait(None)
        with contextlib.suppress(Exception):
            self._writer.close()

    @property
    def is_closed(self) -> bool:
        return self.closed.done()

    def send_nowait(self, req: Request) -> None:
        """Send a request without waiting for (or tracking) a reply."""
        if not self._writer.is_closing():
            self._writer.write(self._conn.send(req))

    def send_request(self, req: Request) -> asyncio.Future[Reply]:
        """Send ``req`` with a fresh id; the future gets its reply (ok or error)."""
        fut: asyncio.Future[Reply] = asyncio.get_running_loop().create_future()
        if self.closed.done():
            fut.set_exception(ConnectionLost(self.closed.result()))
            return fut
        req, data = self._conn.request(req)
        assert req.id is not None
        self._waiters[req.id] = fut
        self._writer.write(data)
        return fut

    async def request(self, req: Request) -> Reply:
        """Send ``req`` and wait for its reply, which may be an :class:`Error`."""
        return await self.send_request(req)

    async def call(self, req: Request, expect: type[R]) -> R:
        """Send ``req``; return its ``ok`` reply as ``expect`` or raise :class:`RequestFailed`."""
        reply = await self.send_request(req)
        if isinstance(reply, Error):
            raise RequestFailed(reply.code, reply.message)
        if not isinstance(reply, expect):
            raise TypeError(f"expected {expect.__name__}, got {type(reply).__name__}")
        return reply

    async def hello(
        self, nick: str, *, password: str | None = None, client: str = "chinwag"
    ) -> HelloOk:
        ok = await self.call(
            Hello(nick=nick, password=password, client=client, protocol=PROTOCOL_VERSION),
            HelloOk,
        )
        self.nick = ok.nick
        return ok

    async def drain(self) -> None:
        await self._writer.drain()

    async def next_event(self, timeout: float | None = None) -> ClientEvent:
        """The next event from the queue; raises ConnectionLost once the connection is gone."""
        async with asyncio.timeout(timeout):
            event = await self._queue.get()
        if event is None:
            self._queue.put_nowait(None)
            raise ConnectionLost(self.closed.result() if self.closed.done() else "closed")
        return event

    async def events(self) -> AsyncIterator[ClientEvent]:
        while True:
            try:
                yield await self.next_event()
            except ConnectionLost:
                return

    async def quit(self, reason: str | None = None, timeout: float = 5.0) -> None:
        """Say ``quit``, wait for the server to close, then close our side."""
        if not self.closed.done():
            with contextlib.suppress(ConnectionLost, RequestFailed, TimeoutError, OSError):
                async with asyncio.timeout(timeout):
                    await self.request(Quit(reason=reason))
                    await asyncio.shield(self.closed)
        await self.close()

    async def close(self) -> None:
        self._writer.close()
        with contextlib.suppress(Exception):
            await self._writer.wait_closed()
        if not self._reader_task.done():
            self._reader_task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await self._reader_task
