"""Accounts and room operator commands in the real GUI (pytest-qt, real server).

The GUI fixtures live in tests/gui/conftest.py; importing them here makes
pytest use them, and their names then reappear as test parameters.
"""

# ruff: noqa: F811

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest
from PyQt6.QtCore import Qt

from gui_client.models.conversations import Conversation, ConvKind
from gui_client.models.messages import Kind
from gui_client.settings import ConnectionProfile
from gui_client.widgets.connect_dialog import ConnectDialog
from gui_client.widgets.main_window import MainWindow
from server.config import Settings
from tests.gui.conftest import (  # noqa: F401 - fixtures used by name
    WAIT_MS,
    gui_server,
    make_window,
    qloop,
    run,
    wait_connected,
)

pytestmark = [pytest.mark.gui, pytest.mark.qt_log_ignore("propagateSizeHints")]


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """The server's settings, with cheap argon2 so registering is quick."""
    return Settings(
        port=0,
        data_dir=tmp_path / "data",
        history_sync="normal",
        password_time_cost=1,
        password_memory_kib=8,
    ).validate()


def type_line(qtbot: Any, window: MainWindow, line: str) -> None:
    window.input.setText(line)
    qtbot.keyClick(window.input, Qt.Key.Key_Return)


def lines(conv: Conversation | None) -> list[str]:
    return [] if conv is None else [r.text for r in conv.messages.rows() if r.kind is not Kind.CHAT]


def shown(window: MainWindow) -> list[str]:
    """The member list as displayed."""
    model = window.members
    return [str(model.data(model.index(row, 0))) for row in range(model.rowCount())]


def wait_line(qtbot: Any, conv: Conversation | None, fragment: str) -> None:
    try:
        qtbot.waitUntil(lambda: any(fragment in t for t in lines(conv)), timeout=WAIT_MS)
    except Exception:
        raise AssertionError(f"{fragment!r} not in {lines(conv)}") from None


def test_operator_commands_in_the_gui(qtbot: Any, gui_server: Any, make_window: Any) -> None:
    alice = make_window("alice", gui_server.port, rooms=["den"])
    wait_connected(qtbot, alice)
    bob = make_window("bob", gui_server.port, rooms=["den"])
    wait_connected(qtbot, bob)
    den_a = alice.controller.convs.get(ConvKind.ROOM, "den")
    den_b = bob.controller.convs.get(ConvKind.ROOM, "den")
    qtbot.waitUntil(lambda: den_a.has_member("bob"), timeout=WAIT_MS)

    # the member list marks operators with @ (and voiced members with +)
    assert alice.controller.current is den_a
    qtbot.waitUntil(lambda: shown(alice) == ["@alice", "bob"], timeout=WAIT_MS)
    qtbot.waitUntil(lambda: shown(bob) == ["@alice", "bob"], timeout=WAIT_MS)
    type_line(qtbot, alice, "/voice bob")
    qtbot.waitUntil(lambda: shown(alice) == ["@alice", "+bob"], timeout=WAIT_MS)
    qtbot.waitUntil(lambda: shown(bob) == ["@alice", "+bob"], timeout=WAIT_MS)
    type_line(qtbot, alice, "/devoice bob")
    qtbot.waitUntil(lambda: shown(bob) == ["@alice", "bob"], timeout=WAIT_MS)
    assert alice.members.nicks() == ["alice", "bob"]

    type_line(qtbot, alice, "/mode +m")
    wait_line(qtbot, den_a, "den: moderated; operators: alice")
    wait_line(qtbot, den_b, "alice set den: moderated")
    type_line(qtbot, bob, "may I speak?")
    wait_line(qtbot, den_b, "only voiced members may speak")
    type_line(qtbot, bob, "/kick alice")
    wait_line(qtbot, den_b, "not an operator")
    type_line(qtbot, alice, "/mode +q")
    wait_line(qtbot, den_a, "unknown mode")

    type_line(qtbot, alice, "/kick bob off you go")
    wait_line(qtbot, den_a, "you kicked bob from den")
    wait_line(qtbot, den_b, "alice removed you from den (off you go)")
    qtbot.waitUntil(lambda: not den_b.joined, timeout=WAIT_MS)
    qtbot.waitUntil(lambda: not den_a.has_member("bob"), timeout=WAIT_MS)

    # a key given with /join is used, and kept for rejoining
    type_line(qtbot, alice, "/mode +k door")
    wait_line(qtbot, den_a, "(key: door)")
    type_line(qtbot, bob, "/join den")
    wait_line(qtbot, den_b, "needs the right key")
    type_line(qtbot, bob, "/join den door")
    qtbot.waitUntil(lambda: den_b.joined, timeout=WAIT_MS)
    assert bob.controller.room_keys == {"den": "door"}


def test_register_then_sign_in_with_the_password(
    qtbot: Any, gui_server: Any, make_window: Any
) -> None:
    first = make_window("carol", gui_server.port)
    wait_connected(qtbot, first)
    lobby = first.controller.convs.get(ConvKind.ROOM, "lobby")
    type_line(qtbot, first, "/register first-password")
    wait_line(qtbot, lobby, "registered account")
    type_line(qtbot, first, "/password first-password second-password")
    wait_line(qtbot, lobby, "your password was changed")

    second = make_window(connect=False)
    profile = ConnectionProfile(host="127.0.0.1", port=gui_server.port, nick="carol")
    second.connect_to(dataclasses.replace(profile, password="second-password"))
    wait_connected(qtbot, second)
    assert second.controller.me == "carol"


def test_connect_dialog_registers_a_new_account(
    qtbot: Any, gui_server: Any, make_window: Any
) -> None:
    dialog = ConnectDialog(ConnectionProfile(port=gui_server.port, nick="dora"))
    qtbot.addWidget(dialog)
    dialog.register.setChecked(True)
    dialog.accept()  # no password yet: refused in the dialog, nothing sent
    assert dialog.problem.isVisibleTo(dialog) and "password" in dialog.problem.text()
    dialog.password.setText("dora-password")
    profile = dialog.profile()
    assert profile.register and profile.password == "dora-password"

    window = make_window(connect=False)
    window.connect_to(profile)
    wait_connected(qtbot, window)
    # the account exists: a guest is refused the nick, the password signs in
    other = make_window(connect=False)
    with qtbot.waitSignal(other.session.failed, timeout=WAIT_MS) as refused:
        other.connect_to(ConnectionProfile(host="127.0.0.1", port=gui_server.port, nick="dora"))
    assert refused.args[0] == "nick_reserved"
    third = make_window(connect=False)
    third.connect_to(
        ConnectionProfile(
            host="127.0.0.1", port=gui_server.port, nick="dora", password="dora-password"
        )
    )
    wait_connected(qtbot, third)
