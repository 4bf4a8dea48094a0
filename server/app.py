"""Server lifecycle: listen, sweep idle connections, shut down gracefully.

Like hypercorn, the shutdown trigger is injected: ``serve()`` runs until the
awaitable it is given completes (the CLI passes one set by SIGINT/SIGTERM,
tests pass their own).  ``close()`` is safe to call twice.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import dataclasses
import logging
import ssl
import time
from collections.abc import Awaitable
from types import TracebackType

from chinwag_protocol.codec import encode
from chinwag_protocol.messages import Notice, PingEvent
from chinwag_protocol.timefmt import parse_msg_id
from server.config import Settings, live_fields
from server.hub import Hub
from server.metrics import MetricsExporter
from server.session import Session
from server.storage import HistoryStore
from server.tls import make_server_context

log = logging.getLogger(__name__)

_PING = encode(PingEvent())


class ChinwagServer:
    def __init__(self, settings: Settings, *, ssl_context: ssl.SSLContext | None = None) -> None:
        """``ssl_context`` (for embedding) makes host:port itself speak TLS; without it
        the ``tls_*`` settings add a TLS listener on tls_port beside the plain one."""
        self.settings = settings
        self.ssl_context = ssl_context
        self.store = HistoryStore(
            settings.db_path, sync=settings.history_sync, batch_max=settings.history_batch_max
        )
        self._server: asyncio.Server | None = None
        #: the TLS listener on tls_port (None when TLS is off or host:port is TLS itself)
        self._tls_server: asyncio.Server | None = None
        self._sweeper: asyncio.Task[None] | None = None
        self._closed: asyncio.Event | None = None
        self._closing = False
        self.hub: Hub | None = None
        self.metrics: MetricsExporter | None = None

    @property
    def port(self) -> int:
        """The port of the plain listener (of the TLS one when there is no plain one)."""
        srv = self._server or self._tls_server
        assert srv is not None, "server not started"
        return int(srv.sockets[0].getsockname()[1])

    @property
    def host(self) -> str:
        srv = self._server or self._tls_server
        assert srv is not None, "server not started"
        return str(srv.sockets[0].getsockname()[0])

    @property
    def tls_port(self) -> int | None:
        """The port of the TLS listener on tls_port, None without one."""
        if self._tls_server is None:
            return None
        return int(self._tls_server.sockets[0].getsockname()[1])

    async def start(self) -> None:
        """Listen.  A bad TLS certificate raises :class:`server.tls.TLSSetupError`."""
        loop = asyncio.get_running_loop()
        s = self.settings
        tls = None if self.ssl_context is not None else make_server_context(s)
        self.store.open(loop)
        self.hub = hub = Hub(s, self.store, loop)
        self._closed = asyncio.Event()
        try:
            if s.plain or self.ssl_context is not None:
                self._server = await loop.create_server(
                    lambda: Session(hub),
                    s.host,
                    s.port,
                    ssl=self.ssl_context,
                    reuse_address=True,
                    backlog=4096,
                )
            if tls is not None:
                self._tls_server = await loop.create_server(
                    lambda: Session(hub),
                    s.tls_host or s.host,
                    s.tls_port,
                    ssl=tls,
                    ssl_handshake_timeout=s.handshake_timeout,
                    reuse_address=True,
                    backlog=4096,
                )
        except OSError:
            if self._server is not None:
                self._server.close()
                self._server = None
            await self.store.close()
            raise
        self._sweeper = asyncio.create_task(self._sweep(), name="chinwag-sweeper")
        if self.settings.metrics_port:
            self.metrics = MetricsExporter(
                self, self.settings.metrics_host, self.settings.metrics_port
            )
            try:
                self.metrics.start()
            except OSError:
                self.metrics = None
                await self.close()
                raise
        if self._server is not None:
            log.info(
                "listening on %s:%d (data in %s)", self.host, self.port, self.settings.data_dir
            )
        if self._tls_server is not None:
            from server.tls import certificate_fingerprint

            sock = self._tls_server.sockets[0].getsockname()
            log.info(
                "listening (TLS) on %s:%d (certificate %s)",
                sock[0],
                sock[1],
                certificate_fingerprint(s.tls_cert),
            )

    async def reload(self, new: Settings) -> tuple[list[str], list[str]]:
        """Apply the live fields of ``new`` (SIGHUP); others need a restart.

        Returns (live settings changed, other settings that differ and were ignored).
        The hub reads ``settings`` on every request, and new connections take their
        line limit from it, so swapping the object is the whole reload.
        """
        live = set(live_fields())
        old = self.settings
        changed = [
            f.name
            for f in dataclasses.fields(Settings)
            if getattr(old, f.name) != getattr(new, f.name)
        ]
        applied = [n for n in changed if n in live]
        ignored = [n for n in changed if n not in live]
        self.settings = dataclasses.replace(old, **{n: getattr(new, n) for n in applied})
        hub = self.hub
        if hub is not None:
            hub.settings = self.settings
            if "history_replay" in applied:
                await self.store.flush()  # the replay cache refills from durable history
                keep = self.settings.history_replay
                for room in hub.rooms.values():
                    page = self.store.room_page(room.name, limit=keep)
                    last = parse_msg_id(page[-1].msg_id) if page else 0
                    page += [m for m in room.recent if parse_msg_id(m.msg_id) > last]
                    room.recent = collections.deque(page, maxlen=keep)
        return applied, ignored

    async def serve(self, shutdown_trigger: Awaitable[object]) -> None:
        """Start, run until ``shutdown_trigger`` completes, then close gracefully."""
        await self.start()
        try:
            await shutdown_trigger
        finally:
            await self.close()

    async def __aenter__(self) -> ChinwagServer:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def _sweep(self) -> None:
        """Once a second: ping quiet clients, drop silent and handshake-stalled ones."""
        s = self.settings
        assert self.hub is not None
        hub = self.hub
        while True:
            await asyncio.sleep(min(1.0, s.ping_interval / 2))
            now = time.monotonic()
            for session in list(hub.sessions):
                if session.closing:
                    continue
                if not session.registered:
                    if now - session.connected_at > s.handshake_timeout:
                        hub.metrics_disconnect("handshake_timeout")
                        session.close(
                            "handshake timeout",
                            notice=Notice(
                                text="no hello in time; closing", code="handshake_timeout"
                            ),
                        )
                    continue
                idle = now - session.last_rx
                if idle > s.idle_timeout:
                    hub.metrics_disconnect("idle_timeout")
                    session.close(
                        "ping timeout",
                        notice=Notice(text="no answer to ping; closing", code="idle_timeout"),
                    )
                elif idle > s.ping_interval and not session.pinged:
                    session.pinged = True
                    session.send_raw(_PING)

    async def close(self) -> None:
        """Stop accepting, make every queued message durable (so its ``ok`` goes out),
        tell clients with a ``notice``, close them, then close the database."""
        if self._closing:
            if self._closed is not None:
                await self._closed.wait()
            return
        self._closing = True
        hub = self.hub
        for listener in (self._server, self._tls_server):
            if listener is not None:
                listener.close()
        if self._sweeper is not None:
            self._sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sweeper
        if self.metrics is not None:
            await self.metrics.close()
        if hub is not None:
            hub.shutting_down = True
            await self.store.flush()  # acks for everything accepted go out now
            hub.fanout.flush()
            notice = Notice(text="server shutting down", code="shutdown")
            for session in list(hub.sessions):
                hub.metrics_disconnect("shutdown")
                session.close("server shutting down", notice=notice, half_close=True)
            try:
                async with asyncio.timeout(self.settings.shutdown_grace):
                    await hub.wait_all_gone()
            except TimeoutError:
                for session in list(hub.sessions):
                    if session.transport is not None:
                        session.transport.abort()
        for listener in (self._server, self._tls_server):
            if listener is not None:
                with contextlib.suppress(Exception):
                    async with asyncio.timeout(self.settings.shutdown_grace):
                        await listener.wait_closed()
        await self.store.close()
        if hub is not None:
            hub.hashing.shutdown()
        log.info("server stopped")
        if self._closed is not None:
            self._closed.set()
