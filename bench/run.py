"""Run one scenario against one server: start it, drive the workers, measure it."""

from __future__ import annotations

import contextlib
import multiprocessing as mp
import sqlite3
import time
from dataclasses import dataclass, field, replace
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from bench.load import Plan, Tally, now_us, worker_main
from bench.procstat import cpu_seconds, peak_rss_kib, rss_kib
from bench.profile import Profiler
from bench.servers import Chinwag, Ngircd, ServerUnderTest


class BenchError(RuntimeError):
    """A run could not be completed (server or worker failure); the message says why."""


@dataclass(slots=True)
class Result:
    scenario: str
    target: str
    tally: Tally
    wall_s: float = 0.0
    cpu_s: float = 0.0
    peak_rss_kib: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def deliveries_per_s(self) -> float:
        t = self.tally
        span = (t.last_us - t.first_us) / 1e6 if t.last_us > t.first_us else self.wall_s
        return t.deliveries / span if span > 0 else 0.0

    @property
    def cpu_us_per_delivery(self) -> float:
        d = self.tally.deliveries
        return self.cpu_s * 1e6 / d if d else 0.0


def make_server(
    target: str, *, history_sync: str = "normal", flags: tuple[str, ...] = ()
) -> ServerUnderTest:
    if target == "chinwag":
        return Chinwag(*flags, history_sync=history_sync)
    if target == "ngircd":
        return Ngircd()
    raise ValueError(f"unknown target {target!r}")


def _with_log(srv: ServerUnderTest, exc: BenchError) -> BenchError:
    tail = "\n".join(srv.output().splitlines()[-15:])
    return BenchError(f"{exc}\n--- last lines of the {srv.name} log ---\n{tail}")


class Workers:
    """Worker processes, each with its own pipe; every command goes to all of them."""

    def __init__(self, plans: list[Plan]) -> None:
        ctx = mp.get_context("spawn")
        self.pipes: list[Connection] = []
        self.procs: list[Any] = []
        for plan in plans:
            parent, child = ctx.Pipe()
            proc = ctx.Process(target=worker_main, args=(plan, child), daemon=True)
            proc.start()
            self.pipes.append(parent)
            self.procs.append(proc)

    def ask(self, cmd: tuple[Any, ...], expect: str, timeout: float) -> list[tuple[Any, ...]]:
        for p in self.pipes:
            p.send(cmd)
        answers = []
        deadline = time.monotonic() + timeout
        for p, proc in zip(self.pipes, self.procs, strict=True):
            while not p.poll(0.2):
                if time.monotonic() > deadline:
                    raise BenchError(f"worker gave no answer to {cmd[0]} in {timeout:.0f}s")
                if not proc.is_alive():
                    raise BenchError(f"a worker died during {cmd[0]}")
            try:
                msg = p.recv()
            except (EOFError, OSError):
                raise BenchError(f"a worker died during {cmd[0]}") from None
            if msg[0] == "error":
                raise BenchError(f"worker failed during {cmd[0]}: {msg[1]}")
            if msg[0] != expect:
                raise BenchError(f"worker answered {msg[0]} to {cmd[0]}")
            answers.append(msg)
        return answers

    def cpu_seconds(self) -> float:
        """CPU seconds of the worker processes and the readers they have waited for."""
        return sum(cpu_seconds(p.pid, children=True) for p in self.procs)

    def close(self) -> None:
        for p in self.pipes:
            with contextlib.suppress(OSError):
                p.send(("close",))
        for proc in self.procs:
            proc.join(10)
            if proc.is_alive():
                proc.kill()
                proc.join()

    def __enter__(self) -> Workers:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _split(items: list[Any], n: int) -> list[list[Any]]:
    return [items[i::n] for i in range(n)]


def fanout(
    scenario: str,
    target: str,
    *,
    receivers: int,
    senders: int,
    messages: int,
    rate: float = 0.0,
    procs: int = 1,
    exact: bool = True,
    reader: str = "python",
    room: str = "bench",
    timeout: float = 120.0,
    server_flags: tuple[str, ...] = (),
    profile: Path | None = None,
) -> Result:
    """N receivers and S senders in one room; burst (rate 0) or ``rate`` msgs/s per sender."""
    base = Plan(
        proto="chinwag" if target == "chinwag" else "irc",
        host="127.0.0.1",
        port=0,
        room=room,
        conns=[],
        senders=senders,
        per_sender=messages,
        rate=rate,
        exact=exact,
        timeout=timeout,
    )
    recv = [(f"r{i}", -1) for i in range(receivers)]
    send = [(f"s{i}", i) for i in range(senders)]
    with make_server(target, flags=server_flags) as srv:
        srv.start()
        base.port = srv.port
        plans = [replace(base, conns=part, reader=reader) for part in _split(recv, procs) if part]
        plans.append(replace(base, conns=send))
        started = time.monotonic()
        with Workers(plans) as workers:
            try:
                answers = workers.ask(("setup",), "ready", timeout)
            except BenchError as exc:
                raise _with_log(srv, exc) from None
            setup_s = time.monotonic() - started
            workers.ask(("quiet", 0.5), "quiet", timeout)
            prof = Profiler(srv.pid, profile) if profile and target == "chinwag" else None
            cpu0 = cpu_seconds(srv.pid)
            harness0 = workers.cpu_seconds()
            t0 = time.monotonic()
            done = workers.ask(
                ("go", now_us() + 100_000), "done", timeout + messages / max(rate, 1)
            )
            wall = time.monotonic() - t0
            cpu1 = cpu_seconds(srv.pid)
            harness_cpu = workers.cpu_seconds() - harness0
            if prof is not None:
                prof.stop()
            peak = peak_rss_kib(srv.pid)
        if not srv.alive():
            raise BenchError(f"{target} died during the run:\n{srv.output()[-2000:]}")
    tally = Tally()
    for msg in done:
        tally.merge(msg[1])
    res = Result(scenario, target, tally, wall, cpu1 - cpu0, peak)
    res.extra["setup_s"] = setup_s
    res.extra["reader"] = reader
    res.extra["harness_cpu_s"] = harness_cpu
    res.extra["connections"] = sum(a[1] for a in answers)
    return res


def idle(
    scenario: str, target: str, *, connections: int, procs: int = 1, timeout: float = 300.0
) -> Result:
    """``connections`` registered, idle clients: what does each cost the server in RSS?"""
    plan = Plan(
        proto="chinwag" if target == "chinwag" else "irc",
        host="127.0.0.1",
        port=0,
        room="idle",
        conns=[],
        idle=True,
        timeout=timeout,
    )
    conns = [(f"i{i}", -1) for i in range(connections)]
    with make_server(target) as srv:
        srv.start()
        plan.port = srv.port
        time.sleep(0.5)
        rss0 = rss_kib(srv.pid)
        cpu0 = cpu_seconds(srv.pid)
        started = time.monotonic()
        with Workers([replace(plan, conns=part) for part in _split(conns, procs)]) as workers:
            answers = workers.ask(("setup",), "ready", timeout)
            setup_s = time.monotonic() - started
            time.sleep(1.0)
            rss1 = rss_kib(srv.pid)
            cpu1 = cpu_seconds(srv.pid)
            peak = peak_rss_kib(srv.pid)
            alive = srv.alive()
        if not alive:
            raise BenchError(f"{target} died during the run:\n{srv.output()[-2000:]}")
    tally = Tally()
    tally.connections = sum(a[1] for a in answers)
    res = Result(scenario, target, tally, setup_s, cpu1 - cpu0, peak)
    res.extra.update(
        rss_before_kib=rss0,
        rss_after_kib=rss1,
        rss_per_conn_bytes=(rss1 - rss0) * 1024 / max(tally.connections, 1),
        setup_s=setup_s,
        connections=tally.connections,
    )
    return res


def history(
    scenario: str,
    *,
    senders: int,
    duration: float,
    window: int,
    history_sync: str,
    timeout: float = 120.0,
) -> Result:
    """Acknowledged (durable) ``say`` per second: each sender in its own room, ``window``
    requests in flight; afterwards the database must hold every acknowledged message."""
    plan = Plan(
        proto="chinwag",
        host="127.0.0.1",
        port=0,
        room="hist",
        conns=[(f"w{i}", i) for i in range(senders)],
        senders=senders,
        per_sender=10**9,
        acked=True,
        window=window,
        duration=duration,
        timeout=timeout,
    )
    with Chinwag(history_sync=history_sync) as srv:
        srv.start()
        plan.port = srv.port
        with Workers([plan]) as workers:
            workers.ask(("setup",), "ready", timeout)
            cpu0 = cpu_seconds(srv.pid)
            done = workers.ask(("go", now_us() + 100_000), "done", timeout + duration)
            cpu1 = cpu_seconds(srv.pid)
            peak = peak_rss_kib(srv.pid)
        srv.stop()
        with sqlite3.connect(srv.db_path) as db:
            rows = db.execute("SELECT COUNT(*) FROM messages").fetchone()[0]
    tally = done[0][1]
    res = Result(scenario, "chinwag", tally, duration, cpu1 - cpu0, peak)
    res.extra.update(
        history_sync=history_sync,
        acked_per_s=tally.acked_in_window / duration,
        rows_in_db=rows,
        sent=tally.sent,
        acked=tally.acked,
    )
    return res
