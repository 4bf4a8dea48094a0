"""Every request type over a real socket, and every error code the server sends."""

from __future__ import annotations

import json

from tests.conftest import ClientFactory


async def test_hello_reply_and_motd(make_server, connect: ClientFactory) -> None:
    srv = await make_server(motd="Be nice.", server_name="testhub")
    c = await connect(srv=srv)
    reply = await c.hello("alice", client="pytest/1")
    assert reply["nick"] == "alice"
    assert reply["server"] == "testhub" and reply["protocol"] == 1
    assert reply["motd"] == "Be nice."


async def test_hello_without_motd_omits_it(connect: ClientFactory) -> None:
    reply = await (await connect()).hello("alice")
    assert "motd" not in reply


async def test_hello_normalises_nick(connect: ClientFactory) -> None:
    c = await connect()
    assert (await c.hello("Zoe\u0308"))["nick"] == "Zoë"


async def test_not_registered_then_hello_works(connect: ClientFactory) -> None:
    c = await connect()
    for kind, fields in [
        ("join", {"room": "lobby"}),
        ("say", {"room": "lobby", "text": "x"}),
        ("rooms", {}),
        ("ping", {}),
        ("nick", {"nick": "x"}),
    ]:
        await c.error(kind, "not_registered", **fields)
    await c.send(type="pong")  # ignored, no reply
    await c.hello("alice")
    await c.ok("join", room="lobby")


async def test_already_registered(connect: ClientFactory) -> None:
    c = await connect("alice")
    await c.error("hello", "already_registered", nick="other", protocol=1)


async def test_unsupported_protocol(connect: ClientFactory) -> None:
    c = await connect()
    await c.error("hello", "unsupported_protocol", nick="alice", protocol=2)
    await c.hello("alice")  # the connection is still usable


async def test_bad_nick_codes(connect: ClientFactory) -> None:
    c = await connect()
    for nick in ["", "1abc", "a" * 25, "al ice", "al\u202eice", "al\u200bice", "a\x00"]:
        await c.error("hello", "bad_nick", nick=nick, protocol=1)
    await c.hello("alice")
    await c.error("nick", "bad_nick", nick="no way")
    await c.error("msg", "bad_nick", to="-x", text="hi")
    await c.error("history", "bad_nick", **{"with": "9"})


async def test_nick_taken_case_and_compat_insensitive(connect: ClientFactory) -> None:
    await connect("Alice")
    c = await connect()
    for nick in ["Alice", "alice", "ALICE", "ａｌｉｃｅ"]:
        await c.error("hello", "nick_taken", nick=nick, protocol=1)
    await c.hello("bob")
    await c.error("nick", "nick_taken", nick="aLiCe")


async def test_bad_room(connect: ClientFactory) -> None:
    c = await connect("alice")
    for room in ["", "#x", "a b", "x" * 33, "café"]:
        await c.error("join", "bad_room", room=room)
    await c.error("say", "bad_room", room="#x", text="hi")
    await c.error("who", "bad_room", room="a b")
    await c.error("history", "bad_room", room="a b")


async def test_join_folds_case_and_is_idempotent(connect: ClientFactory) -> None:
    a = await connect("alice")
    b = await connect("bob")
    await b.ok("join", room="dev")
    reply = await a.ok("join", room="DEV")
    assert reply["room"] == "dev"
    assert reply["members"] == ["alice", "bob"]
    await b.expect("joined", room="dev", nick="alice")
    again = await a.ok("join", room="dev")
    assert again["members"] == ["alice", "bob"]
    await b.silent(0.2, type="joined")


async def test_not_in_room(connect: ClientFactory) -> None:
    c = await connect("alice")
    await c.error("say", "not_in_room", room="lobby", text="hi")
    await c.error("part", "not_in_room", room="lobby")
    await c.error("topic", "not_in_room", room="lobby", topic="t")


async def test_no_such_room(connect: ClientFactory) -> None:
    c = await connect("alice")
    await c.error("who", "no_such_room", room="nowhere")
    await c.error("history", "no_such_room", room="nowhere")
    await c.ok("join", room="somewhere")
    await c.ok("part", room="somewhere")
    # an emptied room is gone from `who` at once (history forgets it only once
    # its pending writes are durable, so that is not checked here)
    await c.error("who", "no_such_room", room="somewhere")
    await c.ok("join", room="somewhere")
    await c.ok("say", room="somewhere", text="remember me")
    await c.ok("part", room="somewhere")
    # gone from who/rooms once empty, but its history stays readable
    await c.error("who", "no_such_room", room="somewhere")
    assert "somewhere" not in [r["name"] for r in (await c.ok("rooms"))["rooms"]]
    msgs = (await c.ok("history", room="somewhere"))["messages"]
    assert [m["text"] for m in msgs] == ["remember me"]


async def test_no_such_nick(connect: ClientFactory) -> None:
    c = await connect("alice")
    await c.error("msg", "no_such_nick", to="ghost", text="boo")


async def test_bad_text_and_text_too_long(make_server, connect: ClientFactory) -> None:
    srv = await make_server(max_text=10)
    c = await connect("alice", srv=srv)
    await c.ok("join", room="lobby")
    for text in ["", "   ", "\x00\x01\x1b"]:
        await c.error("say", "bad_text", room="lobby", text=text)
    await c.error("say", "text_too_long", room="lobby", text="x" * 11)
    await c.ok("say", room="lobby", text="x" * 10)
    await connect("bob", srv=srv)
    await c.error("msg", "bad_text", to="bob", text=" ")
    await c.error("msg", "text_too_long", to="bob", text="y" * 11)


async def test_say_strips_control_characters(connect: ClientFactory) -> None:
    a = await connect("alice")
    b = await connect("bob")
    await a.ok("join", room="lobby")
    await b.ok("join", room="lobby")
    await a.ok("say", room="lobby", text="hi\x1b[31m\x00 there\n\tok")
    msg = await b.expect("message", room="lobby")
    assert msg["text"] == "hi[31m there\n\tok"


async def test_bad_topic(connect: ClientFactory) -> None:
    c = await connect("alice")
    await c.ok("join", room="lobby")
    await c.error("topic", "bad_topic", room="lobby", topic="t" * 391)
    await c.ok("topic", room="lobby", topic="t" * 390)


async def test_bad_cursor_and_history_bad_requests(connect: ClientFactory) -> None:
    c = await connect("alice")
    await c.error("history", "bad_cursor", room="lobby", before="yesterday")
    await c.error("history", "bad_cursor", room="lobby", after="-5")
    await c.error("history", "bad_request", room="lobby", before="1", after="2")
    await c.error("history", "bad_request")
    await c.error("history", "bad_request", room="lobby", **{"with": "bob"})
    await c.error("history", "bad_request", room="lobby", limit=0)
    await c.error("history", "bad_request", room="lobby", limit=201)
    await c.error("history", "bad_request", room="lobby", limit="ten")


async def test_bad_request_and_unknown_type_keep_id(connect: ClientFactory) -> None:
    c = await connect("alice")
    await c.send(type="say", id="s1", room="lobby")  # text missing
    r = await c.reply("s1")
    assert (r["type"], r["code"]) == ("error", "bad_request")
    await c.send(type="dance", id=77)
    r = await c.reply(77)
    assert r["code"] == "unknown_type" and "dance" in r["message"]
    await c.send(id=78)  # no type at all
    r = await c.reply(78)
    assert r["code"] == "bad_request"
    await c.send(type="hello", id=79, nick="x", protocol="one")
    assert (await c.reply(79))["code"] == "bad_request"
    await c.ok("ping")  # still connected and working


async def test_requests_without_id_get_no_reply(connect: ClientFactory) -> None:
    a = await connect("alice")
    b = await connect("bob")
    await a.ok("join", room="lobby")
    await b.ok("join", room="lobby")
    await a.send(type="say", room="lobby", text="fire and forget")
    await a.send(type="say", room="nowhere", text="fails silently")
    assert (await b.expect("message", room="lobby"))["text"] == "fire and forget"
    await a.ok("ping")
    await a.expect("joined", room="lobby", nick="bob")
    await a.silent(0.2)  # no ok and no error for either say


async def test_ping_pong_quit(connect: ClientFactory) -> None:
    a = await connect("alice")
    b = await connect("bob")
    await a.ok("join", room="lobby")
    await b.ok("join", room="lobby")
    assert await a.ok("ping") == {"type": "ok", "id": a._ids}
    await a.send(type="pong")
    await a.ok("quit", reason="off to lunch")
    await a.closed()
    left = await b.expect("left", room="lobby", nick="alice")
    assert left["reason"] == "off to lunch"
    # the nick is free again
    c = await connect("alice")
    assert c.nick == "alice"


async def test_pipelined_requests_in_one_packet(connect: ClientFactory) -> None:
    c = await connect()
    lines: list[dict[str, str | int]] = [
        {"type": "hello", "id": 1, "nick": "alice", "protocol": 1},
        {"type": "join", "id": 2, "room": "lobby"},
        {"type": "say", "id": 3, "room": "lobby", "text": "one"},
        {"type": "who", "id": 4, "room": "lobby"},
    ]
    c._sent_types.update({m["id"]: str(m["type"]) for m in lines})
    await c.send_raw(b"".join(json.dumps(m).encode() + b"\n" for m in lines))
    replies = [await c.reply(i) for i in (1, 2, 3, 4)]
    assert [r["type"] for r in replies] == ["ok"] * 4
    assert replies[3]["members"] == ["alice"]


async def test_string_ids_echoed(connect: ClientFactory) -> None:
    c = await connect()
    await c.send(type="hello", id="h-1", nick="alice", protocol=1)
    r = await c.reply("h-1")
    assert r["type"] == "ok" and r["id"] == "h-1"


async def test_any_json_id_is_echoed(connect: ClientFactory) -> None:
    c = await connect("alice")
    for rid in (0, -5, 2**70, "", "ünïcode id", "x" * 1000):
        await c.send(type="ping", id=rid)
        assert await c.reply(rid) == {"type": "ok", "id": rid}


async def test_crlf_and_blank_lines(connect: ClientFactory) -> None:
    c = await connect()
    c._sent_types.update({1: "hello", 2: "who"})
    await c.send_raw(
        b'\r\n\n{"type":"hello","id":1,"nick":"telnet","protocol":1}\r\n'
        b'\n\n{"type":"who","id":2,"room":"lobby"}\r\n'
    )
    assert (await c.reply(1))["nick"] == "telnet"
    assert (await c.reply(2))["members"] == []
    await c.silent(0.2)  # blank lines are not errors


async def test_wrong_field_types(connect: ClientFactory) -> None:
    c = await connect("alice")
    await c.error("join", "bad_request", room=["lobby"])
    await c.error("say", "bad_request", room="lobby", text=None)
    await c.error("history", "bad_request", room="lobby", limit=True)
    await c.error("history", "bad_request", room="lobby", limit=-1)
    await c.error("msg", "bad_request", to={"nick": "bob"}, text="hi")
    await c.error("topic", "bad_request", room="lobby")
    await c.ok("ping")
