"""Desktop notifications for direct messages and mentions while the window is inactive.

Uses the system tray's balloon when a tray exists, and always asks the window
manager to flag the window (``QApplication.alert``).  Off when the user turns
the setting off.
"""

from __future__ import annotations

from PyQt6.QtCore import QObject, pyqtSignal
from PyQt6.QtGui import QIcon
from PyQt6.QtWidgets import QApplication, QSystemTrayIcon, QWidget

from gui_client.settings import Settings


class Notifier(QObject):
    #: (title, body) each time a notification is actually shown
    shown = pyqtSignal(str, str)

    def __init__(self, settings: Settings, window: QWidget, icon: QIcon) -> None:
        super().__init__(window)
        self._settings = settings
        self._window = window
        self.tray: QSystemTrayIcon | None = None
        if QSystemTrayIcon.isSystemTrayAvailable():
            self.tray = QSystemTrayIcon(icon, self)
            self.tray.setToolTip("Chinwag")
            self.tray.activated.connect(lambda _reason: self._raise())
            self.tray.messageClicked.connect(self._raise)
            self.tray.show()

    @property
    def enabled(self) -> bool:
        return self._settings.notifications

    @enabled.setter
    def enabled(self, on: bool) -> None:
        self._settings.notifications = on

    def notify(self, title: str, body: str) -> None:
        if not self.enabled:
            return
        if self.tray is not None and QSystemTrayIcon.supportsMessages():
            self.tray.showMessage(title, body, QSystemTrayIcon.MessageIcon.Information, 8000)
        QApplication.alert(self._window)
        self.shown.emit(title, body)

    def _raise(self) -> None:
        self._window.showNormal()
        self._window.raise_()
        self._window.activateWindow()

    def close(self) -> None:
        if self.tray is not None:
            self.tray.hide()
