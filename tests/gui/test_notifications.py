"""Notifications for DMs and mentions while the window is not active; a setting turns them off."""

from __future__ import annotations

import pytest

from gui_client.settings import Settings
from tests.gui.conftest import WAIT_MS, wait_connected

pytestmark = pytest.mark.gui


def test_dm_and_mention_notify_only_when_inactive_and_enabled(
    qtbot, gui_server, make_window, tmp_path
):
    alice = make_window("alice", gui_server.port)
    wait_connected(qtbot, alice)
    bob = make_window("bob", gui_server.port)
    wait_connected(qtbot, bob)
    shown: list[tuple[str, str]] = []
    alice.notifier.shown.connect(lambda title, body: shown.append((title, body)))
    bob.activateWindow()
    qtbot.waitUntil(lambda: bob.isActiveWindow() and not alice.isActiveWindow(), timeout=WAIT_MS)

    bob.controller.submit("/msg alice lunch?")
    qtbot.waitUntil(lambda: len(shown) == 1, timeout=WAIT_MS)
    assert shown[0] == ("bob (direct message)", "lunch?")
    bob.controller.submit("alice: the build broke")
    qtbot.waitUntil(lambda: len(shown) == 2, timeout=WAIT_MS)
    assert shown[1] == ("bob in #lobby", "alice: the build broke")
    bob.controller.submit("no mention here")

    alice.notifications_action.setChecked(False)
    assert Settings(tmp_path / "gui-0.ini").notifications is False
    bob.controller.submit("/msg alice still there?")
    lobby = alice.controller.current
    qtbot.waitUntil(
        lambda: any(r.text == "no mention here" for r in lobby.messages.rows()), timeout=WAIT_MS
    )
    dm = alice.controller.convs.directs()[0]
    qtbot.waitUntil(lambda: dm.messages.rows()[-1].text == "still there?", timeout=WAIT_MS)
    assert len(shown) == 2

    # while alice's window is active, nothing pops up
    alice.notifications_action.setChecked(True)
    alice.activateWindow()
    qtbot.waitUntil(alice.isActiveWindow, timeout=WAIT_MS)
    bob.controller.submit("/msg alice ping")
    qtbot.waitUntil(lambda: dm.messages.rows()[-1].text == "ping", timeout=WAIT_MS)
    assert len(shown) == 2
