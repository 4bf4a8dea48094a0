"""The connect dialog, remembered values, the room browser and new-DM dialog."""

from __future__ import annotations

import pytest
from PyQt6.QtCore import Qt
from PyQt6.QtWidgets import QInputDialog

from chinwag_protocol.constants import DEFAULT_PORT, DEFAULT_TLS_PORT
from gui_client.main import build_parser, profile_from_args
from gui_client.models.conversations import ConvKind
from gui_client.session import ConnState
from gui_client.settings import ConnectionProfile, Settings, default_nick
from gui_client.widgets.connect_dialog import ConnectDialog
from tests.gui.conftest import WAIT_MS, wait_connected

pytestmark = pytest.mark.gui


def test_connect_dialog_defaults_connects_and_remembers(qtbot, gui_server, make_window, tmp_path):
    window = make_window(connect=False)
    window.show_connect_dialog()
    dialog = window.connect_dialog
    assert dialog.host.text() == "127.0.0.1"
    assert dialog.port.value() == DEFAULT_PORT
    assert dialog.nick.text() == default_nick()
    dialog.port.setValue(gui_server.port)
    dialog.nick.setText("dora")
    qtbot.keyClick(dialog.nick, Qt.Key.Key_Return)
    wait_connected(qtbot, window)
    assert window.controller.me == "dora"
    remembered = Settings(tmp_path / "gui-0.ini").profile()
    assert (remembered.host, remembered.port, remembered.nick) == (
        "127.0.0.1",
        gui_server.port,
        "dora",
    )


def test_password_is_never_stored(qtbot, gui_server, make_window, tmp_path):
    window = make_window(connect=False)
    window.show_connect_dialog()
    dialog = window.connect_dialog
    dialog.port.setValue(gui_server.port)
    dialog.nick.setText("dora")
    dialog.password.setText("secret-pass-123")
    dialog.accept()
    assert window.session.target is not None
    assert window.session.target.password == "secret-pass-123"
    assert Settings(tmp_path / "gui-0.ini").profile().password == ""
    assert "secret-pass-123" not in (tmp_path / "gui-0.ini").read_text()
    # however the server takes the password (accounts may refuse it), the login settles
    qtbot.waitUntil(
        lambda: window.session.state in (ConnState.CONNECTED, ConnState.DISCONNECTED),
        timeout=WAIT_MS,
    )


def test_flags_fill_the_profile():
    args = build_parser().parse_args(["--host", "chat.example", "--nick", "zed", "--room", "ops"])
    p = profile_from_args(args, ConnectionProfile(port=7000, nick="old"))
    assert (p.host, p.port, p.nick, p.tls) == ("chat.example", 7000, "zed", False)
    assert args.room == ["ops"]


def test_tls_follows_the_default_ports():
    args = build_parser().parse_args(["--tls"])
    assert profile_from_args(args, ConnectionProfile(port=DEFAULT_PORT)).port == DEFAULT_TLS_PORT
    assert profile_from_args(args, ConnectionProfile(port=7000)).port == 7000


def test_connect_dialog_tls_box_switches_between_default_ports(qtbot):
    dialog = ConnectDialog(ConnectionProfile(port=DEFAULT_PORT))
    qtbot.addWidget(dialog)
    dialog.tls.setChecked(True)
    assert dialog.port.value() == DEFAULT_TLS_PORT
    dialog.tls.setChecked(False)
    assert dialog.port.value() == DEFAULT_PORT
    dialog.port.setValue(9000)
    dialog.tls.setChecked(True)
    assert dialog.port.value() == 9000  # a port the user chose stays


def test_room_browser_lists_and_joins(qtbot, gui_server, make_window):
    alice = make_window("alice", gui_server.port, rooms=["lobby", "dev"])
    wait_connected(qtbot, alice, rooms=2)
    alice.controller.submit("/topic where the builds are discussed")
    alice.controller.close_conversation(alice.controller.convs.get(ConvKind.ROOM, "lobby"))
    qtbot.waitUntil(
        lambda: alice.controller.convs.get(ConvKind.ROOM, "lobby") is None, timeout=WAIT_MS
    )
    alice.open_room_browser()
    browser = alice.room_browser
    qtbot.waitUntil(lambda: browser.model.rowCount() >= 2, timeout=WAIT_MS)
    names = [browser.model.item(r, 0).text() for r in range(browser.model.rowCount())]
    assert "#dev" in names and "#lobby" in names
    browser.filter.setText("lob")
    assert browser.proxy.rowCount() == 1
    qtbot.keyClick(browser.filter, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: alice.windowTitle() == "Chinwag — lobby", timeout=WAIT_MS)
    # a new room typed in the filter is created
    alice.open_room_browser()
    browser = alice.room_browser
    browser.filter.setText("brand-new")
    qtbot.waitUntil(lambda: browser.status.text() != "Loading…", timeout=WAIT_MS)
    qtbot.keyClick(browser.filter, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: alice.windowTitle() == "Chinwag — brand-new", timeout=WAIT_MS)


def test_new_direct_message_dialog(qtbot, gui_server, make_window):
    alice = make_window("alice", gui_server.port)
    wait_connected(qtbot, alice)
    bob = make_window("bob", gui_server.port)
    wait_connected(qtbot, bob)
    alice.open_new_direct()
    dialog = alice.findChild(QInputDialog, "directDialog")
    assert dialog is not None
    dialog.setTextValue("bob")
    dialog.accept()
    assert alice.windowTitle() == "Chinwag — bob"
    alice.controller.submit("hi from the dialog")
    convs = bob.controller.convs
    qtbot.waitUntil(lambda: convs.get(ConvKind.DIRECT, "alice") is not None, timeout=WAIT_MS)
    dm = convs.get(ConvKind.DIRECT, "alice")
    qtbot.waitUntil(lambda: len(dm.messages) == 1, timeout=WAIT_MS)
    assert dm.messages.row(0).text == "hi from the dialog"


def test_screenshot_command_renders_a_conversation(run, tmp_path):
    from PyQt6.QtGui import QImage

    from gui_client.screenshot import render

    out = tmp_path / "shot.png"
    run(render(out, (900, 600)), timeout_ms=60_000)
    image = QImage(str(out))
    assert (image.width(), image.height()) == (900, 600)
