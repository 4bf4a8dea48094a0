"""The shared account/operator slash commands (chinwag_client.room_admin):
parsing, and running them through ChinwagClient against a real server."""

from __future__ import annotations

from typing import Any

import pytest

from chinwag_client.client import ChinwagClient, RequestFailed
from chinwag_client.room_admin import (
    ADMIN_COMMANDS,
    AdminCommandError,
    build,
    describe,
    reply_type,
    split,
)
from chinwag_protocol.messages import (
    Ban,
    Join,
    JoinOk,
    Kick,
    Kicked,
    Mode,
    Password,
    Register,
)
from tests.conftest import ServerFactory

FAST: dict[str, Any] = {"password_time_cost": 1, "password_memory_kib": 8}


def test_mode_letters() -> None:
    assert build("mode", [], "den") == Mode(room="den")
    assert build("mode", ["+im", "-t"], "den") == Mode(
        room="den", invite_only=True, moderated=True, topic_lock=False
    )
    assert build("mode", ["+k", "s3cret"], "den") == Mode(room="den", key="s3cret")
    assert build("mode", ["-k"], "den") == Mode(room="den", key="")


@pytest.mark.parametrize(
    ("name", "line", "problem"),
    [
        ("mode", "+x", "unknown mode"),
        ("mode", "+k", "needs the key"),
        ("mode", "i", "usage"),
        ("kick", "", "usage"),
        ("op", "a b", "usage"),
        ("password", "only-one", "usage"),
        ("register", "", "usage"),
    ],
)
def test_bad_commands_are_refused_before_sending(name: str, line: str, problem: str) -> None:
    with pytest.raises(AdminCommandError, match=problem):
        build(name, split(name, line), "den")


def test_room_commands_need_a_room() -> None:
    with pytest.raises(AdminCommandError, match="acts on a room"):
        build("kick", ["bob"], None)
    assert build("register", ["pw pw pw"], None) == Register(password="pw pw pw")
    assert build("password", ["a", "b"], None) == Password(old="a", new="b")


def test_kick_keeps_the_reason_text() -> None:
    assert split("kick", "bob  flooding the room ") == ["bob", "flooding the room"]
    assert build("kick", split("kick", "bob  flooding the room"), "den") == Kick(
        room="den", nick="bob", reason="flooding the room"
    )


def test_every_command_has_usage_and_help() -> None:
    for name, spec in ADMIN_COMMANDS.items():
        assert spec.usage.startswith("/" + name) and spec.help


async def test_commands_against_a_real_server(make_server: ServerFactory) -> None:
    srv = await make_server(**FAST)
    alice = await ChinwagClient.connect(srv.host, srv.port)
    bob = await ChinwagClient.connect(srv.host, srv.port)
    try:
        await alice.hello("alice")
        await bob.hello("bob")
        await alice.call(Join(room="den"), JoinOk)
        await bob.call(Join(room="den"), JoinOk)

        async def run(client: ChinwagClient, name: str, line: str) -> str:
            req = build(name, split(name, line), "den")
            return describe(req, await client.call(req, reply_type(req)))

        assert "registered account" in await run(alice, "register", "first-password")
        assert await run(alice, "mode", "+mt") == "den: moderated, topic locked; operators: alice"
        assert await run(alice, "voice", "bob") == "bob has voice in den"
        text = await run(alice, "mode", "+k door")
        assert "key required" in text and "(key: door)" in text and "voiced: bob" in text
        with pytest.raises(RequestFailed) as info:
            await bob.call(Ban(room="den", nick="alice"), reply_type(Ban(room="den", nick="x")))
        assert info.value.code == "not_operator"
        assert await run(alice, "kick", "bob go away") == "you kicked bob from den"
        while True:
            event = await bob.next_event(timeout=5)
            if isinstance(event, Kicked):
                assert event.reason == "go away"
                break
        with pytest.raises(RequestFailed) as info:
            await run(alice, "password", "wrong-old new-password")
        assert info.value.code == "bad_password"
        assert await run(alice, "password", "first-password second-password") == (
            "your password was changed"
        )
    finally:
        await alice.close()
        await bob.close()
