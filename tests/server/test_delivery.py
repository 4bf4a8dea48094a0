"""Who receives what: presence fan-out, messages, DMs, nick changes, topics, rooms/who."""

from __future__ import annotations

from tests.conftest import ClientFactory
from tests.helpers.wire import WireClient


async def trio(connect: ClientFactory) -> tuple[WireClient, WireClient, WireClient]:
    """alice and bob in `dev`, carol in `ops` only."""
    a = await connect("alice")
    b = await connect("bob")
    c = await connect("carol")
    await a.ok("join", room="dev")
    await b.ok("join", room="dev")
    await a.expect("joined", room="dev", nick="bob")
    await c.ok("join", room="ops")
    return a, b, c


async def test_presence_goes_only_to_room_mates(connect: ClientFactory) -> None:
    a, b, c = await trio(connect)
    d = await connect("dave")
    await d.ok("join", room="dev")
    await a.expect("joined", room="dev", nick="dave")
    await b.expect("joined", room="dev", nick="dave")
    await d.ok("part", room="dev", reason="bye now")
    assert (await a.expect("left", room="dev", nick="dave"))["reason"] == "bye now"
    await b.expect("left", room="dev", nick="dave")
    # the actor gets only replies; the outsider gets nothing at all
    await d.silent(0.2)
    await c.silent(0.2)


async def test_disconnect_tells_room_mates(connect: ClientFactory) -> None:
    a, b, c = await trio(connect)
    await b.close()
    left = await a.expect("left", room="dev", nick="bob")
    assert left["reason"]
    assert (await a.ok("who", room="dev"))["members"] == ["alice"]
    await c.silent(0.2)


async def test_message_fan_out(connect: ClientFactory) -> None:
    a, b, c = await trio(connect)
    sent = await a.ok("say", room="dev", text="hello dev")
    msg = await b.expect("message", room="dev")
    assert msg == {
        "type": "message",
        "room": "dev",
        "from": "alice",
        "text": "hello dev",
        "ts": sent["ts"],
        "msg_id": sent["msg_id"],
    }
    await a.silent(0.2, type="message")  # the sender gets the ok, not the event
    await c.silent(0.2)


async def test_messages_keep_order(connect: ClientFactory) -> None:
    a, b, _ = await trio(connect)
    for i in range(30):
        await a.send(type="say", room="dev", text=f"m{i}")
    got = [await b.expect("message", room="dev") for _ in range(30)]
    assert [m["text"] for m in got] == [f"m{i}" for i in range(30)]
    ids = [m["msg_id"] for m in got]
    assert ids == sorted(ids) and len(set(ids)) == 30
    assert all(len(i) == 12 and i.isdigit() for i in ids)


async def test_dm_routing(connect: ClientFactory) -> None:
    a, b, c = await trio(connect)
    sent = await a.ok("msg", to="CAROL", text="psst")
    dm = await c.expect("private")
    assert dm == {
        "type": "private",
        "from": "alice",
        "to": "carol",
        "text": "psst",
        "ts": sent["ts"],
        "msg_id": sent["msg_id"],
    }
    await a.silent(0.2, type="private")
    await b.silent(0.2)
    await c.ok("msg", to="alice", text="what?")
    assert (await a.expect("private"))["text"] == "what?"
    for who, peer in ((a, "carol"), (c, "Alice")):
        hist = await who.ok("history", **{"with": peer})
        assert [(m["from"], m["text"]) for m in hist["messages"]] == [
            ("alice", "psst"),
            ("carol", "what?"),
        ]
        assert all(m["type"] == "private" for m in hist["messages"])
    assert (await b.ok("history", **{"with": "alice"}))["messages"] == []


async def test_dm_to_self(connect: ClientFactory) -> None:
    a = await connect("alice")
    await a.ok("msg", to="alice", text="note to self")
    await a.silent(0.2, type="private")
    hist = await a.ok("history", **{"with": "alice"})
    assert [m["text"] for m in hist["messages"]] == ["note to self"]


async def test_guest_dm_history_belongs_to_the_connection(connect: ClientFactory) -> None:
    a = await connect("alice")
    await connect("bob")
    await a.ok("msg", to="bob", text="first life")
    await a.ok("quit")
    await a.closed()
    again = await connect("alice")
    assert (await again.ok("history", **{"with": "bob"}))["messages"] == []


async def test_nick_change_seen_once_by_each_room_mate(connect: ClientFactory) -> None:
    a, b, c = await trio(connect)
    await a.ok("join", room="ops")
    await b.ok("join", room="ops")
    await c.expect("joined", room="ops", nick="alice")
    await c.expect("joined", room="ops", nick="bob")
    await a.expect("joined", room="ops", nick="bob")
    d = await connect("dave")  # shares no room with alice
    reply = await a.ok("nick", nick="Alicia")
    assert reply["nick"] == "Alicia"
    for mate in (b, c):
        assert await mate.expect("nick") == {"type": "nick", "old": "alice", "new": "Alicia"}
        await mate.silent(0.2, type="nick")  # once, though they share two rooms
    await a.silent(0.2, type="nick")
    await d.silent(0.2)
    assert (await b.ok("who", room="dev"))["members"] == ["Alicia", "bob"]
    # the old nick is free, the new one taken; same nick is a no-op
    e = await connect("alice")
    assert e.nick == "alice"
    assert (await a.ok("nick", nick="Alicia"))["nick"] == "Alicia"
    await b.silent(0.2, type="nick")
    # messages carry the new nick
    await a.ok("say", room="dev", text="renamed")
    assert (await b.expect("message", room="dev"))["from"] == "Alicia"


async def test_rooms_and_who(connect: ClientFactory) -> None:
    a, _, c = await trio(connect)
    await a.ok("topic", room="dev", topic="the dev room")
    rooms = (await c.ok("rooms"))["rooms"]
    assert rooms == [
        {"name": "dev", "topic": "the dev room", "members": 2},
        {"name": "lobby", "topic": "", "members": 0},  # default room, listed even if empty
        {"name": "ops", "topic": "", "members": 1},
    ]
    who = await c.ok("who", room="DEV")
    assert who["room"] == "dev" and who["members"] == ["alice", "bob"]
    assert (await c.ok("who", room="lobby"))["members"] == []


async def test_topic_event_and_persistence(make_server, connect: ClientFactory) -> None:
    a, b, c = await trio(connect)
    await a.ok("topic", room="dev", topic="  ship\nit  ")
    ev = await b.expect("topic", room="dev")
    assert ev == {"type": "topic", "room": "dev", "topic": "shipit", "by": "alice"}
    await a.silent(0.2, type="topic")
    await c.silent(0.2)
    # a newcomer sees it in the join reply, and it survives the room emptying
    d = await connect("dave")
    assert (await d.ok("join", room="dev"))["topic"] == "shipit"
    for x in (a, b, d):
        await x.ok("part", room="dev")
    assert (await d.ok("join", room="dev"))["topic"] == "shipit"
    await d.ok("topic", room="dev", topic="")
    assert (await d.ok("join", room="dev"))["topic"] == ""


async def test_join_replays_recent_history(make_server, connect: ClientFactory) -> None:
    srv = await make_server(history_replay=5)
    a = await connect("alice", srv=srv)
    await a.ok("join", room="dev")
    for i in range(8):
        await a.ok("say", room="dev", text=f"m{i}")
    b = await connect("bob", srv=srv)
    hist = (await b.ok("join", room="dev"))["history"]
    assert [m["text"] for m in hist] == [f"m{i}" for i in range(3, 8)]
    assert all(m["type"] == "message" and m["room"] == "dev" for m in hist)
