"""The connect dialog: server, port, nick, password, TLS."""

from __future__ import annotations

from PyQt6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from chinwag_protocol.constants import DEFAULT_PORT, DEFAULT_TLS_PORT
from chinwag_protocol.errors import RequestError
from chinwag_protocol.validation import normalize_nick
from gui_client.settings import ConnectionProfile
from gui_client.widgets import theme


class ConnectDialog(QDialog):
    def __init__(self, profile: ConnectionProfile, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("connectDialog")
        self.setWindowTitle("Connect to a Chinwag server")
        self.setModal(True)
        self.host = QLineEdit(profile.host)
        self.host.setObjectName("hostInput")
        self.host.setAccessibleName("Server host")
        self.port = QSpinBox()
        self.port.setObjectName("portInput")
        self.port.setAccessibleName("Server port")
        self.port.setRange(1, 65535)
        self.port.setValue(profile.port)
        self.nick = QLineEdit(profile.nick)
        self.nick.setObjectName("nickInput")
        self.nick.setAccessibleName("Nick")
        self.nick.setMaxLength(24)
        self.password = QLineEdit(profile.password)
        self.password.setObjectName("passwordInput")
        self.password.setAccessibleName("Password")
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.password.setPlaceholderText("only if the server or your nick needs one")
        self.register = QCheckBox("Register this nick as a new account with the password")
        self.register.setObjectName("registerCheck")
        self.tls = QCheckBox("Use TLS (encrypted, certificate verified)")
        self.tls.setObjectName("tlsCheck")
        self.tls.setChecked(profile.tls)
        self.tls.toggled.connect(self._tls_toggled)
        self.problem = QLabel()
        self.problem.setObjectName("connectError")
        self.problem.setWordWrap(True)
        self.problem.setStyleSheet(f"color: {theme.ERROR_FG.name()};")
        self.problem.hide()
        form = QFormLayout()
        form.addRow("&Server:", self.host)
        form.addRow("P&ort:", self.port)
        form.addRow("&Nick:", self.nick)
        form.addRow("&Password:", self.password)
        form.addRow("", self.register)
        form.addRow("", self.tls)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        ok = buttons.button(QDialogButtonBox.StandardButton.Ok)
        if ok is not None:
            ok.setText("&Connect")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        title = QLabel("<b>Chinwag</b> — connect to a server")
        layout.addWidget(title)
        layout.addLayout(form)
        layout.addWidget(self.problem)
        layout.addWidget(buttons)
        self.nick.setFocus()
        self.resize(420, self.sizeHint().height())

    def _tls_toggled(self, on: bool) -> None:
        """Follow the server's default ports: 7447 plain, 7448 TLS (a custom port stays)."""
        if on and self.port.value() == DEFAULT_PORT:
            self.port.setValue(DEFAULT_TLS_PORT)
        elif not on and self.port.value() == DEFAULT_TLS_PORT:
            self.port.setValue(DEFAULT_PORT)

    def show_problem(self, text: str) -> None:
        self.problem.setText(text)
        self.problem.setVisible(bool(text))

    def profile(self) -> ConnectionProfile:
        return ConnectionProfile(
            host=self.host.text().strip(),
            port=self.port.value(),
            nick=self.nick.text().strip(),
            password=self.password.text(),
            tls=self.tls.isChecked(),
            register=self.register.isChecked(),
        )

    def accept(self) -> None:
        p = self.profile()
        if not p.host:
            self.show_problem("Enter the server's host name or address.")
            self.host.setFocus()
            return
        if p.register and not p.password:
            self.show_problem("Choose a password for the new account.")
            self.password.setFocus()
            return
        try:
            normalize_nick(p.nick)
        except RequestError as exc:
            self.show_problem(f"That nick will not do: {exc.message}.")
            self.nick.setFocus()
            return
        self.show_problem("")
        super().accept()
