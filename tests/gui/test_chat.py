"""Chatting between two GUI windows over a real server: rooms, DMs, unread, mentions."""

from __future__ import annotations

import pytest
from PyQt6.QtCore import Qt
from pytestqt.qtbot import QtBot

from gui_client.models.conversations import Conversation, ConvKind
from gui_client.models.messages import Kind
from gui_client.widgets.main_window import MainWindow
from tests.gui.conftest import WAIT_MS, wait_connected

pytestmark = pytest.mark.gui


def texts(conv: Conversation, *kinds: Kind) -> list[tuple[str, str]]:
    kinds = kinds or (Kind.CHAT, Kind.ACTION)
    return [(r.nick, r.text) for r in conv.messages.rows() if r.kind in kinds]


def activate(qtbot: QtBot, window: MainWindow) -> None:
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=WAIT_MS)


def type_line(qtbot: QtBot, window: MainWindow, line: str) -> None:
    window.input.setText(line)
    qtbot.keyClick(window.input, Qt.Key.Key_Return)  # type: ignore[no-untyped-call]


@pytest.fixture
def pair(qtbot, gui_server, make_window):
    alice = make_window("alice", gui_server.port)
    wait_connected(qtbot, alice)
    bob = make_window("bob", gui_server.port)
    wait_connected(qtbot, bob)
    lobby_a = alice.controller.convs.get(ConvKind.ROOM, "lobby")
    qtbot.waitUntil(lambda: lobby_a.has_member("bob"), timeout=WAIT_MS)
    return alice, bob


def test_room_message_between_two_windows(qtbot, pair):
    alice, bob = pair
    type_line(qtbot, alice, "hello bob")
    lobby_b = bob.controller.convs.get(ConvKind.ROOM, "lobby")
    qtbot.waitUntil(lambda: ("alice", "hello bob") in texts(lobby_b), timeout=WAIT_MS)
    lobby_a = alice.controller.current
    qtbot.waitUntil(lambda: ("alice", "hello bob") in texts(lobby_a), timeout=WAIT_MS)
    assert alice.input.text() == ""
    # bob sees alice's line rendered in the view's model with its msg_id
    row = next(r for r in lobby_b.messages.rows() if r.text == "hello bob")
    assert row.msg_id is not None and not row.own
    assert alice.members.nicks() == ["alice", "bob"]
    assert any("bob joined" in r.text for r in lobby_a.messages.rows() if r.kind is Kind.SYSTEM)


def test_direct_message_does_not_steal_the_current_conversation(qtbot, pair):
    alice, bob = pair
    type_line(qtbot, alice, "/msg bob are you free at 3?")
    qtbot.waitUntil(
        lambda: bob.controller.convs.get(ConvKind.DIRECT, "alice") is not None, timeout=WAIT_MS
    )
    dm = bob.controller.convs.get(ConvKind.DIRECT, "alice")
    qtbot.waitUntil(lambda: texts(dm) == [("alice", "are you free at 3?")], timeout=WAIT_MS)
    assert bob.controller.current.name == "lobby"
    assert bob.windowTitle() == "Chinwag — lobby"
    assert dm.unread == 1 and dm.mention  # a DM always counts as addressed to you
    # alice's copy of the DM, then bob answers from the DM conversation
    # alice's side opens once the server confirmed the message as stored
    qtbot.waitUntil(
        lambda: alice.controller.convs.get(ConvKind.DIRECT, "bob") is not None, timeout=WAIT_MS
    )
    dm_a = alice.controller.convs.get(ConvKind.DIRECT, "bob")
    qtbot.waitUntil(lambda: texts(dm_a) == [("alice", "are you free at 3?")], timeout=WAIT_MS)
    bob.controller.set_current(dm)
    assert dm.unread == 0 and not dm.mention
    assert bob.windowTitle() == "Chinwag — alice"
    type_line(qtbot, bob, "yes")
    qtbot.waitUntil(lambda: ("bob", "yes") in texts(dm_a), timeout=WAIT_MS)
    assert dm_a.unread == 1


def test_unread_counts_and_mention_highlight(qtbot, pair):
    alice, bob = pair
    type_line(qtbot, alice, "/join dev")
    type_line(qtbot, bob, "/join dev")
    qtbot.waitUntil(
        lambda: alice.controller.convs.get(ConvKind.ROOM, "dev") is not None, timeout=WAIT_MS
    )
    dev_a = alice.controller.convs.get(ConvKind.ROOM, "dev")
    qtbot.waitUntil(lambda: dev_a.has_member("bob"), timeout=WAIT_MS)
    lobby_a = alice.controller.convs.get(ConvKind.ROOM, "lobby")
    alice.controller.set_current(lobby_a)
    bob.controller.set_current(bob.controller.convs.get(ConvKind.ROOM, "dev"))
    type_line(qtbot, bob, "deploy is green")
    type_line(qtbot, bob, "anyone around?")
    qtbot.waitUntil(lambda: dev_a.unread == 2, timeout=WAIT_MS)
    assert not dev_a.mention
    model = alice.controller.convs
    idx = model.index_of(dev_a)
    assert idx.data(model.UnreadRole) == 2
    assert "2 unread" in idx.data(Qt.ItemDataRole.AccessibleTextRole)
    type_line(qtbot, bob, "Alice: can you review?")
    qtbot.waitUntil(lambda: dev_a.unread == 3 and dev_a.mention, timeout=WAIT_MS)
    row = dev_a.messages.rows()[-1]
    assert row.mention and row.text == "Alice: can you review?"
    # a line that only contains the nick inside another word is no mention
    type_line(qtbot, bob, "malice aforethought")
    qtbot.waitUntil(lambda: dev_a.unread == 4, timeout=WAIT_MS)
    assert not dev_a.messages.rows()[-1].mention
    # switching there (Alt+1: dev sorts first) clears the count; a "new" rule marks
    # the first line that arrived while away, until the user moves on
    activate(qtbot, alice)
    qtbot.keyClick(alice.input, Qt.Key.Key_1, Qt.KeyboardModifier.AltModifier)
    assert alice.controller.current is dev_a
    assert dev_a.unread == 0 and not dev_a.mention
    assert alice.windowTitle() == "Chinwag — dev"
    marked = [r.text for r in dev_a.messages.rows() if r is dev_a.messages.marker]
    assert marked == ["deploy is green"]
    qtbot.keyClick(alice.input, Qt.Key.Key_2, Qt.KeyboardModifier.AltModifier)
    assert dev_a.messages.marker is None


def test_history_on_join_and_older_history_on_scroll(qtbot, gui_server, make_window, run):
    from chinwag_client.client import ChinwagClient
    from chinwag_protocol.messages import Join, JoinOk, Say, SentOk

    async def chatter() -> None:
        c = await ChinwagClient.connect(gui_server.host, gui_server.port)
        await c.hello("carol")
        await c.call(Join(room="lobby"), JoinOk)
        for i in range(120):
            await c.call(Say(room="lobby", text=f"line {i}"), SentOk)
        await c.quit()

    run(chatter())
    alice = make_window("alice", gui_server.port)
    wait_connected(qtbot, alice)
    lobby = alice.controller.current
    qtbot.waitUntil(lambda: len(texts(lobby)) >= 50, timeout=WAIT_MS)
    # the replay on join is the newest 50; scrolling to the top loads older pages
    assert texts(lobby)[-1] == ("carol", "line 119")
    alice.message_view.scrollToTop()
    alice.message_view.wantOlder.emit()
    qtbot.waitUntil(lambda: len(texts(lobby)) >= 120, timeout=WAIT_MS)
    alice.message_view.wantOlder.emit()
    qtbot.waitUntil(lambda: lobby.history_done, timeout=WAIT_MS)
    got = [t for _, t in texts(lobby)]
    assert got == [f"line {i}" for i in range(120)]
    ids = [r.msg_id for r in lobby.messages.rows() if r.msg_id]
    assert ids == sorted(ids) and len(ids) == len(set(ids))


def test_slash_commands(qtbot, pair):
    alice, bob = pair
    lobby_b = bob.controller.convs.get(ConvKind.ROOM, "lobby")
    type_line(qtbot, alice, "/me waves")
    qtbot.waitUntil(
        lambda: any(r.kind is Kind.ACTION and r.text == "waves" for r in lobby_b.messages.rows()),
        timeout=WAIT_MS,
    )
    assert "* alice waves" in lobby_b.messages.rows()[-1].plain()
    type_line(qtbot, alice, "/topic Release on Friday")
    qtbot.waitUntil(lambda: lobby_b.topic == "Release on Friday", timeout=WAIT_MS)
    assert "Release on Friday" in bob.topic_bar.text()
    type_line(qtbot, alice, "/nick alicia")
    qtbot.waitUntil(lambda: lobby_b.has_member("alicia"), timeout=WAIT_MS)
    assert not lobby_b.has_member("alice")
    assert alice.controller.me == "alicia"
    type_line(qtbot, alice, "/msg nobody-here hello?")
    lobby_a = alice.controller.current
    qtbot.waitUntil(lambda: "nobody is called" in lobby_a.messages.rows()[-1].text, timeout=WAIT_MS)
    assert alice.controller.convs.get(ConvKind.DIRECT, "nobody-here") is None
    type_line(qtbot, alice, "/frobnicate")
    lobby_a = alice.controller.current
    assert lobby_a.messages.rows()[-1].kind is Kind.ERROR
    assert "unknown command" in lobby_a.messages.rows()[-1].text
    type_line(qtbot, alice, "/help")
    assert any("/join <room>" in r.text for r in lobby_a.messages.rows())
    type_line(qtbot, alice, "/join Bad!Room")
    assert lobby_a.messages.rows()[-1].kind is Kind.ERROR
    type_line(qtbot, bob, "/part")
    qtbot.waitUntil(lambda: not lobby_a.has_member("bob"), timeout=WAIT_MS)
    qtbot.waitUntil(
        lambda: bob.controller.convs.get(ConvKind.ROOM, "lobby") is None, timeout=WAIT_MS
    )
    assert bob.controller.current is None
    assert bob.windowTitle() == "Chinwag"


def test_input_history_and_nick_completion(qtbot, pair):
    alice, _bob = pair
    type_line(qtbot, alice, "first")
    type_line(qtbot, alice, "second")
    alice.input.setText("draft")
    qtbot.keyClick(alice.input, Qt.Key.Key_Up)
    assert alice.input.text() == "second"
    qtbot.keyClick(alice.input, Qt.Key.Key_Up)
    assert alice.input.text() == "first"
    qtbot.keyClick(alice.input, Qt.Key.Key_Down)
    qtbot.keyClick(alice.input, Qt.Key.Key_Down)
    assert alice.input.text() == "draft"
    alice.input.clear()
    qtbot.keyClicks(alice.input, "b")
    qtbot.keyClick(alice.input, Qt.Key.Key_Tab)
    assert alice.input.text() == "bob: "
    alice.input.clear()
    qtbot.keyClicks(alice.input, "/jo")
    qtbot.keyClick(alice.input, Qt.Key.Key_Tab)
    assert alice.input.text() == "/join "
    # each conversation keeps its unsent draft
    lobby = alice.controller.current
    alice.controller.open_direct("bob")
    assert alice.input.text() == ""
    qtbot.keyClicks(alice.input, "half a thought")
    alice.controller.set_current(lobby)
    assert alice.input.text() == "/join "
    alice.controller.set_current(alice.controller.convs.get(ConvKind.DIRECT, "bob"))
    assert alice.input.text() == "half a thought"
    assert alice.input.hasFocus() or not alice.isActiveWindow()


def test_keyboard_switching_and_ctrl_w(qtbot, pair):
    alice, _bob = pair
    type_line(qtbot, alice, "/join dev")
    qtbot.waitUntil(lambda: alice.windowTitle() == "Chinwag — dev", timeout=WAIT_MS)
    activate(qtbot, alice)
    qtbot.keyClick(alice.input, Qt.Key.Key_Tab, Qt.KeyboardModifier.ControlModifier)
    assert alice.windowTitle() == "Chinwag — lobby"
    alice.cycle(1)
    assert alice.windowTitle() == "Chinwag — dev"
    qtbot.keyClick(alice.input, Qt.Key.Key_W, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(
        lambda: alice.controller.convs.get(ConvKind.ROOM, "dev") is None, timeout=WAIT_MS
    )
    assert alice.windowTitle() == "Chinwag — lobby"
    # the sidebar is reachable with Tab and arrow keys move through it
    alice.controller.submit("/join dev")
    qtbot.waitUntil(lambda: alice.windowTitle() == "Chinwag — dev", timeout=WAIT_MS)
    alice.sidebar.setFocus()
    qtbot.keyClick(alice.sidebar, Qt.Key.Key_Down)
    assert alice.windowTitle() == "Chinwag — lobby"
    assert alice.sidebar.hasFocus()
    qtbot.keyClick(alice.sidebar, Qt.Key.Key_Up)
    assert alice.windowTitle() == "Chinwag — dev"
    # quick switcher: type part of a name, Enter jumps there
    alice.controller.open_direct("bob", select=False)
    alice.open_switcher()
    qtbot.keyClicks(alice.switcher.query, "bo")
    qtbot.keyClick(alice.switcher.query, Qt.Key.Key_Return)
    assert alice.windowTitle() == "Chinwag — bob"


def test_returning_to_a_busy_room_starts_at_the_first_unread_line(qtbot, pair):
    alice, bob = pair
    alice.controller.submit("/join dev")
    bob.controller.submit("/join dev")
    qtbot.waitUntil(lambda: alice.windowTitle() == "Chinwag — dev", timeout=WAIT_MS)
    lobby_a = alice.controller.convs.get(ConvKind.ROOM, "lobby")
    qtbot.waitUntil(lambda: lobby_a.has_member("bob"), timeout=WAIT_MS)
    bob.controller.set_current(bob.controller.convs.get(ConvKind.ROOM, "lobby"))
    for i in range(80):
        bob.controller.submit(f"busy line {i}")
    qtbot.waitUntil(lambda: lobby_a.unread == 80, timeout=WAIT_MS)
    alice.controller.set_current(lobby_a)
    marker = lobby_a.messages.marker
    assert marker is not None and marker.text == "busy line 0"
    view = alice.message_view
    idx = lobby_a.messages.marker_index()
    qtbot.waitUntil(
        lambda: view.visualRect(idx).intersects(view.viewport().rect()), timeout=WAIT_MS
    )
    assert not view.at_bottom()
