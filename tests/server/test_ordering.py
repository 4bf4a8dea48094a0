"""Ordering rules: a `say` is acknowledged only once durable, replies match by id.

Another process holding the database's write lock makes "not yet durable"
last as long as the test wants, so these orderings are deterministic.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.conftest import ClientFactory


@contextmanager
def write_locked(db: Path) -> Iterator[None]:
    blocker = sqlite3.connect(db, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    try:
        yield
    finally:
        blocker.rollback()
        blocker.close()


async def test_say_ok_waits_for_durability(make_server, connect: ClientFactory) -> None:
    srv = await make_server()
    a = await connect("alice", srv=srv)
    b = await connect("bob", srv=srv)
    await a.ok("join", room="lobby")
    await b.ok("join", room="lobby")
    await a.expect("joined", room="lobby", nick="bob")
    with write_locked(srv.settings.db_path):
        await a.send(type="say", id="s", room="lobby", text="in flight")
        # the room-mate sees the message before its sender has the ok ...
        msg = await b.expect("message", room="lobby")
        # ... and later requests are answered before it
        assert (await a.ok("ping"))["type"] == "ok"
        assert (await a.ok("who", room="lobby"))["members"] == ["alice", "bob"]
        await a.silent(0.2, type="ok")
        # history waits too, so it can never miss the message
        await b.send(type="history", id="h", room="lobby")
        await b.silent(0.2, type="ok")
    ack = await a.reply("s")
    assert ack["msg_id"] == msg["msg_id"] and ack["ts"] == msg["ts"]
    page = await b.reply("h")
    assert [m["text"] for m in page["messages"]] == ["in flight"]


async def test_acks_come_in_commit_order_ids_increase(connect: ClientFactory) -> None:
    a = await connect("alice")
    await a.ok("join", room="lobby")
    for i in range(20):
        await a.send(type="say", id=i, room="lobby", text=f"m{i}")
    acks = [await a.reply(i) for i in range(20)]
    ids = [r["msg_id"] for r in acks]
    assert ids == sorted(ids) and len(set(ids)) == 20


@pytest.mark.slow
async def test_storage_failure_is_reported_and_survived(
    make_server, connect: ClientFactory
) -> None:
    """A database locked past SQLite's busy timeout (5 s): the say fails cleanly."""
    srv = await make_server()
    a = await connect("alice", srv=srv)
    await a.ok("join", room="lobby")
    with write_locked(srv.settings.db_path):
        reply = await a.request("say", timeout=30, room="lobby", text="lost")
    assert reply["type"] == "error" and reply["code"] == "storage_failed", reply
    await a.ok("say", room="lobby", text="kept")
    page = await a.ok("history", room="lobby")
    assert [m["text"] for m in page["messages"]] == ["kept"]
    # nor is the lost message replayed to someone joining later
    b = await connect("bob", srv=srv)
    joined = await b.ok("join", room="lobby")
    assert [m["text"] for m in joined["history"]] == ["kept"]
