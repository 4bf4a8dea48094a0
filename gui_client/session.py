"""The network side of the GUI: one Chinwag connection and its reconnect loop.

Everything runs as asyncio tasks on the qasync loop (no threads).  The
session reports through Qt signals; the controller hands it ``on_ready``, an
async callback run after every successful ``hello`` (first connect or
reconnect) to join rooms and fetch what was missed.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import enum
import ssl
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from PyQt6.QtCore import QObject, pyqtSignal

from chinwag_client.client import ChinwagClient, ConnectionLost, RequestFailed
from chinwag_client.tls import (
    FingerprintChanged,
    PinStore,
    TLSTrustError,
    UntrustedCertificate,
    connect_tls,
)
from chinwag_protocol.connection import ClientEvent
from chinwag_protocol.constants import MAX_NICK_LEN
from chinwag_protocol.errors import ErrorCode
from chinwag_protocol.messages import HelloOk, Notice, Ok, Register, Reply, Request
from gui_client.backoff import Backoff

R = TypeVar("R", bound=Reply)

CLIENT_NAME = "chinwag-gui/0.1"
#: how many times a reconnect retries a taken nick (our own ghost) before adding "_"
NICK_RETRIES = 3


#: hello refusals worth retrying on their own after a reconnect (wire codes)
TRANSIENT_LOGIN_ERRORS = frozenset(
    {"shutting_down", "throttled", "rate_limited", "too_many_connections"}
)


class ConnState(enum.Enum):
    DISCONNECTED = "Disconnected"
    CONNECTING = "Connecting"
    CONNECTED = "Connected"
    RECONNECTING = "Reconnecting"


@dataclass(frozen=True, slots=True)
class Target:
    host: str
    port: int
    nick: str
    password: str = ""
    tls: bool = False
    #: say hello as a guest, then ``register`` the nick with ``password``;
    #: reconnects then sign in with it
    register: bool = False


class NotConnected(Exception):
    """A request was made while there is no registered connection."""


def describe_error(exc: BaseException) -> str:
    """A short human reason for a failed connection attempt."""
    if isinstance(exc, TimeoutError):
        return "timed out"
    if isinstance(exc, ssl.SSLCertVerificationError):
        return f"certificate not trusted ({exc.verify_message})"
    if isinstance(exc, ssl.SSLError):
        return f"TLS failed ({exc.reason or exc})"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror.lower()
    return str(exc) or type(exc).__name__


def fallback_nick(nick: str) -> str:
    return (nick[: MAX_NICK_LEN - 1] if len(nick) >= MAX_NICK_LEN else nick) + "_"


class ChatSession(QObject):
    #: (ConnState, human detail for the status bar)
    stateChanged = pyqtSignal(object, str)
    #: every server event (ClientEvent) in arrival order
    eventReceived = pyqtSignal(object)
    #: (code, message): the session gave up and needs the user (bad nick, password, ...)
    failed = pyqtSignal(str, str)
    #: the connection dropped (reason); a reconnect follows
    connectionLost = pyqtSignal(str)
    #: TLSTrustError: the server's certificate is untrusted or its pin changed (after ``failed``)
    certificateRejected = pyqtSignal(object)

    def __init__(self, parent: QObject | None = None, *, backoff: Backoff | None = None) -> None:
        super().__init__(parent)
        self.backoff = backoff or Backoff()
        self.client: ChinwagClient | None = None
        self.target: Target | None = None
        self.nick: str | None = None
        self.state = ConnState.DISCONNECTED
        self.on_ready: Callable[[HelloOk, bool], Awaitable[None]] | None = None
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self._shutdown_notice = False
        #: pinned server certificates (trust on first use, see chinwag_client.tls)
        self.pins = PinStore()

    # ---- public ---------------------------------------------------------------

    @property
    def connected(self) -> bool:
        return self.client is not None and not self.client.is_closed

    def start(self, target: Target) -> asyncio.Task[None]:
        """Connect to ``target`` (replacing any current connection) and keep connected."""
        old = self._task
        self.target = target
        self._task = asyncio.get_running_loop().create_task(
            self._run(target, old), name="chinwag-gui-session"
        )
        return self._task

    def reconnect_now(self) -> None:
        """Skip the current backoff wait."""
        self._wake.set()

    async def stop(self, reason: str | None = None) -> None:
        """Say ``quit`` and stop reconnecting.  Safe to call twice."""
        task, self._task = self._task, None
        client, self.client = self.client, None
        if client is not None:
            await client.quit(reason, timeout=2.0)
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._set_state(ConnState.DISCONNECTED, "Disconnected")

    async def call(self, req: Request, expect: type[R]) -> R:
        client = self.client
        if client is None or client.is_closed:
            raise NotConnected("not connected")
        return await client.call(req, expect)

    # ---- the loop -------------------------------------------------------------

    def _set_state(self, state: ConnState, detail: str) -> None:
        self.state = state
        self.stateChanged.emit(state, detail)

    def _on_event(self, event: ClientEvent) -> None:
        if isinstance(event, Notice) and event.code == "shutdown":
            self._shutdown_notice = True
        # Deliver on the next loop turn, after the task awaiting a reply that came in
        # the same read has resumed: a ``joined`` right behind our ``join`` reply must
        # find the room the controller creates from that reply.
        asyncio.get_running_loop().call_soon(self.eventReceived.emit, event)

    async def _pause(self, why: str) -> None:
        delay = self.backoff.next()
        self._wake.clear()
        self._set_state(ConnState.RECONNECTING, f"{why} — reconnecting in {max(1, round(delay))} s")
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(delay):
                await self._wake.wait()

    async def _run(self, target: Target, previous: asyncio.Task[None] | None) -> None:
        if previous is not None and not previous.done():
            previous.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await previous
        if self.client is not None:
            await self.client.close()
            self.client = None
        self.backoff.reset()
        ever = False
        nick = target.nick
        taken = 0
        where = f"{target.host}:{target.port}"
        while True:
            self._set_state(
                ConnState.RECONNECTING if ever else ConnState.CONNECTING,
                f"Connecting to {where}…",
            )
            self._shutdown_notice = False
            try:
                client = await self._connect(target)
            except TLSTrustError as exc:  # never retried: the user decides
                return self._reject_certificate(exc)
            except (OSError, TimeoutError) as exc:
                if not ever:
                    why = describe_error(exc)
                    return self._give_up("unreachable", f"Cannot reach {where}: {why}.")
                await self._pause(f"Server unreachable ({describe_error(exc)})")
                continue
            try:
                password = None if target.register else (target.password or None)
                ok = await client.hello(nick, password=password, client=CLIENT_NAME)
                if target.register:
                    await client.call(Register(password=target.password), Ok)
                    target = dataclasses.replace(target, register=False)
                    self.target = target
            except RequestFailed as exc:
                await client.close()
                if exc.code == ErrorCode.NICK_TAKEN and ever:
                    taken += 1
                    if taken > NICK_RETRIES:
                        nick = fallback_nick(target.nick)
                    await self._pause(f"The nick {nick} is still in use")
                    continue
                if exc.code in TRANSIENT_LOGIN_ERRORS and ever:
                    await self._pause(f"Login refused for now ({exc.message})")
                    continue
                return self._give_up(exc.code, hello_failure(exc, nick))
            except (ConnectionLost, OSError, TimeoutError) as exc:
                await client.close()
                if not ever:
                    return self._give_up("unreachable", f"{where} closed the connection ({exc}).")
                await self._pause("The connection closed during login")
                continue
            reconnect = ever
            ever = True
            taken = 0
            self.client = client
            self.nick = ok.nick
            self._set_state(ConnState.CONNECTED, f"Connected to {where} as {ok.nick}")
            if self.on_ready is not None:
                try:
                    await self.on_ready(ok, reconnect)
                except (ConnectionLost, NotConnected, OSError):
                    pass
                except RequestFailed:
                    pass
            reason = await client.closed
            self.client = None
            if self._shutdown_notice:
                reason = "the server is restarting or shutting down"
            self.connectionLost.emit(reason)
            self.backoff.reset()
            await self._pause(f"Connection lost: {reason}")

    async def _connect(self, target: Target) -> ChinwagClient:
        if target.tls:
            return await connect_tls(
                target.host, target.port, pins=self.pins, on_event=self._on_event
            )
        return await ChinwagClient.connect(target.host, target.port, on_event=self._on_event)

    def _reject_certificate(self, exc: TLSTrustError) -> None:
        where = f"{exc.host}:{exc.port}"
        if isinstance(exc, FingerprintChanged):
            self._give_up(
                "fingerprint_changed",
                f"The certificate of {where} has CHANGED (pinned {exc.pinned}, now "
                f"{exc.fingerprint}). Not connecting: someone may be intercepting the connection.",
            )
        else:
            reason = exc.reason if isinstance(exc, UntrustedCertificate) else str(exc)
            self._give_up(
                "untrusted_certificate",
                f"Cannot connect to {where}: certificate not trusted ({reason}). "
                f"Its fingerprint is {exc.fingerprint}.",
            )
        self.certificateRejected.emit(exc)

    def _give_up(self, code: str, message: str) -> None:
        self._set_state(ConnState.DISCONNECTED, message)
        self.failed.emit(code, message)


def hello_failure(exc: RequestFailed, nick: str) -> str:
    """What to tell the user when the server refused our ``hello``."""
    if exc.code == ErrorCode.NICK_TAKEN:
        return f"The nick “{nick}” is already in use. Choose another one."
    if exc.code == ErrorCode.BAD_NICK:
        return f"“{nick}” is not a valid nick: {exc.message}."
    if exc.code == "bad_password":
        return f"Wrong password for “{nick}”."
    if exc.code in ("nick_reserved", "account_required", "nick_locked"):
        return f"“{nick}” is a registered nick: {exc.message}. Enter its password."
    if "password" in exc.code or "account" in exc.code:
        return f"Login refused: {exc.message}."
    if exc.code == ErrorCode.SHUTTING_DOWN:
        return "The server is shutting down. Try again in a moment."
    return f"The server refused the login: {exc.message}."
