"""The member list of the current room, with each nick in its own colour."""

from __future__ import annotations

from collections.abc import Set
from typing import Any

from PyQt6.QtCore import QAbstractListModel, QModelIndex, QObject, QPersistentModelIndex, Qt
from PyQt6.QtGui import QColor

from chinwag_protocol.validation import nick_key
from gui_client.text import nick_rgb


class MemberModel(QAbstractListModel):
    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._nicks: list[str] = []
        #: nick keys of operators and voiced members
        self._ops: frozenset[str] = frozenset()
        self._voiced: frozenset[str] = frozenset()
        self.me: str | None = None

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._nicks)

    def data(
        self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._nicks):
            return None
        nick = self._nicks[index.row()]
        key = nick_key(nick)
        rank = "operator" if key in self._ops else "voiced" if key in self._voiced else ""
        if role == Qt.ItemDataRole.DisplayRole:
            return {"operator": "@", "voiced": "+"}.get(rank, "") + nick
        if role == Qt.ItemDataRole.AccessibleTextRole:
            return f"{nick}, {rank}" if rank else nick
        if role == Qt.ItemDataRole.ForegroundRole:
            return QColor(*nick_rgb(nick))
        if role == Qt.ItemDataRole.ToolTipRole:
            you = " (you)" if self.me and nick.casefold() == self.me.casefold() else ""
            what = f", room {rank}" if rank else ""
            return f"{nick}{you}{what} — double-click for a direct message"
        return None

    def set_nicks(
        self, nicks: list[str], ops: Set[str] = frozenset(), voiced: Set[str] = frozenset()
    ) -> None:
        """Show ``nicks``; ``ops`` and ``voiced`` are nick keys to mark @ and +."""
        if nicks == self._nicks and ops == self._ops and voiced == self._voiced:
            return
        self.beginResetModel()
        self._nicks = list(nicks)
        self._ops, self._voiced = frozenset(ops), frozenset(voiced)
        self.endResetModel()

    def nicks(self) -> list[str]:
        return list(self._nicks)
