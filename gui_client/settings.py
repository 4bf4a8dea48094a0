"""The GUI's remembered preferences, over QSettings.

The password is deliberately never stored.  Tests (and ``--settings FILE``)
point the store at an INI file so the user's real settings are never touched.
"""

from __future__ import annotations

import getpass
from dataclasses import dataclass
from pathlib import Path

from PyQt6.QtCore import QByteArray, QSettings

from chinwag_protocol.constants import DEFAULT_HOST, DEFAULT_PORT, DEFAULT_ROOM
from chinwag_protocol.errors import RequestError
from chinwag_protocol.validation import normalize_nick


def default_nick() -> str:
    """The OS user name when it is a valid nick, else ``guest``."""
    try:
        return normalize_nick(getpass.getuser())
    except (RequestError, OSError, KeyError):
        return "guest"


@dataclass(slots=True)
class ConnectionProfile:
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    nick: str = ""
    password: str = ""
    tls: bool = False
    #: register the nick as an account with ``password`` on connecting (never saved)
    register: bool = False


class Settings:
    """Typed accessors over a QSettings store."""

    def __init__(self, path: Path | None = None) -> None:
        if path is not None:
            self._qs = QSettings(str(path), QSettings.Format.IniFormat)
        else:
            self._qs = QSettings("Chinwag", "chinwag-gui")

    def _str(self, key: str, default: str) -> str:
        value = self._qs.value(key, default)
        return value if isinstance(value, str) else default

    def _bool(self, key: str, default: bool) -> bool:
        value = self._qs.value(key, default)
        if isinstance(value, bool):
            return value
        if isinstance(value, str):
            return value.lower() in ("true", "1", "yes")
        return default

    def _int(self, key: str, default: int) -> int:
        value = self._qs.value(key, default)
        try:
            return int(value)
        except (TypeError, ValueError):
            return default

    def profile(self) -> ConnectionProfile:
        """The last connection values (password never remembered)."""
        port = self._int("connection/port", DEFAULT_PORT)
        return ConnectionProfile(
            host=self._str("connection/host", DEFAULT_HOST) or DEFAULT_HOST,
            port=port if 0 < port < 65536 else DEFAULT_PORT,
            nick=self._str("connection/nick", "") or default_nick(),
            tls=self._bool("connection/tls", False),
        )

    def save_profile(self, profile: ConnectionProfile) -> None:
        self._qs.setValue("connection/host", profile.host)
        self._qs.setValue("connection/port", profile.port)
        self._qs.setValue("connection/nick", profile.nick)
        self._qs.setValue("connection/tls", profile.tls)
        self._qs.sync()

    @property
    def notifications(self) -> bool:
        return self._bool("ui/notifications", True)

    @notifications.setter
    def notifications(self, on: bool) -> None:
        self._qs.setValue("ui/notifications", on)
        self._qs.sync()

    def rooms(self) -> list[str]:
        """Rooms open when the client last closed (rejoined on the next start)."""
        value = self._qs.value("session/rooms", "")
        if isinstance(value, str):
            names = [r for r in value.split(",") if r]
        elif isinstance(value, list):
            names = [str(r) for r in value if r]
        else:
            names = []
        return names or [DEFAULT_ROOM]

    def save_rooms(self, rooms: list[str]) -> None:
        self._qs.setValue("session/rooms", ",".join(rooms))
        self._qs.sync()

    def geometry(self) -> QByteArray | None:
        value = self._qs.value("ui/geometry")
        return value if isinstance(value, QByteArray) else None

    def save_geometry(self, data: QByteArray) -> None:
        self._qs.setValue("ui/geometry", data)
        self._qs.sync()
