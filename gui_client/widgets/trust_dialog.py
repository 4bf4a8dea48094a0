"""Certificate trust dialogs: pin a self-signed server explicitly, or warn that a pin changed.

Both are window-modal message boxes opened with ``open()`` (never ``exec()``,
which would nest a Qt loop inside the qasync one).  Trusting calls ``on_trust``
with the fingerprint the user saw; nothing is trusted by closing the box.
"""

from __future__ import annotations

import html
from collections.abc import Callable

from PyQt6.QtWidgets import QMessageBox, QWidget

from chinwag_client.tls import FingerprintChanged, TLSTrustError, UntrustedCertificate


def _fp_html(fp: str) -> str:
    return f"<pre style='font-size:small'>{html.escape(fp)}</pre>"


def certificate_dialog(
    parent: QWidget, err: TLSTrustError, on_trust: Callable[[str], None]
) -> QMessageBox:
    """Open (and return) the dialog that fits ``err``."""
    box = QMessageBox(parent)
    box.setWindowTitle("Server certificate")
    where = html.escape(f"{err.host}:{err.port}")
    if isinstance(err, FingerprintChanged):
        box.setObjectName("fingerprintChangedDialog")
        box.setIcon(QMessageBox.Icon.Critical)
        box.setText(f"<b>The certificate of {where} has changed!</b>")
        box.setInformativeText(
            "Someone may be intercepting the connection, or the server got a new "
            "certificate. Chinwag did not connect and sent nothing.<br><br>"
            f"Pinned:{_fp_html(err.pinned)}Presented now:{_fp_html(err.fingerprint)}"
            "Trust the new one only if the server's admin confirms this fingerprint."
        )
        trust = box.addButton("Trust the new certificate", QMessageBox.ButtonRole.AcceptRole)
        refuse = box.addButton("Don't connect", QMessageBox.ButtonRole.RejectRole)
        box.setDefaultButton(refuse)
    else:
        box.setObjectName("untrustedCertificateDialog")
        box.setIcon(QMessageBox.Icon.Warning)
        reason = err.reason if isinstance(err, UntrustedCertificate) else str(err)
        box.setText(f"<b>The certificate of {where} cannot be verified.</b>")
        box.setInformativeText(
            f"{html.escape(reason)}.<br><br>Its SHA-256 fingerprint is"
            f"{_fp_html(err.fingerprint)}"
            "Trust it only if it matches the fingerprint the server's admin gave you; "
            "Chinwag will remember it and warn you if it ever changes."
        )
        trust = box.addButton("Trust and connect", QMessageBox.ButtonRole.AcceptRole)
        cancel = box.addButton("Cancel", QMessageBox.ButtonRole.RejectRole)
        box.setDefaultButton(cancel)
    fingerprint = err.fingerprint

    def done() -> None:
        if box.clickedButton() is trust:
            on_trust(fingerprint)

    box.finished.connect(lambda _result: done())
    box.open()
    return box
