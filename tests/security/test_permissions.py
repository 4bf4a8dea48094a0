"""Room permissions from the outside, over real sockets: every rule, its error
code, its events, persistence across restarts, and no history leaks."""

from __future__ import annotations

from typing import Any

from server.app import ChinwagServer
from tests.conftest import ServerFactory
from tests.helpers.wire import WireClient

FAST: dict[str, Any] = {"password_time_cost": 1, "password_memory_kib": 8}
PW = "correct horse battery"


async def guest(srv: ChinwagServer, nick: str) -> WireClient:
    c = await WireClient.connect(srv.host, srv.port)
    await c.hello(nick)
    return c


async def account(srv: ChinwagServer, nick: str) -> WireClient:
    """Sign in to ``nick``, registering it on first use."""
    c = await WireClient.connect(srv.host, srv.port)
    reply = await c.request("hello", nick=nick, protocol=1)
    if reply["type"] == "ok":
        await c.ok("register", password=PW)
    else:
        await c.hello(nick, password=PW)
    return c


async def room_with(srv: ChinwagServer, op: str, *others: str) -> list[WireClient]:
    """``op`` (a guest) creates room ``den``; the others (guests) join it."""
    first = await guest(srv, op)
    reply = await first.ok("join", room="den")
    assert reply["ops"] == [op]
    clients = [first]
    for nick in others:
        c = await guest(srv, nick)
        await c.ok("join", room="den")
        clients.append(c)
    return clients


async def test_creator_is_operator_and_others_are_not(make_server: ServerFactory) -> None:
    srv = await make_server(**FAST)
    _alice, bob = await room_with(srv, "alice", "bob")
    reply = await bob.ok("mode", room="den")  # anyone in the room may read the modes
    assert reply["ops"] == ["alice"] and reply["modes"] == {}
    assert "key" not in reply and "banned" not in reply
    attempts: list[tuple[str, dict[str, Any]]] = [
        ("mode", {"invite_only": True}),
        ("kick", {"nick": "alice"}),
        ("ban", {"nick": "alice"}),
        ("op", {"nick": "bob"}),
        ("mute", {"nick": "alice"}),
        ("invite", {"nick": "alice"}),
        ("voice", {"nick": "bob"}),
    ]
    for req, fields in attempts:
        await bob.error(req, "not_operator", room="den", **fields)
    outsider = await guest(srv, "carol")
    await outsider.error("mode", "not_in_room", room="den", moderated=True)
    await outsider.error("kick", "not_in_room", room="den", nick="bob")


async def test_topic_lock(make_server: ServerFactory) -> None:
    srv = await make_server(**FAST)
    alice, bob = await room_with(srv, "alice", "bob")
    await bob.ok("topic", room="den", topic="anyone may")
    await alice.ok("mode", room="den", topic_lock=True)
    event = await bob.expect("mode", room="den")
    assert event["by"] == "alice" and event["modes"] == {"topic_lock": True}
    await bob.error("topic", "topic_locked", room="den", topic="not any more")
    await alice.ok("topic", room="den", topic="ops only")


async def test_invite_only(make_server: ServerFactory) -> None:
    srv = await make_server(**FAST)
    (alice,) = await room_with(srv, "alice")
    await alice.ok("mode", room="den", invite_only=True)
    bob = await guest(srv, "bob")
    carol = await guest(srv, "carol")
    await bob.error("join", "invite_only", room="den")
    await alice.ok("invite", room="den", nick="bob")
    assert (await bob.expect("invited"))["room"] == "den"
    joined = await bob.ok("join", room="den")
    assert joined["modes"] == {"invite_only": True}
    await carol.error("join", "invite_only", room="den")
    await alice.error("invite", "no_such_nick", room="den", nick="nobody")


async def test_key(make_server: ServerFactory) -> None:
    srv = await make_server(**FAST)
    (alice,) = await room_with(srv, "alice")
    await alice.error("mode", "bad_request", room="den", key="has space")
    ops_view = await alice.ok("mode", room="den", key="s3cret")
    assert ops_view["key"] == "s3cret" and ops_view["modes"] == {"keyed": True}
    bob = await guest(srv, "bob")
    await bob.error("join", "bad_key", room="den")
    await bob.error("join", "bad_key", room="den", key="guess")
    await bob.ok("join", room="den", key="s3cret")
    assert "key" not in await bob.ok("mode", room="den")
    await alice.ok("mode", room="den", key="")  # removes it
    carol = await guest(srv, "carol")
    await carol.ok("join", room="den")


async def test_moderated_and_voice(make_server: ServerFactory) -> None:
    srv = await make_server(**FAST)
    alice, bob = await room_with(srv, "alice", "bob")
    await alice.ok("mode", room="den", moderated=True)
    await bob.error("say", "moderated", room="den", text="hello?")
    await alice.ok("say", room="den", text="ops speak")
    await alice.ok("voice", room="den", nick="bob")
    assert (await bob.expect("member", action="voice"))["nick"] == "bob"
    await bob.ok("say", room="den", text="now I can")
    await alice.ok("devoice", room="den", nick="bob")
    await bob.error("say", "moderated", room="den", text="again?")
    await alice.error("voice", "not_in_room", room="den", nick="carol")


async def test_mute(make_server: ServerFactory) -> None:
    srv = await make_server(**FAST)
    alice, bob, carol = await room_with(srv, "alice", "bob", "carol")
    await alice.ok("mute", room="den", nick="bob")
    assert (await carol.expect("member", action="mute"))["nick"] == "bob"
    await bob.error("say", "muted", room="den", text="psst")
    await carol.ok("say", room="den", text="unaffected")
    # muting follows the guest nick through a reconnect
    await bob.close()
    bob = await guest(srv, "bob")
    await bob.ok("join", room="den")
    await bob.error("say", "muted", room="den", text="still?")
    await alice.ok("unmute", room="den", nick="bob")
    await bob.ok("say", room="den", text="free")


async def test_kick(make_server: ServerFactory) -> None:
    srv = await make_server(**FAST)
    alice, bob, carol = await room_with(srv, "alice", "bob", "carol")
    await alice.ok("kick", room="den", nick="BOB", reason="spam")
    for c in (bob, carol):
        event = await c.expect("kicked", room="den")
        assert (event["nick"], event["by"], event["reason"]) == ("bob", "alice", "spam")
    await bob.error("say", "not_in_room", room="den", text="hey")
    assert (await carol.ok("who", room="den"))["members"] == ["alice", "carol"]
    await alice.error("kick", "not_in_room", room="den", nick="bob")
    await bob.ok("join", room="den")  # a kick is not a ban


async def test_ban_and_unban_guest_nick(make_server: ServerFactory) -> None:
    srv = await make_server(**FAST)
    alice, bob, carol = await room_with(srv, "alice", "bob", "carol")
    await alice.ok("ban", room="den", nick="bob")
    assert (await carol.expect("member", action="ban"))["nick"] == "bob"
    assert (await bob.expect("kicked", room="den"))["reason"] == "banned"
    await bob.error("join", "banned", room="den")
    await bob.close()
    bob = await guest(srv, "bob")
    await bob.error("join", "banned", room="den")
    listing = await alice.ok("mode", room="den")
    assert listing["banned"] == ["bob"]
    await alice.error("ban", "bad_request", room="den", nick="alice")
    await alice.ok("unban", room="den", nick="bob")
    await bob.ok("join", room="den")


async def test_ban_by_account_covers_every_session(make_server: ServerFactory) -> None:
    srv = await make_server(**FAST)
    alice = await account(srv, "alice")
    await alice.ok("join", room="den")
    await (await account(srv, "mallory")).close()
    await alice.error("ban", "no_such_account", room="den", account="ghost")
    await alice.ok("ban", room="den", account="Mallory")
    m1 = await account(srv, "mallory")
    m2 = await account(srv, "mallory")
    await m1.error("join", "banned", room="den")
    await m2.error("join", "banned", room="den")
    await alice.ok("unban", room="den", account="mallory")
    await m1.ok("join", room="den")


async def test_op_and_deop(make_server: ServerFactory) -> None:
    srv = await make_server(**FAST)
    alice, bob, carol = await room_with(srv, "alice", "bob", "carol")
    await alice.ok("op", room="den", nick="bob")
    assert (await carol.expect("member", action="op"))["nick"] == "bob"
    assert (await carol.ok("mode", room="den"))["ops"] == ["alice", "bob"]
    await bob.ok("mode", room="den", moderated=True)
    await bob.ok("kick", room="den", nick="carol")
    await alice.ok("deop", room="den", nick="bob")
    await bob.error("mode", "not_operator", room="den", moderated=False)


async def test_guest_rights_die_with_the_connection(make_server: ServerFactory) -> None:
    """A later guest with the op's nick gets nothing; an unowned room starts afresh."""
    srv = await make_server(**FAST)
    alice, bob = await room_with(srv, "alice", "bob")
    await alice.ok("op", room="den", nick="bob")
    await alice.ok("mode", room="den", invite_only=True)
    await bob.close()
    await alice.expect("left", nick="bob")
    fake = await guest(srv, "bob")
    await fake.error("join", "invite_only", room="den")
    await alice.ok("invite", room="den", nick="bob")
    await fake.ok("join", room="den")
    await fake.error("mode", "not_operator", room="den", invite_only=False)
    await alice.close()
    await fake.close()
    # the room emptied with no account operator: the next joiner creates it anew
    carol = await guest(srv, "carol")
    reply = await carol.ok("join", room="den")
    assert reply["ops"] == ["carol"] and reply["modes"] == {}


async def test_private_room_history_never_leaks(make_server: ServerFactory) -> None:
    srv = await make_server(**FAST)
    alice, bob = await room_with(srv, "alice", "bob")
    await alice.ok("topic", room="den", topic="plans")
    await alice.ok("say", room="den", text="the secret plan")
    await alice.ok("mode", room="den", invite_only=True)
    eve = await guest(srv, "eve")
    await eve.error("history", "not_in_room", room="den")
    await eve.error("history", "not_in_room", room="den", after="000000000000")
    await eve.error("who", "not_in_room", room="den")
    assert "den" not in [r["name"] for r in (await eve.ok("rooms"))["rooms"]]
    refused = await eve.error("join", "invite_only", room="den")
    assert "secret plan" not in str(refused)
    # the same with a key instead
    await alice.ok("mode", room="den", invite_only=False, key="k")
    await eve.error("history", "not_in_room", room="den")
    await eve.error("join", "bad_key", room="den")
    # and after being kicked
    await alice.ok("kick", room="den", nick="bob")
    await bob.error("history", "not_in_room", room="den")
    # members see it all
    page = await alice.ok("history", room="den")
    assert [m["text"] for m in page["messages"]] == ["the secret plan"]
    assert any(r["name"] == "den" for r in (await alice.ok("rooms"))["rooms"])
    await eve.silent(0.3, type="message")


async def test_private_room_history_is_safe_while_empty(make_server: ServerFactory) -> None:
    srv = await make_server(**FAST)
    alice = await account(srv, "alice")
    await alice.ok("join", room="vault")
    await alice.ok("say", room="vault", text="stored secret")
    await alice.ok("mode", room="vault", invite_only=True)
    await alice.close()
    await srv.close()
    srv = await make_server(**FAST)
    eve = await guest(srv, "eve")
    await eve.error("history", "not_in_room", room="vault")
    await eve.error("join", "invite_only", room="vault")


async def test_modes_bans_and_ops_survive_a_restart(make_server: ServerFactory) -> None:
    srv = await make_server(**FAST)
    alice = await account(srv, "alice")
    assert (await alice.ok("join", room="hq"))["ops"] == ["alice"]
    await (await account(srv, "bob")).close()
    carol = await account(srv, "carol")
    await carol.ok("join", room="hq")
    await alice.ok("op", room="hq", nick="carol")
    await alice.ok("mode", room="hq", topic_lock=True, moderated=True, key="door")
    await alice.ok("ban", room="hq", nick="bob")
    await alice.ok("mute", room="hq", nick="dave")  # an absent guest nick
    await alice.close()
    await carol.close()
    await srv.close()

    srv = await make_server(**FAST)
    bob = await account(srv, "bob")
    await bob.error("join", "banned", room="hq", key="door")
    dave = await guest(srv, "dave")
    await dave.error("join", "bad_key", room="hq")
    await dave.ok("join", room="hq", key="door")
    await dave.error("say", "muted", room="hq", text="hi")
    alice = await account(srv, "alice")
    reply = await alice.ok("join", room="hq")
    assert reply["modes"] == {"topic_lock": True, "moderated": True, "keyed": True}
    assert reply["ops"] == ["alice"]
    carol = await account(srv, "carol")
    assert (await carol.ok("join", room="hq", key="door"))["ops"] == ["alice", "carol"]
    await carol.ok("topic", room="hq", topic="still op")


async def test_op_given_to_a_guest_moves_to_their_new_account(make_server: ServerFactory) -> None:
    srv = await make_server(**FAST)
    alice = await guest(srv, "alice")
    await alice.ok("join", room="club")
    await alice.ok("register", password=PW)
    await alice.close()
    await srv.close()
    srv = await make_server(**FAST)
    alice = await account(srv, "alice")
    assert (await alice.ok("join", room="club"))["ops"] == ["alice"]


async def test_room_and_member_limits(make_server: ServerFactory) -> None:
    srv = await make_server(**FAST, max_rooms_per_user=2, max_members_per_room=2)
    alice = await account(srv, "alice")
    await alice.ok("join", room="one")
    await alice.ok("join", room="two")
    await alice.error("join", "too_many_rooms", room="three")
    await alice.ok("join", room="two")  # already in: not a new room
    bob = await guest(srv, "bob")
    await bob.ok("join", room="one")
    carol = await guest(srv, "carol")
    await carol.error("join", "room_full", room="one")
    again = await account(srv, "alice")  # another session of a member is not a new member
    await again.ok("join", room="one")
    await alice.ok("part", room="two")
    await alice.ok("join", room="three")


async def test_bad_input_to_new_requests_gets_clear_errors(make_server: ServerFactory) -> None:
    srv = await make_server(**FAST)
    alice, bob = await room_with(srv, "alice", "bob")
    await alice.error("kick", "bad_nick", room="den", nick="no spaces!")
    await alice.error("kick", "bad_room", room="Not A Room!", nick="bob")
    await alice.error("mode", "bad_request", room="den", invite_only="yes")
    await alice.error("mode", "bad_request", room="den", key="x" * 65)
    await alice.error("mode", "bad_request", room="den", key="tab\there")
    await alice.error("ban", "bad_request", room="den", nick="bob", account="bob")
    await alice.error("ban", "bad_request", room="den")
    await alice.error("op", "bad_request", room="den")
    await alice.error("invite", "bad_request", room="den", nick=42)
    await alice.error("register", "bad_request", password=12345678)
    await alice.error("mode", "not_in_room", room="elsewhere")
    await alice.error("kick", "not_in_room", room="den", nick="carol")
    huge = await WireClient.connect(srv.host, srv.port)
    await huge.error("hello", "no_such_account", nick="zed", protocol=1, password="p" * 5000)
    # nothing above disturbed the room
    await bob.ok("say", room="den", text="still here")
    await alice.expect("message", text="still here")


async def test_default_rooms_are_operated_only_by_the_configured_accounts(
    make_server: ServerFactory,
) -> None:
    srv = await make_server(default_room_ops=("Admin",), **FAST)
    first = await guest(srv, "early")
    reply = await first.ok("join", room="lobby")
    assert reply.get("ops", []) == []  # joining the lobby first makes nobody its operator
    await first.error("mode", "not_operator", room="lobby", invite_only=True)
    admin = await account(srv, "admin")
    reply = await admin.ok("join", room="lobby")
    assert reply["ops"] == ["admin"]
    await admin.ok("mode", room="lobby", topic_lock=True)
    await first.error("topic", "topic_locked", room="lobby", topic="mine now")
    other = await account(srv, "carol")
    reply = await other.ok("join", room="lobby")
    assert reply["ops"] == ["admin"]
    for c in (first, admin, other):
        await c.close()
