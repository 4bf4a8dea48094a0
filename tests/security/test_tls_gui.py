"""The GUI over TLS: explicit trust of a self-signed server, a loud refusal when a pin changed."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from PyQt6.QtWidgets import QMessageBox

from chinwag_client.tls import PinStore
from gui_client.settings import ConnectionProfile
from server.app import ChinwagServer
from server.config import Settings as ServerSettings
from tests.gui.conftest import WAIT_MS, make_window, qloop, run, wait_connected  # noqa: F401
from tests.security.certs import Cert, make_cert

# the offscreen platform cannot propagate size hints (as in tests/gui/conftest.py)
pytestmark = [pytest.mark.gui, pytest.mark.qt_log_ignore("propagateSizeHints")]


@pytest.fixture
def cert(tmp_path: Path) -> Cert:
    return make_cert(tmp_path / "certs")


@pytest.fixture
def tls_server(
    run: Callable[..., Any],  # noqa: F811
    settings: ServerSettings,
    cert: Cert,
) -> Iterator[ChinwagServer]:
    cfg = dataclasses.replace(settings, tls_cert=str(cert.cert), tls_key=str(cert.key), tls_port=0)
    srv = ChinwagServer(cfg.validate())
    run(srv.start())
    yield srv
    run(srv.close())


def click(box: QMessageBox, label: str) -> None:
    (button,) = [b for b in box.buttons() if b.text() == label]
    button.click()


def test_untrusted_certificate_asks_then_pins_and_connects(
    qtbot: Any,
    tls_server: ChinwagServer,
    make_window: Any,  # noqa: F811
    cert: Cert,
    tmp_path: Path,
) -> None:
    assert tls_server.tls_port is not None
    window = make_window(connect=False)
    window.session.pins = pins = PinStore(tmp_path / "known.json")
    profile = ConnectionProfile(host="127.0.0.1", port=tls_server.tls_port, nick="alice", tls=True)
    window.connect_to(profile)
    qtbot.waitUntil(lambda: getattr(window, "trust_dialog", None) is not None, timeout=WAIT_MS)
    box: QMessageBox = window.trust_dialog
    assert box.objectName() == "untrustedCertificateDialog"
    assert cert.fingerprint in box.informativeText()
    assert window.connect_dialog is not None
    assert cert.fingerprint in window.connect_dialog.problem.text()
    assert not window.session.connected and pins.load() == {}
    click(box, "Trust and connect")
    wait_connected(qtbot, window)
    assert pins.get("127.0.0.1", tls_server.tls_port) == cert.fingerprint


def test_changed_fingerprint_is_refused_with_a_warning(
    qtbot: Any,
    tls_server: ChinwagServer,
    make_window: Any,  # noqa: F811
    cert: Cert,
    tmp_path: Path,
) -> None:
    assert tls_server.tls_port is not None
    old = make_cert(tmp_path / "old").fingerprint
    window = make_window(connect=False)
    window.session.pins = pins = PinStore(tmp_path / "known.json")
    pins.pin("127.0.0.1", tls_server.tls_port, old)
    profile = ConnectionProfile(host="127.0.0.1", port=tls_server.tls_port, nick="alice", tls=True)
    window.connect_to(profile)
    qtbot.waitUntil(lambda: getattr(window, "trust_dialog", None) is not None, timeout=WAIT_MS)
    box: QMessageBox = window.trust_dialog
    assert box.objectName() == "fingerprintChangedDialog"
    assert box.icon() == QMessageBox.Icon.Critical
    assert old in box.informativeText() and cert.fingerprint in box.informativeText()
    assert "CHANGED" in window.connect_dialog.problem.text()
    click(box, "Don't connect")
    qtbot.wait(200)
    assert not window.session.connected
    assert pins.get("127.0.0.1", tls_server.tls_port) == old
    assert tls_server.hub is not None and not tls_server.hub.nicks, "no hello was sent"
