"""Hypothesis drives random sequences of room-permission requests from several
clients at a live server, then checks from the outside that nothing broke:
every reply is a valid, documented outcome (never ``internal_error``), every
connection is still served, and a private room's messages never reached, and
cannot be fetched by, anyone outside it."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chinwag_protocol.errors import ErrorCode
from server.app import ChinwagServer
from server.config import Settings
from tests.helpers.wire import WireClient

NICKS = ["owner", "bob", "carol", "dave"]
TARGETS = ["bob", "carol", "dave", "ghost", "OWNER"]
MEMBER_OPS = ["kick", "ban", "unban", "op", "deop", "voice", "devoice", "mute", "unmute", "invite"]

actor = st.integers(0, len(NICKS) - 1)
operation = st.one_of(
    st.tuples(st.just("join"), actor, st.sampled_from([None, "k1", "k2"])),
    st.tuples(st.just("part"), actor, st.none()),
    st.tuples(st.just("say"), actor, st.none()),
    st.tuples(st.just("history"), actor, st.none()),
    st.tuples(
        st.just("mode"),
        actor,
        st.fixed_dictionaries(
            {},
            optional={
                "invite_only": st.booleans(),
                "moderated": st.booleans(),
                "topic_lock": st.booleans(),
                "key": st.sampled_from(["", "k1", "k2"]),
            },
        ),
    ),
    st.tuples(st.sampled_from(MEMBER_OPS), actor, st.sampled_from(TARGETS)),
)

FORBIDDEN = {ErrorCode.INTERNAL.value, ErrorCode.BAD_REQUEST.value, ErrorCode.BAD_FRAME.value}


async def scenario(data_dir: Path, ops: list[tuple[str, int, Any]]) -> None:
    srv = ChinwagServer(
        Settings(port=0, data_dir=data_dir, history_sync="normal", default_rooms=()).validate()
    )
    await srv.start()
    clients: list[WireClient] = []
    try:
        for nick in [*NICKS, "spy"]:
            c = await WireClient.connect(srv.host, srv.port)
            await c.hello(nick)
            clients.append(c)
        owner, spy = clients[0], clients[-1]
        await owner.ok("join", room="den")
        said = 0
        for kind, who, arg in ops:
            c = clients[who]
            if kind == "join":
                reply = await c.request("join", room="den", **({"key": arg} if arg else {}))
            elif kind == "part":
                reply = await c.request("part", room="den")
            elif kind == "say":
                said += 1
                reply = await c.request("say", room="den", text=f"secret {said}")
            elif kind == "history":
                reply = await c.request("history", room="den")
            elif kind == "mode":
                reply = await c.request("mode", room="den", **arg)
            else:
                reply = await c.request(kind, room="den", nick=arg)
            assert reply["type"] in ("ok", "error"), reply
            if reply["type"] == "error":
                assert reply["code"] in {e.value for e in ErrorCode}, reply
                self_ban = kind == "ban" and str(arg).casefold() == str(c.nick).casefold()
                if not self_ban:  # banning oneself is documented as bad_request
                    assert reply["code"] not in FORBIDDEN, (kind, reply)

        # everyone is still served
        for c in clients:
            await c.ok("ping")
        # the spy never joined: it saw nothing of the room, whatever happened
        assert not [m for m in spy.inbox if m.get("room") == "den"], spy.inbox
        # and what it can fetch follows the room's real modes
        joined = await owner.request("mode", room="den")
        if joined["type"] == "ok":
            modes = joined["modes"]
            private = modes.get("invite_only", False) or modes.get("keyed", False)
            history = await spy.request("history", room="den")
            listed = [r["name"] for r in (await spy.ok("rooms"))["rooms"]]
            if private:
                assert history["type"] == "error" and history["code"] == "not_in_room"
                assert "den" not in listed
                await spy.error("who", "not_in_room", room="den")
    finally:
        for c in clients:
            await c.close()
        await srv.close()


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(ops=st.lists(operation, min_size=1, max_size=25))
def test_random_permission_requests(tmp_path: Path, ops: list[tuple[str, int, Any]]) -> None:
    run_dir = tmp_path / f"run-{len(list(tmp_path.iterdir()))}"
    asyncio.run(scenario(run_dir, ops))
