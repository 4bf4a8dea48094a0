"""``ChinwagServer.reload``: what SIGHUP applies to a running server."""

from __future__ import annotations

import dataclasses


async def test_reload_applies_only_live_settings(server, connect) -> None:
    old_port = server.port
    new = dataclasses.replace(
        server.settings, motd="fresh motd", max_text=10, port=1, server_name="x"
    )
    applied, ignored = await server.reload(new)
    assert applied == ["motd", "max_text"]
    assert ignored == ["port", "server_name"]
    assert server.port == old_port and server.settings.port == 0
    alice = await connect()
    hello = await alice.hello("alice")
    assert hello["motd"] == "fresh motd" and hello["server"] == "chinwag"
    await alice.ok("join", room="lobby")
    await alice.error("say", "text_too_long", room="lobby", text="x" * 11)
    assert (await server.reload(new)) == ([], ["port", "server_name"])


async def test_reload_max_line_for_new_connections(server, connect) -> None:
    before = await connect("alice")
    await before.ok("join", room="lobby")
    await server.reload(dataclasses.replace(server.settings, max_line=200))
    line = b'{"type":"say","id":7,"room":"lobby","text":"' + b"y" * 300 + b'"}\n'
    await before.send_raw(line)  # connected under the old limit: unaffected
    assert (await before.reply(7))["type"] == "ok"
    after = await connect("bob")
    await after.ok("join", room="lobby")
    await after.send_raw(line)
    err = await after.expect("error", code="too_long")
    assert err.get("id") is None


async def test_reload_history_replay(server, connect) -> None:
    alice = await connect("alice")
    await alice.ok("join", room="lobby")
    ids = [(await alice.ok("say", room="lobby", text=f"m{i}"))["msg_id"] for i in range(6)]
    await server.reload(dataclasses.replace(server.settings, history_replay=2))
    bob = await connect("bob")
    assert [m["msg_id"] for m in (await bob.ok("join", room="lobby"))["history"]] == ids[-2:]
    await server.reload(dataclasses.replace(server.settings, history_replay=10))
    carol = await connect("carol")
    assert [m["msg_id"] for m in (await carol.ok("join", room="lobby"))["history"]] == ids
