"""Graceful shutdown: acknowledged messages are never lost, clients are told."""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import sqlite3

import pytest

from tests.conftest import ClientFactory
from tests.helpers.process import ServerProcess
from tests.helpers.wire import WireClient, check_server_message
from tests.server.waiting import eventually


async def test_shutting_down_refuses_new_work(make_server, connect: ClientFactory) -> None:
    srv = await make_server()
    a = await connect("alice", srv=srv)
    b = await connect("bob", srv=srv)
    late = await connect(srv=srv)
    await a.ok("join", room="lobby")
    await b.ok("join", room="lobby")
    await a.expect("joined", room="lobby", nick="bob")
    # another process holds the database's write lock, so the next write waits
    blocker = sqlite3.connect(srv.settings.db_path, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    try:
        await a.send(type="say", id="pending", room="lobby", text="accepted before shutdown")
        await b.expect("message", room="lobby")
        closing = asyncio.create_task(srv.close())
        await eventually(lambda: srv.hub.shutting_down, timeout=5)
        await b.error("say", "shutting_down", room="lobby", text="too late")
        await b.error("msg", "shutting_down", to="alice", text="too late")
        await late.error("hello", "shutting_down", nick="carol", protocol=1)
    finally:
        blocker.rollback()
        blocker.close()
    ack = await a.reply("pending")
    assert ack["type"] == "ok"
    for c in (a, b, late):
        got = await c.closed()
        assert got and got[-1] == {
            "type": "notice",
            "text": got[-1]["text"],
            "code": "shutdown",
        }
        await c.close()  # hang up like a real client, so the server need not linger
    # nobody is told that the others "left" on shutdown
    assert not [m for m in a.received + b.received if m["type"] == "left"]
    await closing


class Chatter:
    """Pipelines `say` requests as fast as the server takes them; records every ack."""

    def __init__(self, client: WireClient, nick: str) -> None:
        self.client = client
        self.nick = nick
        self.acked: set[str] = set()
        self.notices: list[dict[str, object]] = []
        self.errors: list[dict[str, object]] = []

    async def send_loop(self) -> None:
        n = 0
        with contextlib.suppress(ConnectionError, OSError):
            while True:
                n += 1
                line = {"type": "say", "id": n, "room": "lobby", "text": f"{self.nick} {n}"}
                self.client.writer.write(json.dumps(line).encode() + b"\n")
                await self.client.writer.drain()
                if n % 20 == 0:
                    await asyncio.sleep(0.005)

    async def read_loop(self) -> None:
        reader = self.client.reader
        with contextlib.suppress(ConnectionError):
            while line := await reader.readline():
                msg = json.loads(line)
                check_server_message(msg, "say" if "id" in msg else None)
                if msg["type"] == "ok":
                    self.acked.add(msg["msg_id"])
                elif msg["type"] == "notice":
                    self.notices.append(msg)
                elif msg["type"] == "error":
                    self.errors.append(msg)
        self.client.writer.close()  # like any client: the server hung up, so hang up


async def all_history(proc: ServerProcess) -> set[str]:
    c = await WireClient.connect(proc.host, proc.port)
    try:
        await c.hello("auditor")
        ids: set[str] = set()
        after = "000000000000"
        while True:
            page = (await c.ok("history", room="lobby", after=after, limit=200))["messages"]
            if not page:
                return ids
            ids.update(m["msg_id"] for m in page)
            after = page[-1]["msg_id"]
    finally:
        await c.close()


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
async def test_signal_while_clients_send_loses_no_acked_message(server_process, sig: int) -> None:
    # rate limits off: this test is about shutdown, not about how fast clients may send
    proc = server_process("--history-sync", "full", "--rate-requests", "0")
    chatters = []
    for nick in ("ann", "ben", "cat"):
        c = await WireClient.connect(proc.host, proc.port)
        await c.hello(nick)
        await c.ok("join", room="lobby")
        chatters.append(Chatter(c, nick))
    tasks = [asyncio.create_task(t) for ch in chatters for t in (ch.send_loop(), ch.read_loop())]
    await eventually(lambda: sum(len(ch.acked) for ch in chatters) >= 100)
    code = await asyncio.to_thread(proc.stop, sig)
    assert code == 0, proc.output
    assert proc.stop_seconds < 10
    async with asyncio.timeout(10):
        await asyncio.gather(*tasks)
    for ch in chatters:
        assert [n["code"] for n in ch.notices] == ["shutdown"], ch.notices
        assert {e["code"] for e in ch.errors} <= {"shutting_down"}
        await ch.client.close()
    assert "Traceback" not in proc.output

    proc.start()
    stored = await all_history(proc)
    acked = set().union(*(ch.acked for ch in chatters))
    assert len(acked) >= 100
    assert acked <= stored, f"{len(acked - stored)} acknowledged messages lost"
    assert await asyncio.to_thread(proc.stop, signal.SIGTERM) == 0


async def test_client_that_never_hangs_up_is_cut_off_after_grace(
    make_server, connect: ClientFactory
) -> None:
    srv = await make_server(shutdown_grace=0.5, rate_requests=0)
    stubborn = await connect("stubborn", srv=srv)
    flooder = await connect("flooder", srv=srv)
    await flooder.ok("join", room="lobby")
    flooder.writer.write(b'{"type":"ping"}\n' * 10_000)  # unread input at close time
    async with asyncio.timeout(10):
        await srv.close()
    for c in (stubborn, flooder):
        got = await c.closed()
        assert got and got[-1]["type"] == "notice" and got[-1]["code"] == "shutdown", got
