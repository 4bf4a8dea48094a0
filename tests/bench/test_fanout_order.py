"""Batched fan-out keeps the order and membership rules of unbatched delivery.

The server is given a long fan-out window (50 ms) so that everything a test
sends in one go lands in one window; the rules must hold exactly as they do
when every event is written on its own.
"""

from __future__ import annotations

import asyncio
from typing import Any

from tests.conftest import ClientFactory, ServerFactory

LONG = {"fanout_window": 0.05, "fanout_window_per_member": 0.001}


def _say(room: str, text: str) -> bytes:
    return b'{"type":"say","room":"%s","text":"%s"}\n' % (room.encode(), text.encode())


async def test_pipelined_messages_arrive_in_room_order(
    make_server: ServerFactory, connect: ClientFactory
) -> None:
    srv = await make_server(**LONG)
    alice, bob, carol = [await connect(n, srv) for n in ("alice", "bob", "carol")]
    for c in (alice, bob, carol):
        await c.ok("join", room="lobby")
    await bob.send_raw(b"".join(_say("lobby", f"b{i}") for i in range(50)))
    await carol.send_raw(b"".join(_say("lobby", f"c{i}") for i in range(50)))
    got: list[dict[str, Any]] = [await alice.expect("message") for _ in range(100)]
    ids = [m["msg_id"] for m in got]
    assert ids == sorted(ids) and len(set(ids)) == 100
    assert [m["text"] for m in got if m["from"] == "bob"] == [f"b{i}" for i in range(50)]
    assert [m["text"] for m in got if m["from"] == "carol"] == [f"c{i}" for i in range(50)]
    await alice.silent(0.2, type="message")


async def test_direct_send_never_overtakes_a_queued_room_event(
    make_server: ServerFactory, connect: ClientFactory
) -> None:
    srv = await make_server(**LONG)
    alice, bob = [await connect(n, srv) for n in ("alice", "bob")]
    await alice.ok("join", room="lobby")
    await bob.ok("join", room="lobby")
    # one packet: the room message is queued for the window, the private one is direct
    await alice.send_raw(_say("lobby", "first") + b'{"type":"msg","to":"bob","text":"second"}\n')
    kinds: list[tuple[str, str]] = []
    while len(kinds) < 2:
        m = await bob.next()
        if m["type"] in ("message", "private"):
            kinds.append((m["type"], m["text"]))
    assert kinds == [("message", "first"), ("private", "second")]


async def test_joining_mid_window_skips_what_was_queued_before(
    make_server: ServerFactory, connect: ClientFactory
) -> None:
    srv = await make_server(**LONG)
    alice = await connect("alice", srv)
    dave = await connect("dave", srv)
    await alice.ok("join", room="lobby")
    await alice.send_raw(_say("lobby", "before"))
    joined = await dave.ok("join", room="lobby")
    replayed = [m["text"] for m in joined["history"]]
    await alice.ok("say", room="lobby", text="after")
    live: list[str] = []
    while not live or live[-1] != "after":
        live.append((await dave.expect("message"))["text"])
    await dave.silent(0.2, type="message")
    # "before" reaches dave exactly once: in the join replay or live, never both
    assert (replayed + live).count("before") == 1


async def test_leaving_mid_window_gets_nothing_after_its_reply(
    make_server: ServerFactory, connect: ClientFactory
) -> None:
    srv = await make_server(**LONG)
    alice, bob = [await connect(n, srv) for n in ("alice", "bob")]
    await alice.ok("join", room="lobby")
    await bob.ok("join", room="lobby")
    await alice.send_raw(_say("lobby", "bye"))
    await bob.send(type="part", room="lobby", id=7)
    seen = []
    while True:
        m = await bob.next()
        seen.append(m)
        if m.get("id") == 7:
            break
    assert seen[-1]["type"] == "ok"
    await bob.silent(0.2, type="message")


async def test_rolling_fanout_reaches_every_slot_once_in_order(
    make_server: ServerFactory, connect: ClientFactory
) -> None:
    # 20 members at 1 ms each: a 20 ms period, members spread over all 16 slots
    srv = await make_server(**LONG)
    clients = [await connect(f"m{i}", srv) for i in range(20)]
    for c in clients:
        await c.ok("join", room="big")
    sender, others = clients[0], clients[1:]
    for burst in ("a", "b"):  # "b" comes after the room's writer has gone idle
        await sender.send_raw(b"".join(_say("big", f"{burst}{i}") for i in range(30)))
        for c in others:
            got = [(await c.expect("message"))["text"] for _ in range(30)]
            assert got == [f"{burst}{i}" for i in range(30)]
        await asyncio.sleep(0.2)
    for c in clients:
        await c.silent(0.1, type="message")  # nothing twice; the sender never gets its own
