"""Connecting: flags connect at once, the window shows where you are."""

from __future__ import annotations

import pytest
from PyQt6.QtWidgets import QLabel, QLineEdit, QListView, QStatusBar

from gui_client.session import ConnState
from tests.gui.conftest import WAIT_MS, wait_connected

pytestmark = pytest.mark.gui


def test_connects_and_joins_lobby(qtbot, gui_server, make_window):
    window = make_window("alice", gui_server.port)
    wait_connected(qtbot, window)
    assert window.session.state is ConnState.CONNECTED
    assert window.windowTitle() == "Chinwag — lobby"
    assert "Connected" in window.state_label.text()
    lobby = window.controller.current
    assert lobby is not None and lobby.name == "lobby"
    assert lobby.members == ["alice"]


def test_key_widgets_have_stable_names_and_accessible_names(qtbot, gui_server, make_window):
    window = make_window("alice", gui_server.port)
    wait_connected(qtbot, window)
    for name, kind in [
        ("roomList", QListView),
        ("messageView", QListView),
        ("memberList", QListView),
        ("messageInput", QLineEdit),
        ("topicBar", QLabel),
        ("statusBar", QStatusBar),
    ]:
        widget = window.findChild(kind, name)
        assert widget is not None, name
        assert widget.accessibleName(), name


def test_input_has_focus_after_activation(qtbot, gui_server, make_window):
    window = make_window("alice", gui_server.port)
    wait_connected(qtbot, window)
    window.member_list.setFocus()
    window.activateWindow()
    qtbot.waitUntil(lambda: window.isActiveWindow(), timeout=WAIT_MS)
    window.member_list.setFocus()
    window._activated()
    qtbot.waitUntil(lambda: window.input.hasFocus(), timeout=WAIT_MS)
