"""The load generator: client connections speaking Chinwag or IRC, run in worker processes.

A worker process owns a set of connections (receivers, senders or both) on
its own event loop (uvloop when installed) and is driven by the parent over a
pipe: ``setup`` (connect, register, join), ``quiet`` (wait until the join
floods have drained), ``go`` (send / count), ``close``.

Every chat message the bench sends carries ``~G.T~`` in its text: ``G`` is a
global message number (sender * per_sender + sequence) and ``T`` the
intended send time in microseconds of ``time.monotonic_ns`` (one clock for
every process on the machine).  Receivers never decode JSON or IRC lines
while measuring; they find the markers with one regex pass per read:

* ``exact`` mode checks every delivery: per-sender sequence order, gaps,
  duplicates, and each message's own latency;
* ``light`` mode (for rates near a million deliveries per second, where a
  per-line Python loop would make the harness the bottleneck) counts the
  markers and sums ``G`` per read (a loss or a duplicate changes the count
  or the sum), and charges every message in a read the latency of the
  oldest one in it - an upper bound.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any

from bench.reader import Reader
from bench.servers import raise_nofile

MARK = re.compile(rb"~(\d+)\.(\d+)~")
MARK_G = re.compile(rb"~(\d+)\.")
PAD = "the quick brown fox jumps"

# latency histogram: 50 us buckets to 200 ms, then 5 ms buckets to 60 s
_FINE_US = 50
_FINE_N = 4000
_COARSE_US = 5000
_COARSE_N = 12000
HIST_SIZE = _FINE_N + _COARSE_N


def bucket(lat_us: int) -> int:
    if lat_us < _FINE_US * _FINE_N:
        return max(lat_us, 0) // _FINE_US
    return min(_FINE_N + (lat_us - _FINE_US * _FINE_N) // _COARSE_US, HIST_SIZE - 1)


def bucket_upper_us(i: int) -> int:
    if i < _FINE_N:
        return (i + 1) * _FINE_US
    return _FINE_US * _FINE_N + (i - _FINE_N + 1) * _COARSE_US


def now_us() -> int:
    return time.monotonic_ns() // 1000


@dataclass(slots=True)
class Plan:
    """What one worker process does (picklable: it crosses the process boundary)."""

    proto: str  # "chinwag" or "irc"
    host: str
    port: int
    room: str
    #: (nick, sender number or -1 for a pure receiver)
    conns: list[tuple[str, int]]
    senders: int = 0
    per_sender: int = 0
    #: messages per second per sender (0 = burst: everything at once)
    rate: float = 0.0
    exact: bool = True
    #: say with an id and count the acks (Chinwag durable-write scenario)
    acked: bool = False
    #: outstanding acked says per connection
    window: int = 200
    #: acked mode: stop sending after this many seconds
    duration: float = 0.0
    #: only register (scenario c): no join, no traffic
    idle: bool = False
    #: simultaneous connection handshakes
    concurrency: int = 200
    timeout: float = 120.0
    #: "c": hand the sockets to the compiled reader for the measured phase
    #: (pure receivers only); "python": read them here
    reader: str = "python"


@dataclass(slots=True)
class Tally:
    """What a worker counted, summed over its connections (merged by the parent)."""

    connections: int = 0
    deliveries: int = 0
    expected: int = 0
    lost: int = 0
    out_of_order: int = 0
    g_sum: int = 0
    g_expected_sum: int = 0
    bytes_in: int = 0
    first_us: int = 0
    last_us: int = 0
    lat_max_us: int = 0
    hist: list[int] = field(default_factory=lambda: [0] * HIST_SIZE)
    sent: int = 0
    acked: int = 0
    acked_in_window: int = 0
    errors: int = 0
    error_samples: list[str] = field(default_factory=list)
    setup_s: float = 0.0

    def merge(self, other: Tally) -> None:
        for name in (
            "connections",
            "deliveries",
            "expected",
            "lost",
            "out_of_order",
            "g_sum",
            "g_expected_sum",
            "bytes_in",
            "sent",
            "acked",
            "acked_in_window",
            "errors",
        ):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.first_us = (
            min(x for x in (self.first_us, other.first_us) if x)
            if (self.first_us or other.first_us)
            else 0
        )
        self.last_us = max(self.last_us, other.last_us)
        self.lat_max_us = max(self.lat_max_us, other.lat_max_us)
        self.hist = [a + b for a, b in zip(self.hist, other.hist, strict=True)]
        self.error_samples = (self.error_samples + other.error_samples)[:5]
        self.setup_s = max(self.setup_s, other.setup_s)

    def percentile_us(self, p: float) -> int:
        total = sum(self.hist)
        if not total:
            return 0
        need = total * p
        run = 0
        for i, n in enumerate(self.hist):
            run += n
            if run >= need:
                return min(bucket_upper_us(i), self.lat_max_us)
        return self.lat_max_us


class SetupError(Exception):
    pass


class BenchConn(asyncio.Protocol):
    """One client connection; ``handshake`` registers and joins, then it counts."""

    def __init__(self, worker: Worker, nick: str, sender: int) -> None:
        self.w = worker
        self.nick = nick
        self.sender = sender
        self.transport: asyncio.Transport | None = None
        self.buf = b""
        self.measuring = False
        #: measuring in light mode: data_received takes the short path
        self.fast = False
        self.lines_wanted: Callable[[bytes], bool] | None = None
        self.waiter: asyncio.Future[bytes] | None = None
        self.next_seq: list[int] = []
        self.deliveries = 0
        self.expected = 0
        self.g_sum = 0
        self.outstanding = 0
        self.expected_sent = 0
        self.finished = False
        self.closed = asyncio.get_running_loop().create_future()

    # ---- protocol ----------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.closed.done():
            self.closed.set_result(None)
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(SetupError(f"{self.nick}: connection lost"))
        if self.w.running and not self.w.closing:
            self.w.tally.errors += 1
            if len(self.w.tally.error_samples) < 5:
                self.w.tally.error_samples.append(f"{self.nick}: server closed the connection")

    def data_received(self, data: bytes) -> None:
        if self.fast:
            self._fast(data)
            return
        w = self.w
        w.last_rx = time.monotonic()
        buf = self.buf + data if self.buf else data
        cut = buf.rfind(b"\n") + 1
        if cut < len(buf):
            self.buf = buf[cut:]
            if not cut:
                return
            buf = buf[:cut]
        else:
            self.buf = b""
        w.tally.bytes_in += cut
        if self.measuring:
            self._count(buf)
        elif self.waiter is not None:
            self._setup_lines(buf)
        if b"ping" in buf or b"PING" in buf:
            self._answer_pings(buf)

    # ---- setup ---------------------------------------------------------------

    def _setup_lines(self, buf: bytes) -> None:
        want = self.lines_wanted
        assert want is not None and self.waiter is not None
        for line in buf.split(b"\n"):
            if line and want(line) and not self.waiter.done():
                self.waiter.set_result(line)

    async def _until(self, want: Callable[[bytes], bool], timeout: float) -> bytes:
        self.lines_wanted = want
        self.waiter = asyncio.get_running_loop().create_future()
        try:
            async with asyncio.timeout(timeout):
                return await self.waiter
        except TimeoutError:
            raise SetupError(f"{self.nick}: no answer in {timeout:.0f}s") from None
        finally:
            self.waiter = None

    def write(self, data: bytes) -> None:
        assert self.transport is not None
        self.transport.write(data)

    async def handshake(self, plan: Plan) -> None:
        t = plan.timeout
        if plan.proto == "chinwag":
            self.write(b'{"type":"hello","id":1,"protocol":1,"nick":"%s"}\n' % self.nick.encode())
            line = await self._until(lambda ln: b'"id":1' in ln, t)
            if b'"type":"ok"' not in line:
                raise SetupError(f"{self.nick}: hello refused: {line[:200]!r}")
            if plan.idle:
                return
            room = f"{plan.room}-{self.sender}" if plan.acked else plan.room
            self.write(b'{"type":"join","id":2,"room":"%s"}\n' % room.encode())
            line = await self._until(lambda ln: b'"id":2' in ln, t)
            if not line.startswith(b'{"type":"ok"'):
                raise SetupError(f"{self.nick}: join refused: {line[:200]!r}")
        else:
            n = self.nick.encode()
            self.write(b"NICK %s\r\nUSER %s 0 * :%s\r\n" % (n, n, n))
            line = await self._until(lambda ln: b" 001 " in ln or b"ERROR" in ln[:6], t)
            if b" 001 " not in line:
                raise SetupError(f"{self.nick}: registration refused: {line[:200]!r}")
            if plan.idle:
                return
            self.write(b"JOIN #%s\r\n" % plan.room.encode())
            line = await self._until(lambda ln: b" 366 " in ln or b" 4" in ln[:40], t)
            if b" 366 " not in line:
                raise SetupError(f"{self.nick}: join refused: {line[:200]!r}")

    def _answer_pings(self, buf: bytes) -> None:
        for line in buf.split(b"\n"):
            if line.startswith(b"PING"):
                self.write(b"PONG" + line[4:].rstrip(b"\r") + b"\r\n")
            elif line.startswith(b'{"type":"ping"'):
                self.write(b'{"type":"pong"}\n')

    # ---- measuring -----------------------------------------------------------

    def _fast(self, data: bytes) -> None:
        """Light mode, the hot path of the whole harness: count, sum, one latency."""
        buf = self.buf + data if self.buf else data
        cut = buf.rfind(b"\n") + 1
        self.buf = buf[cut:] if cut < len(buf) else b""
        self.w.tally.bytes_in += cut
        self._light(buf, cut)
        if b"ping" in buf or b"PING" in buf:
            self._answer_pings(buf)

    def _light(self, buf: bytes, end: int) -> None:
        """Count the markers in ``buf[:end]`` and sum their numbers (a loss or a
        duplicate changes the count or the sum); charge them all the latency of
        the oldest one."""
        gs = MARK_G.findall(buf, 0, end)
        n = len(gs)
        if not n:
            return
        now = now_us()
        tally = self.w.tally
        m = MARK.search(buf)
        assert m is not None
        lat = now - int(m.group(2))
        tally.hist[bucket(lat)] += n
        if lat > tally.lat_max_us:
            tally.lat_max_us = lat
        self.g_sum += sum(map(int, gs))
        self._delivered(n, now)

    def _delivered(self, n: int, now: int) -> None:
        self.deliveries += n
        tally = self.w.tally
        tally.deliveries += n
        if not tally.first_us:
            tally.first_us = now
        tally.last_us = now
        if self.deliveries >= self.expected and not self.finished:
            self.finished = True
            self.w.conn_done()

    def _count(self, buf: bytes) -> None:
        w = self.w
        if w.plan.exact:
            tally = w.tally
            now = now_us()
            hist = tally.hist
            per = w.plan.per_sender
            nxt = self.next_seq
            found = MARK.findall(buf)
            n = len(found)
            for g_b, t_b in found:
                g = int(g_b)
                s, q = divmod(g, per)
                exp = nxt[s]
                if q >= exp:
                    nxt[s] = q + 1  # q > exp is a gap: lost unless it turns up late
                else:
                    tally.out_of_order += 1  # late or duplicated
                lat = now - int(t_b)
                hist[bucket(lat)] += 1
                if lat > tally.lat_max_us:
                    tally.lat_max_us = lat
                self.g_sum += g
            if n:
                self._delivered(n, now)
        else:
            self._light(buf, len(buf))
        if self.w.plan.acked:
            self._acks(buf)

    def _acks(self, buf: bytes) -> None:
        w = self.w
        ok = buf.count(b'{"type":"ok"')
        err = buf.count(b'{"type":"error"')
        if err:
            w.tally.errors += err
            if len(w.tally.error_samples) < 5:
                i = buf.find(b'{"type":"error"')
                w.tally.error_samples.append(buf[i : buf.find(b"\n", i)].decode(errors="replace"))
        done = ok + err
        if not done:
            return
        w.tally.acked += ok
        if w.sending:
            w.tally.acked_in_window += ok
        self.outstanding -= done
        if w.sending:
            self._send_acked(done)
        elif self.outstanding <= 0 and not self.finished:
            self.finished = True
            w.conn_done()

    def _send_acked(self, n: int) -> None:
        w = self.w
        base = self.sender * w.plan.per_sender
        room = b"%s-%d" % (w.plan.room.encode(), self.sender)
        out = []
        for _ in range(n):
            q = self.expected_sent
            self.expected_sent += 1
            out.append(
                b'{"type":"say","id":%d,"room":"%s","text":"~%d.%d~ %s"}\n'
                % (q, room, base + q, now_us(), PAD.encode())
            )
        self.outstanding += n
        w.tally.sent += n
        self.write(b"".join(out))


class Worker:
    """Runs one :class:`Plan` in this process; commands come over ``pipe``."""

    def __init__(self, plan: Plan, pipe: Connection) -> None:
        self.plan = plan
        self.pipe = pipe
        self.conns: list[BenchConn] = []
        self.tally = Tally()
        self.last_rx = time.monotonic()
        self.running = False
        self.closing = False
        self.sending = False
        self.pending = 0
        self.all_done: asyncio.Event | None = None

    def conn_done(self) -> None:
        self.pending -= 1
        if self.pending <= 0 and self.all_done is not None:
            self.all_done.set()

    async def _open(self, nick: str, sender: int, sem: asyncio.Semaphore) -> BenchConn:
        loop = asyncio.get_running_loop()
        async with sem:
            # a full accept queue (ngircd listens with a short backlog) shows up as a
            # refused or reset connection: try again a few times before giving up
            for attempt in range(6):
                try:
                    _, conn = await loop.create_connection(
                        lambda: BenchConn(self, nick, sender), self.plan.host, self.plan.port
                    )
                    await conn.handshake(self.plan)
                    return conn
                except (OSError, SetupError) as exc:
                    if attempt == 5 or (
                        isinstance(exc, SetupError) and "connection lost" not in str(exc)
                    ):
                        raise
                    await asyncio.sleep(0.2 * (attempt + 1))
            raise AssertionError("unreachable")

    async def setup(self) -> None:
        started = time.monotonic()
        sem = asyncio.Semaphore(self.plan.concurrency)
        tasks = [asyncio.ensure_future(self._open(n, s, sem)) for n, s in self.plan.conns]
        try:
            self.conns = list(await asyncio.gather(*tasks))
        except BaseException:
            for t in tasks:
                t.cancel()
            raise
        self.running = True
        self.tally.connections = len(self.conns)
        self.tally.setup_s = time.monotonic() - started

    async def quiet(self, seconds: float) -> None:
        # polls a timestamp data_received keeps: an Event per read would cost more
        while time.monotonic() - self.last_rx < seconds:  # noqa: ASYNC110
            await asyncio.sleep(seconds / 4)

    async def go(self, start_us: int) -> None:
        plan = self.plan
        loop = asyncio.get_running_loop()
        self.all_done = asyncio.Event()
        total = plan.senders * plan.per_sender
        self.pending = len(self.conns)
        for c in self.conns:
            c.measuring = True
            c.fast = not plan.exact and not plan.acked
            c.next_seq = [0] * max(plan.senders, 1)
            own = plan.per_sender if c.sender >= 0 else 0
            c.expected = 0 if plan.acked else total - own
            if c.expected <= 0 and not plan.acked:
                self.pending -= 1
        self.tally.expected = sum(c.expected for c in self.conns)
        self.tally.g_expected_sum = sum(
            _g_sum(plan, exclude=c.sender if c.sender >= 0 else None)
            for c in self.conns
            if c.expected
        )
        if self.pending <= 0 and not any(c.sender >= 0 for c in self.conns):
            self.all_done.set()
        if plan.reader == "c":
            await self._go_compiled(start_us)
            return
        delay = (start_us - now_us()) / 1e6
        if delay > 0:
            await asyncio.sleep(delay)
        senders = [c for c in self.conns if c.sender >= 0]
        if plan.acked:
            self.sending = True
            for c in senders:
                c._send_acked(plan.window)
            await asyncio.sleep(plan.duration)
            self.sending = False
            self.tally.last_us = now_us()
            self.tally.first_us = start_us
        elif plan.rate <= 0:
            for c in senders:
                c.write(_burst(plan, c.sender, now_us()))
            self.tally.sent += len(senders) * plan.per_sender
        else:
            await self._paced(senders, start_us, loop)
        if self.pending > 0:
            try:
                async with asyncio.timeout(plan.timeout):
                    await self.all_done.wait()
            except TimeoutError:
                pass
        for c in self.conns:
            if not plan.acked:
                self.tally.g_sum += c.g_sum
        if not plan.acked:
            unique = self.tally.deliveries - self.tally.out_of_order
            self.tally.lost = self.tally.expected - unique

    async def _go_compiled(self, start_us: int) -> None:
        """The measured phase read by ``bench/reader.c`` (pure receivers only)."""
        plan = self.plan
        if any(c.sender >= 0 for c in self.conns) or plan.acked or plan.idle:
            raise SetupError("the compiled reader takes pure receivers only")
        fds = []
        for c in self.conns:
            assert c.transport is not None
            c.transport.pause_reading()
            if c.buf:
                raise SetupError(f"{c.nick}: unread partial line before the measured phase")
            fds.append((c.transport.get_extra_info("socket").fileno(), c.expected))
        sending_s = plan.per_sender / plan.rate if plan.rate > 0 else 0.0
        timeout = max(start_us - now_us(), 0) / 1e6 + sending_s + plan.timeout
        reader = await Reader.start(
            fds, senders=plan.senders, per_sender=plan.per_sender, timeout=timeout
        )
        got = await reader.result()
        part = Tally(
            deliveries=got.deliveries,
            out_of_order=got.out_of_order,
            g_sum=got.g_sum,
            bytes_in=got.bytes_in,
            first_us=got.first_us,
            last_us=got.last_us,
            lat_max_us=got.lat_max_us,
            errors=got.errors,
            error_samples=[got.error_sample] if got.error_sample else [],
        )
        for i, n in got.hist:
            part.hist[i] += n
        tally = self.tally
        tally.merge(part)
        tally.lost = tally.expected - (tally.deliveries - tally.out_of_order)

    async def _paced(self, senders: list[BenchConn], start_us: int, loop: Any) -> None:
        plan = self.plan
        interval_us = 1e6 / plan.rate
        sent = [0] * len(senders)
        room = plan.room.encode()
        per = plan.per_sender
        while True:
            now = now_us()
            left = 0
            for i, c in enumerate(senders):
                k = sent[i]
                due = min(per, int((now - start_us) / interval_us) + 1)
                if due > k:
                    base = c.sender * per
                    c.write(
                        b"".join(
                            _line(plan.proto, room, base + q, start_us + int(q * interval_us))
                            for q in range(k, due)
                        )
                    )
                    self.tally.sent += due - k
                    sent[i] = due
                left += per - sent[i]
            if not left:
                return
            await asyncio.sleep(0.001)

    def close(self) -> None:
        self.closing = True
        for c in self.conns:
            if c.transport is not None:
                c.transport.abort()


def _g_sum(plan: Plan, exclude: int | None) -> int:
    per = plan.per_sender
    total = plan.senders * per
    s = total * (total - 1) // 2
    if exclude is not None:
        lo = exclude * per
        s -= per * lo + per * (per - 1) // 2
    return s


def _line(proto: str, room: bytes, g: int, t_us: int) -> bytes:
    if proto == "chinwag":
        return b'{"type":"say","room":"%s","text":"~%d.%d~ %s"}\n' % (
            room,
            g,
            t_us,
            PAD.encode(),
        )
    return b"PRIVMSG #%s :~%d.%d~ %s\r\n" % (room, g, t_us, PAD.encode())


def _burst(plan: Plan, sender: int, t_us: int) -> bytes:
    room = plan.room.encode()
    base = sender * plan.per_sender
    return b"".join(_line(plan.proto, room, base + q, t_us) for q in range(plan.per_sender))


def worker_main(plan: Plan, pipe: Connection) -> None:
    """Entry point of a worker process."""
    raise_nofile()
    with contextlib.suppress(ImportError):
        import uvloop

        uvloop.install()
    asyncio.run(_serve(plan, pipe))


async def _serve(plan: Plan, pipe: Connection) -> None:
    loop = asyncio.get_running_loop()
    worker = Worker(plan, pipe)
    while True:
        cmd: tuple[Any, ...] = await loop.run_in_executor(None, pipe.recv)
        try:
            if cmd[0] == "setup":
                await worker.setup()
                pipe.send(("ready", worker.tally.connections, worker.tally.setup_s))
            elif cmd[0] == "quiet":
                await worker.quiet(cmd[1])
                pipe.send(("quiet",))
            elif cmd[0] == "go":
                await worker.go(cmd[1])
                pipe.send(("done", worker.tally))
            elif cmd[0] == "close":
                worker.close()
                await asyncio.sleep(0.05)
                pipe.send(("closed",))
                return
        except Exception as exc:  # the parent reports it; the worker must not hang
            pipe.send(("error", f"{type(exc).__name__}: {exc}"))
            worker.close()
            return


def tally_to_json(t: Tally) -> str:
    return json.dumps({k: getattr(t, k) for k in t.__dataclass_fields__ if k != "hist"})
