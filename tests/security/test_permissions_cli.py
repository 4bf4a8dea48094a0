"""Accounts and room operator commands through the real ``chinwag-cli``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from server.app import ChinwagServer
from tests.cli.helpers import Cli
from tests.conftest import ServerFactory
from tests.helpers.wire import WireClient

FAST: dict[str, Any] = {"password_time_cost": 1, "password_memory_kib": 8}


@pytest.fixture
async def srv(make_server: ServerFactory) -> ChinwagServer:
    return await make_server(**FAST)


@pytest.fixture
async def clis() -> AsyncIterator[list[Cli]]:
    started: list[Cli] = []
    yield started
    for c in started:
        c.kill()
        await c.proc.wait()


async def test_register_sign_in_and_operate_a_room(srv: ChinwagServer, clis: list[Cli]) -> None:
    alice = await Cli.start("--nick", "alice", port=srv.port)
    clis.append(alice)
    await alice.expect("members of lobby")
    await alice.send("/register first-password")
    await alice.expect("registered account")
    await alice.send("/join den", "/mode +i")
    await alice.expect("den: invite-only; operators: alice")

    bob = await WireClient.connect(srv.host, srv.port)
    await bob.hello("bob")
    await bob.error("join", "invite_only", room="den")
    await alice.send("/invite bob")
    await alice.expect("you invited bob to den")
    await bob.expect("invited", room="den", by="alice")
    await bob.ok("join", room="den")
    await alice.send("/voice bob", "/mode +m")
    await alice.expect("bob has voice in den")
    await alice.expect("moderated")
    await bob.ok("say", room="den", text="voiced")
    await alice.send("/kick bob enough")
    await alice.expect("you kicked bob from den")
    kicked = await bob.expect("kicked", room="den")
    assert kicked["reason"] == "enough"
    # errors from the server are printed with their code, and the CLI carries on
    await alice.send("/op nobody", "/mode +x", "/ban")
    await alice.expect("not_in_room")
    await alice.expect("unknown mode")
    await alice.expect("usage: /ban NICK")
    assert await alice.finish() == 0

    # the account now needs its password: without it the CLI is refused (exit 3)
    guest = await Cli.start("--nick", "alice", port=srv.port)
    clis.append(guest)
    assert await guest.finish() == 3
    assert "nick_reserved" in guest.output + guest.stderr
    again = await Cli.start("--nick", "alice", "--password", "first-password", port=srv.port)
    clis.append(again)
    await again.expect("connected to chinwag as alice")
    await again.send("/password first-password second-password")
    await again.expect("your password was changed")
    assert await again.finish() == 0


async def test_register_flag_and_offline_messages(srv: ChinwagServer, clis: list[Cli]) -> None:
    bad = await Cli.start("--nick", "erin", "--register", port=srv.port)
    clis.append(bad)
    assert await bad.finish() == 2
    assert "--register needs --password" in bad.stderr

    erin = await Cli.start("--nick", "erin", "--register", "--password", "erin-pass", port=srv.port)
    clis.append(erin)
    await erin.expect("registered erin as an account")
    assert await erin.finish() == 0

    taken = await Cli.start("--nick", "erin", "--register", "--password", "other", port=srv.port)
    clis.append(taken)
    assert await taken.finish() == 3
    assert "nick_reserved" in taken.stderr

    bob = await WireClient.connect(srv.host, srv.port)
    await bob.hello("bob")
    await bob.ok("msg", to="erin", text="left for you")
    back = await Cli.start("--nick", "erin", "--password", "erin-pass", port=srv.port)
    clis.append(back)
    await back.expect("1 private message(s) came in while you were away")
    assert await back.finish() == 0
    assert "*bob* left for you" in back.output
