"""Errors reach the user as clear messages: no traceback, no frozen window."""

from __future__ import annotations

import socket

import pytest

from chinwag_client.client import ChinwagClient
from gui_client.models.messages import Kind
from gui_client.session import ConnState
from tests.gui.conftest import WAIT_MS, wait_connected

pytestmark = pytest.mark.gui


def test_nick_taken_is_shown_in_the_connect_dialog(qtbot, gui_server, make_window, run):
    async def hold() -> ChinwagClient:
        c = await ChinwagClient.connect(gui_server.host, gui_server.port)
        await c.hello("alice")
        return c

    holder = run(hold())
    window = make_window("alice", gui_server.port)
    qtbot.waitUntil(lambda: window.connect_dialog is not None, timeout=WAIT_MS)
    dialog = window.connect_dialog
    assert dialog.isVisible()
    assert "already in use" in dialog.problem.text()
    assert dialog.nick.text() == "alice"
    assert window.session.state is ConnState.DISCONNECTED
    assert "already in use" in window.statusBar().currentMessage()
    # choosing another nick in the dialog connects
    dialog.nick.setText("alice2")
    dialog.accept()
    wait_connected(qtbot, window)
    assert window.controller.me == "alice2"
    run(holder.close())


def test_unreachable_server_is_reported(qtbot, make_window):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nothing listens there once closed
    window = make_window("alice", port)
    qtbot.waitUntil(lambda: window.connect_dialog is not None, timeout=WAIT_MS)
    assert "Cannot reach 127.0.0.1" in window.connect_dialog.problem.text()
    assert window.session.state is ConnState.DISCONNECTED
    assert "Disconnected" in window.state_label.text()


def test_invalid_nick_is_refused_by_the_dialog(qtbot, make_window):
    window = make_window(connect=False)
    window.show_connect_dialog()
    dialog = window.connect_dialog
    dialog.nick.setText("9lives")
    dialog.accept()
    assert dialog.isVisible()
    assert "starts with a letter" in dialog.problem.text()
    assert window.session.state is ConnState.DISCONNECTED


def test_server_going_away_is_shown_and_sending_fails_cleanly(
    qtbot, restartable_server, make_window, run
):
    from gui_client.backoff import Backoff

    srv = restartable_server()
    window = make_window("alice", srv.port, backoff=Backoff(initial=600, maximum=600))
    wait_connected(qtbot, window)
    lobby = window.controller.current
    run(srv.close())
    qtbot.waitUntil(lambda: window.session.state is ConnState.RECONNECTING, timeout=WAIT_MS)
    texts = [r.text for r in lobby.messages.rows()]
    assert any("restarting or shutting down" in t for t in texts)
    window.controller.submit("anyone there?")
    qtbot.waitUntil(lambda: lobby.messages.rows()[-1].kind is Kind.ERROR, timeout=WAIT_MS)
    last = lobby.messages.rows()[-1].text
    assert "Not connected" in last


def test_command_line_entry_point(tmp_path):
    import subprocess
    import sys

    ok = subprocess.run(
        [sys.executable, "-m", "gui_client", "--help"], capture_output=True, text=True, timeout=60
    )
    assert ok.returncode == 0 and "--nick" in ok.stdout and "--room" in ok.stdout
    bad = subprocess.run(
        [sys.executable, "-m", "gui_client", "--port", "70000"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert bad.returncode == 2
    assert "--port must be 1 to 65535" in bad.stderr
    assert "Traceback" not in bad.stderr
    import os

    headless = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")
    }
    no_display = subprocess.run(
        [sys.executable, "-m", "gui_client", "--nick", "zed"],
        capture_output=True,
        text=True,
        timeout=60,
        env=headless,
    )
    assert no_display.returncode == 2
    assert "no graphical display" in no_display.stderr


def test_wrong_password_and_missing_password_are_explained(qtbot, gui_server, make_window, run):
    from chinwag_protocol.messages import Ok, Register
    from gui_client.settings import ConnectionProfile

    async def register() -> None:
        c = await ChinwagClient.connect(gui_server.host, gui_server.port)
        await c.hello("dora")
        await c.call(Register(password="correct horse battery staple"), Ok)
        await c.quit()

    run(register())
    window = make_window(connect=False)
    for password, expected in [
        ("not the right one 42", "Wrong password for “dora”"),
        ("", "is a registered nick"),
    ]:
        window.connect_dialog = None
        window.connect_to(
            ConnectionProfile(
                host="127.0.0.1", port=gui_server.port, nick="dora", password=password
            )
        )
        qtbot.waitUntil(lambda: window.connect_dialog is not None, timeout=WAIT_MS)
        assert expected in window.connect_dialog.problem.text()
        assert window.connect_dialog.password.text() == ""  # a wrong one is not kept
        assert window.session.state is ConnState.DISCONNECTED
    dialog = window.connect_dialog
    dialog.password.setText("correct horse battery staple")
    dialog.accept()
    wait_connected(qtbot, window)
    assert window.controller.me == "dora"


def test_internal_errors_are_reported_in_the_window_not_fatal(
    qtbot, make_window, qloop, monkeypatch, capsys
):
    import sys

    from PyQt6.QtCore import QTimer

    from gui_client.main import install_error_reporting

    window = make_window(connect=False)
    conv = window.controller.open_direct("bob")
    monkeypatch.setattr(sys, "excepthook", sys.excepthook)  # put back after the test
    collector = qloop.get_exception_handler()
    try:
        install_error_reporting(window, qloop)

        def boom_in_slot() -> None:
            raise ValueError("kaboom in a slot")

        def boom_in_loop() -> None:
            raise KeyError("kaboom in the loop")

        QTimer.singleShot(0, boom_in_slot)
        qloop.call_soon(boom_in_loop)
        qtbot.waitUntil(
            lambda: sum("kaboom" in r.text for r in conv.messages.rows()) == 2, timeout=WAIT_MS
        )
    finally:
        qloop.set_exception_handler(collector)
    texts = [r.text for r in conv.messages.rows() if r.kind is Kind.ERROR]
    assert any(t.startswith("Internal error: ValueError: kaboom in a slot") for t in texts)
    assert "Traceback" in capsys.readouterr().err
    assert window.isVisible()
