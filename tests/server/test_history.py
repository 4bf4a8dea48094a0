"""History paging, and history surviving restarts on the same data directory."""

from __future__ import annotations

import signal
from pathlib import Path

from server.config import Settings
from tests.conftest import ClientFactory
from tests.helpers.wire import WireClient


def texts(reply: dict[str, object]) -> list[str]:
    msgs = reply["messages"]
    assert isinstance(msgs, list)
    return [m["text"] for m in msgs]


async def fill(c: WireClient, room: str, n: int) -> list[str]:
    await c.ok("join", room=room)
    ids = []
    for i in range(n):
        ids.append((await c.ok("say", room=room, text=f"m{i}"))["msg_id"])
    return ids


async def test_paging_before_after_limit(connect: ClientFactory) -> None:
    a = await connect("alice")
    ids = await fill(a, "dev", 12)
    assert texts(await a.ok("history", room="dev")) == [f"m{i}" for i in range(12)]
    assert texts(await a.ok("history", room="dev", limit=3)) == ["m9", "m10", "m11"]
    page = await a.ok("history", room="dev", before=ids[9], limit=3)
    assert texts(page) == ["m6", "m7", "m8"]
    oldest = page["messages"][0]["msg_id"]
    assert texts(await a.ok("history", room="dev", before=oldest, limit=100)) == [
        f"m{i}" for i in range(6)
    ]
    assert texts(await a.ok("history", room="dev", before=ids[0])) == []
    assert texts(await a.ok("history", room="dev", after=ids[2], limit=4)) == [
        "m3",
        "m4",
        "m5",
        "m6",
    ]
    assert texts(await a.ok("history", room="dev", after=ids[-1])) == []
    assert texts(await a.ok("history", room="dev", after="000000000000", limit=2)) == [
        "m0",
        "m1",
    ]


async def test_walk_all_pages_backwards(connect: ClientFactory) -> None:
    a = await connect("alice")
    await fill(a, "dev", 25)
    await fill(a, "other", 3)  # interleaved ids must not leak between rooms
    seen: list[str] = []
    before: str | None = None
    while True:
        fields = {"room": "dev", "limit": 7} | ({"before": before} if before else {})
        msgs = (await a.ok("history", **fields))["messages"]
        if not msgs:
            break
        seen = [m["text"] for m in msgs] + seen
        before = msgs[0]["msg_id"]
    assert seen == [f"m{i}" for i in range(25)]


async def test_history_sees_unacknowledged_fire_and_forget(connect: ClientFactory) -> None:
    a = await connect("alice")
    await a.ok("join", room="dev")
    for i in range(50):
        await a.send(type="say", room="dev", text=f"f{i}")
    # no ok to wait for: history must still include every message sent before it
    assert len((await a.ok("history", room="dev", limit=200))["messages"]) == 50


async def test_history_after_in_process_restart(make_server, settings: Settings) -> None:
    srv = await make_server()
    c = await WireClient.connect(srv.host, srv.port)
    await c.hello("alice")
    ids = await fill(c, "dev", 5)
    await c.ok("topic", room="dev", topic="kept")
    await c.close()
    await srv.close()

    srv2 = await make_server()
    d = await WireClient.connect(srv2.host, srv2.port)
    try:
        await d.hello("bob")
        assert texts(await d.ok("history", room="dev")) == [f"m{i}" for i in range(5)]
        joined = await d.ok("join", room="dev")
        assert joined["topic"] == "kept"
        assert [m["msg_id"] for m in joined["history"]] == ids
        # ids keep increasing across restarts
        new = (await d.ok("say", room="dev", text="after"))["msg_id"]
        assert new > ids[-1]
    finally:
        await d.close()


async def test_history_after_process_restart(server_process, tmp_path: Path) -> None:
    proc = server_process()
    c = await WireClient.connect(proc.host, proc.port)
    await c.hello("alice")
    ids = await fill(c, "dev", 5)
    await c.ok("msg", to="alice", text="dm kept")
    await c.close()
    assert proc.stop(signal.SIGTERM) == 0

    proc.start()
    d = await WireClient.connect(proc.host, proc.port)
    try:
        await d.hello("bob")
        page = await d.ok("history", room="dev")
        assert [m["msg_id"] for m in page["messages"]] == ids
        assert texts(page) == [f"m{i}" for i in range(5)]
    finally:
        await d.close()
    assert proc.stop(signal.SIGTERM) == 0
