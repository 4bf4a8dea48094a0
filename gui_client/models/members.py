"""The member list of the current room, with each nick in its own colour."""

from __future__ import annotations

from typing import Any

from PyQt6.QtCore import QAbstractListModel, QModelIndex, QObject, QPersistentModelIndex, Qt
from PyQt6.QtGui import QColor

from gui_client.text import nick_rgb


class MemberModel(QAbstractListModel):
    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._nicks: list[str] = []
        self.me: str | None = None

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._nicks)

    def data(
        self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._nicks):
            return None
        nick = self._nicks[index.row()]
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.AccessibleTextRole):
            return nick
        if role == Qt.ItemDataRole.ForegroundRole:
            return QColor(*nick_rgb(nick))
        if role == Qt.ItemDataRole.ToolTipRole:
            you = " (you)" if self.me and nick.casefold() == self.me.casefold() else ""
            return f"{nick}{you} — double-click for a direct message"
        return None

    def set_nicks(self, nicks: list[str]) -> None:
        if nicks == self._nicks:
            return
        self.beginResetModel()
        self._nicks = list(nicks)
        self.endResetModel()

    def nicks(self) -> list[str]:
        return list(self._nicks)
