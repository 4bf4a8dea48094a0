"""TLS: verified connections; an untrusted certificate is a clear error, not a traceback."""

from __future__ import annotations

import ssl
import subprocess
from pathlib import Path
from typing import Any

import pytest

from gui_client.settings import ConnectionProfile
from server.app import ChinwagServer
from tests.gui.conftest import WAIT_MS, wait_connected

# certificates come from the openssl command (./dev test installs it); no skip: a
# missing openssl fails loudly in tests.security.certs.make_cert
pytestmark = [pytest.mark.gui]


@pytest.fixture
def tls_server(run: Any, settings: Any, tmp_path: Path) -> Any:
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
            "-nodes", "-days", "2", "-subj", "/CN=localhost", "-keyout", str(key),
            "-out", str(cert), "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(cert, key)
    srv = ChinwagServer(settings, ssl_context=ctx)
    run(srv.start())
    srv.cert_path = cert  # type: ignore[attr-defined]
    yield srv
    run(srv.close())


def test_untrusted_certificate_is_refused_with_a_clear_message(qtbot, tls_server, make_window):
    window = make_window(connect=False)
    window.connect_to(
        ConnectionProfile(host="127.0.0.1", port=tls_server.port, nick="alice", tls=True)
    )
    qtbot.waitUntil(lambda: window.connect_dialog is not None, timeout=WAIT_MS)
    assert "certificate not trusted" in window.connect_dialog.problem.text()
    assert window.connect_dialog.tls.isChecked()


def test_trusted_certificate_connects(qtbot, tls_server, make_window, monkeypatch):
    monkeypatch.setenv("SSL_CERT_FILE", str(tls_server.cert_path))
    window = make_window(connect=False)
    window.connect_to(
        ConnectionProfile(host="127.0.0.1", port=tls_server.port, nick="alice", tls=True)
    )
    wait_connected(qtbot, window)
    assert window.session.client is not None
    assert window.session.client.peer_certificate is not None
