"""Transport-level abuse limits: token buckets per connection, connections per address.

Each :class:`~server.session.Session` owns one :class:`ConnectionLimits`; the
session calls it with a couple of float operations per read and per request,
so well-behaved clients pay next to nothing.  The rules:

* **bytes per second** (``rate_bytes``): reading goes over budget -> the
  transport stops reading until the bucket has refilled (TCP backpressure:
  the sender slows down, nothing is lost, nobody is disconnected);
* **requests per second** (``rate_requests``, burst ``rate_burst``): a request
  over budget is dropped and answered ``rate_limited``; a client that keeps
  flooding uses up its patience (``rate_strikes`` rejections, one forgiven per
  second) and is disconnected with a ``rate_limited`` notice.  Lines that
  never become requests (bad frames, requests before ``hello``) are answered
  too, so they draw on the same budget, and those over it are strikes;
* **connections per address** (``max_connections_per_address``): the next one
  gets a ``too_many_connections`` notice and is closed.  Addresses in
  ``limit_exempt`` (loopback by default: a local proxy or load generator) are
  not counted.

A limit set to 0 is off.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import ipaddress
import time
import weakref
from typing import TYPE_CHECKING

from chinwag_protocol.errors import ErrorCode
from chinwag_protocol.messages import Notice

if TYPE_CHECKING:
    from server.config import Settings
    from server.hub import Hub
    from server.session import Session


class TokenBucket:
    """``capacity`` tokens, refilled at ``rate`` per second; ``rate`` 0 = unlimited."""

    __slots__ = ("capacity", "rate", "stamp", "tokens")

    def __init__(self, rate: float, capacity: float) -> None:
        self.rate = rate
        self.capacity = capacity
        self.tokens = capacity
        self.stamp = time.monotonic()

    def _refill(self, now: float) -> None:
        tokens = self.tokens + (now - self.stamp) * self.rate
        self.tokens = tokens if tokens < self.capacity else self.capacity
        self.stamp = now

    def take(self, amount: float = 1.0, now: float | None = None) -> bool:
        """Take ``amount`` if available; False (nothing taken) if not."""
        if not self.rate:
            return True
        self._refill(time.monotonic() if now is None else now)
        if self.tokens >= amount:
            self.tokens -= amount
            return True
        return False

    def take_up_to(self, amount: int, now: float | None = None) -> int:
        """Take as many whole tokens as available, at most ``amount``; returns how many."""
        if not self.rate:
            return amount
        self._refill(time.monotonic() if now is None else now)
        got = min(amount, int(self.tokens)) if self.tokens > 0 else 0
        self.tokens -= got
        return got

    def spend(self, amount: float, now: float | None = None) -> float:
        """Take ``amount`` even into debt; returns seconds until the bucket is out of debt."""
        if not self.rate:
            return 0.0
        self._refill(time.monotonic() if now is None else now)
        self.tokens -= amount
        return -self.tokens / self.rate if self.tokens < 0 else 0.0


class ConnectionLimits:
    """The rate limits of one connection (see the module docstring)."""

    __slots__ = (
        "_resume",
        "address",
        "bytes",
        "handled",
        "patience",
        "paused",
        "requests",
        "session",
    )

    def __init__(self, session: Session, settings: Settings) -> None:
        self.session = session
        #: the client address while it counts against ``max_connections_per_address``
        self.address = ""
        self.bytes = TokenBucket(
            settings.rate_bytes, max(settings.rate_bytes, 2 * settings.max_line)
        )
        self.requests = TokenBucket(settings.rate_requests, settings.rate_burst)
        self.patience = TokenBucket(1.0 if settings.rate_strikes else 0.0, settings.rate_strikes)
        self.paused = False
        self._resume: asyncio.TimerHandle | None = None
        #: requests offered to :meth:`allow_request` since the last :meth:`on_lines`
        self.handled = 0

    def admit(self, peer: object) -> bool:
        """On connect: count the peer's address; over the limit, refuse (False)."""
        session = self.session
        address = peer_address(peer)
        counter = _counter(session.hub)
        if counter.admit(address, session.hub.settings):
            if address in counter.counts:
                self.address = address
            return True
        refuse_connection(session, address)
        return False

    def release(self) -> None:
        """On disconnect: stop counting, stop timers."""
        if self.address:
            _counter(self.session.hub).release(self.address)
            self.address = ""
        if self._resume is not None:
            self._resume.cancel()
            self._resume = None

    def on_bytes(self, n: int) -> None:
        """Account for ``n`` bytes read; over budget, pause reading until it is repaid."""
        wait = self.bytes.spend(n)
        if wait and not self.paused:
            transport = self.session.transport
            if transport is None or self.session.closing:
                return
            self.paused = True
            transport.pause_reading()
            self._resume = self.session.hub.loop.call_later(wait, self._resume_reading)

    def _resume_reading(self) -> None:
        self._resume = None
        self.paused = False
        transport = self.session.transport
        # a session waiting on password hashing resumes reading itself
        if transport is not None and not self.session.closing and not self.session.paused:
            transport.resume_reading()

    def allow_request(self) -> bool:
        """Whether the next request may be handled now (False: drop it, see :meth:`reject`)."""
        self.handled += 1
        return self.requests.take()

    def on_lines(self, consumed: int) -> None:
        """Charge lines that never became requests (bad frames, requests before hello):
        each was answered, so each costs a token; those over budget are strikes."""
        extra = consumed - self.handled
        self.handled = 0
        if extra <= 0 or not self.requests.rate:
            return
        over = extra - self.requests.take_up_to(extra)
        if over and self.patience.take_up_to(over) < over:
            self.session.hub.metrics_disconnect("rate_limited")
            self.session.close(
                "flooding",
                notice=Notice(text="too many bad lines; closing", code=ErrorCode.RATE_LIMITED),
            )

    def reject(self, request_id: int | str | None) -> None:
        """Answer a dropped request; disconnect a client that keeps flooding."""
        session = self.session
        if not self.patience.take():
            session.hub.metrics_disconnect("rate_limited")
            session.close(
                "flooding",
                notice=Notice(text="too many requests; closing", code=ErrorCode.RATE_LIMITED),
            )
            return
        session.send_error(
            request_id, ErrorCode.RATE_LIMITED, "too many requests; slow down and retry"
        )


class AddressCounter:
    """Open connections per client address, for ``max_connections_per_address``."""

    __slots__ = ("counts",)

    def __init__(self) -> None:
        self.counts: collections.Counter[str] = collections.Counter()

    def admit(self, address: str, settings: Settings) -> bool:
        """Count a new connection from ``address``; False if it is one too many."""
        limit = settings.max_connections_per_address
        if not limit or not address or address in settings.limit_exempt:
            return True
        if self.counts[address] >= limit:
            return False
        self.counts[address] += 1
        return True

    def release(self, address: str) -> None:
        n = self.counts.get(address, 0)
        if n <= 1:
            self.counts.pop(address, None)
        else:
            self.counts[address] = n - 1


_COUNTERS: weakref.WeakKeyDictionary[Hub, AddressCounter] = weakref.WeakKeyDictionary()


def _counter(hub: Hub) -> AddressCounter:
    """The per-address counter of one server (kept beside its hub, not in it)."""
    counter = _COUNTERS.get(hub)
    if counter is None:
        counter = _COUNTERS[hub] = AddressCounter()
    return counter


def peer_address(peer: object) -> str:
    """The address part of a transport's ``peername`` ('' for unix sockets and unknowns).

    An IPv4 client of a dual-stack listener appears as ``::ffff:a.b.c.d``; it is
    counted (and matched against ``limit_exempt``) as ``a.b.c.d``."""
    if not (isinstance(peer, tuple) and peer):
        return ""
    address = str(peer[0])
    if address.startswith("::ffff:"):
        with contextlib.suppress(ValueError):
            mapped = ipaddress.IPv6Address(address).ipv4_mapped
            if mapped is not None:
                return str(mapped)
    return address


def refuse_connection(session: Session, address: str) -> None:
    """Tell a connection over the per-address limit why, then close it."""
    session.hub.metrics_disconnect("too_many_connections")
    session.close(
        f"too many connections from {address}",
        notice=Notice(
            text=f"too many connections from {address}; closing",
            code=ErrorCode.TOO_MANY_CONNECTIONS,
        ),
    )
