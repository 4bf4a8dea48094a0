"""Keep-alive: the server pings quiet clients, drops silent ones and stalled handshakes."""

from __future__ import annotations

import asyncio

from tests.conftest import ClientFactory

FAST = {"ping_interval": 0.4, "idle_timeout": 1.6, "handshake_timeout": 0.6}


async def test_ping_pong_keeps_client_silent_one_dropped(
    make_server, connect: ClientFactory
) -> None:
    srv = await make_server(**FAST)
    alive = await connect("alive", srv=srv)
    silent = await connect("silent", srv=srv)
    watcher = await connect("watcher", srv=srv)
    for c in (alive, silent, watcher):
        await c.ok("join", room="lobby")

    async def answer_pings(until: asyncio.Event) -> int:
        pings = 0
        while not until.is_set():
            try:
                msg = await alive.next(timeout=0.2)
            except TimeoutError:
                continue
            if msg["type"] == "ping":
                pings += 1
                await alive.send(type="pong")
        return pings

    async def keep_watcher_alive(until: asyncio.Event) -> None:
        while not until.is_set():
            await watcher.send(type="pong")
            await asyncio.sleep(0.1)

    done = asyncio.Event()
    pinger = asyncio.create_task(answer_pings(done))
    keeper = asyncio.create_task(keep_watcher_alive(done))
    try:
        # the silent client is pinged, then dropped with a notice
        got = await silent.closed(timeout=10)
        types = [m["type"] for m in got]
        assert "ping" in types
        notice = got[-1]
        assert notice["type"] == "notice" and notice["code"] == "idle_timeout"
        left = await watcher.expect("left", room="lobby", nick="silent")
        assert left["reason"] == "ping timeout"
        # wait more than a whole idle_timeout: the ponging client stays
        await asyncio.sleep(FAST["idle_timeout"] * 1.5)
    finally:
        done.set()
        pings = await pinger
        await keeper
    assert pings >= 1
    assert alive.inbox == [] or all(m["type"] != "notice" for m in alive.inbox)
    assert (await alive.ok("who", room="lobby"))["members"] == ["alive", "watcher"]


async def test_talking_client_needs_no_pong(make_server, connect: ClientFactory) -> None:
    srv = await make_server(**FAST)
    c = await connect("chatty", srv=srv)
    for _ in range(15):
        await c.ok("ping")
        await asyncio.sleep(0.1)
    assert await c.ok("rooms")


async def test_handshake_timeout(make_server, connect: ClientFactory) -> None:
    srv = await make_server(**FAST)
    lurker = await connect(srv=srv)
    got = await lurker.closed(timeout=10)
    assert got[-1]["type"] == "notice" and got[-1]["code"] == "handshake_timeout"
    # pings or bad requests do not count as a handshake
    stubborn = await connect(srv=srv)
    await stubborn.error("rooms", "not_registered")
    got = await stubborn.closed(timeout=10)
    assert got[-1]["code"] == "handshake_timeout"
    # a client that said hello is not affected
    ok = await connect("quick", srv=srv)
    await asyncio.sleep(FAST["handshake_timeout"] * 1.5)
    await ok.ok("ping")
