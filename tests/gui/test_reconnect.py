"""Connection life: the server restarts, the GUI comes back without losing or doubling lines."""

from __future__ import annotations

import socket

import pytest

from chinwag_client.client import ChinwagClient
from chinwag_protocol.messages import Join, JoinOk, Say, SentOk
from gui_client.backoff import Backoff
from gui_client.models.conversations import Conversation, ConvKind
from gui_client.models.messages import Kind
from gui_client.session import ConnState
from tests.gui.conftest import WAIT_MS, wait_connected

pytestmark = pytest.mark.gui


async def say_lines(host: str, port: int, nick: str, lines: list[str], room: str = "lobby") -> None:
    c = await ChinwagClient.connect(host, port)
    await c.hello(nick)
    await c.call(Join(room=room), JoinOk)
    for line in lines:
        await c.call(Say(room=room, text=line), SentOk)
    await c.quit()


def chat_texts(conv: Conversation) -> list[str]:
    return [r.text for r in conv.messages.rows() if r.kind is Kind.CHAT]


def test_restart_of_server_process_reconnects_without_duplicates(
    qtbot, server_process, make_window, run
):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = server_process("--port", str(port))
    alice = make_window("alice", port, rooms=["lobby", "dev"])
    wait_connected(qtbot, alice, rooms=2)
    run(say_lines(proc.host, port, "carol", ["before 1", "before 2"]))
    lobby = alice.controller.convs.get(ConvKind.ROOM, "lobby")
    qtbot.waitUntil(lambda: chat_texts(lobby) == ["before 1", "before 2"], timeout=WAIT_MS)

    proc.stop()  # SIGTERM: the server says "shutdown" and closes us
    qtbot.waitUntil(lambda: not alice.session.connected, timeout=WAIT_MS)
    qtbot.waitUntil(
        lambda: any("restarting or shutting down" in r.text for r in lobby.messages.rows()),
        timeout=WAIT_MS,
    )
    qtbot.waitUntil(lambda: alice.session.state is ConnState.RECONNECTING, timeout=WAIT_MS)
    assert "Reconnecting" in alice.state_label.text()

    proc.start()
    wait_connected(qtbot, alice, rooms=2)
    assert alice.session.nick == "alice"
    run(say_lines(proc.host, port, "carol", ["after"]))
    qtbot.waitUntil(lambda: chat_texts(lobby)[-1:] == ["after"], timeout=WAIT_MS)
    assert chat_texts(lobby) == ["before 1", "before 2", "after"]
    assert lobby.has_member("alice")
    assert alice.controller.convs.get(ConvKind.ROOM, "dev").joined
    assert alice.windowTitle() == "Chinwag — lobby"


def test_missed_messages_beyond_the_replay_are_fetched(qtbot, restartable_server, make_window, run):
    srv = restartable_server()
    # a long backoff: alice reconnects only when told, after the gap has grown
    alice = make_window("alice", srv.port, backoff=Backoff(initial=600, maximum=600))
    wait_connected(qtbot, alice)
    lobby = alice.controller.current
    run(say_lines(srv.host, srv.port, "carol", ["m0", "m1"]))
    qtbot.waitUntil(lambda: chat_texts(lobby) == ["m0", "m1"], timeout=WAIT_MS)

    run(srv.close())
    qtbot.waitUntil(lambda: alice.session.state is ConnState.RECONNECTING, timeout=WAIT_MS)
    srv = restartable_server()
    missed = [f"while away {i}" for i in range(130)]
    run(say_lines(srv.host, srv.port, "carol", missed))
    alice.session.reconnect_now()
    wait_connected(qtbot, alice)
    qtbot.waitUntil(lambda: len(chat_texts(lobby)) >= 132, timeout=WAIT_MS)
    assert chat_texts(lobby) == ["m0", "m1", *missed]
    ids = [r.msg_id for r in lobby.messages.rows() if r.msg_id]
    assert len(ids) == len(set(ids)) == 132


def test_taken_nick_on_reconnect_falls_back(qtbot, restartable_server, make_window, run):
    """A ghost holding our nick after a reconnect: retry, then use nick_."""
    srv = restartable_server()
    alice = make_window("alice", srv.port, backoff=Backoff(initial=600, maximum=600))
    wait_connected(qtbot, alice)
    run(srv.close())
    qtbot.waitUntil(lambda: alice.session.state is ConnState.RECONNECTING, timeout=WAIT_MS)
    srv = restartable_server()
    alice.session.backoff = Backoff(initial=0.05, maximum=0.1)

    async def squat() -> ChinwagClient:
        c = await ChinwagClient.connect(srv.host, srv.port)
        await c.hello("alice")
        return c

    squatter = run(squat())
    alice.session.reconnect_now()
    wait_connected(qtbot, alice)
    assert alice.session.nick == "alice_"
    assert alice.controller.me == "alice_"
    run(squatter.close())
