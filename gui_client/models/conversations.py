"""Open conversations (rooms and direct chats) and the sidebar's list model.

The sidebar shows two sections, *Rooms* then *Direct messages*, each sorted
by name; section titles are rows that cannot be selected.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

from PyQt6.QtCore import QAbstractListModel, QModelIndex, QObject, QPersistentModelIndex, Qt

from chinwag_protocol.validation import nick_key
from gui_client.models.messages import MessageModel


class ConvKind(enum.Enum):
    ROOM = "room"
    DIRECT = "direct"


@dataclass(eq=False)
class Conversation:
    kind: ConvKind
    name: str
    messages: MessageModel
    topic: str = ""
    members: list[str] = field(default_factory=list)
    #: nick keys of the members who are operators / voiced (shown as @nick / +nick)
    ops: set[str] = field(default_factory=set)
    voiced: set[str] = field(default_factory=set)
    unread: int = 0
    mention: bool = False
    #: a room we are in (False after /part, or while reconnecting)
    joined: bool = False
    #: no older history on the server
    history_done: bool = False
    loading_older: bool = False
    #: what was typed in the input line and not sent when the user switched away
    draft: str = ""

    @property
    def key(self) -> str:
        return conv_key(self.kind, self.name)

    @property
    def title(self) -> str:
        return f"#{self.name}" if self.kind is ConvKind.ROOM else self.name

    def set_members(self, nicks: list[str]) -> None:
        self.members = sorted(set(nicks), key=str.casefold)

    def add_member(self, nick: str) -> None:
        if all(nick_key(m) != nick_key(nick) for m in self.members):
            self.set_members([*self.members, nick])

    def remove_member(self, nick: str) -> bool:
        key = nick_key(nick)
        kept = [m for m in self.members if nick_key(m) != key]
        changed = len(kept) != len(self.members)
        self.members = kept
        return changed

    def has_member(self, nick: str) -> bool:
        key = nick_key(nick)
        return any(nick_key(m) == key for m in self.members)


def conv_key(kind: ConvKind, name: str) -> str:
    return ("#" if kind is ConvKind.ROOM else "@") + nick_key(name)


@dataclass(frozen=True, slots=True)
class _Header:
    title: str


class ConversationModel(QAbstractListModel):
    ConversationRole = Qt.ItemDataRole.UserRole + 1
    UnreadRole = Qt.ItemDataRole.UserRole + 2
    MentionRole = Qt.ItemDataRole.UserRole + 3
    HeaderRole = Qt.ItemDataRole.UserRole + 4

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._convs: dict[str, Conversation] = {}
        self._rows: list[Conversation | _Header] = []

    # ---- Qt interface ---------------------------------------------------------

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def flags(self, index: QModelIndex | QPersistentModelIndex) -> Qt.ItemFlag:
        if index.isValid() and isinstance(self._rows[index.row()], _Header):
            return Qt.ItemFlag.ItemIsEnabled
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable

    def data(
        self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        item = self._rows[index.row()]
        if isinstance(item, _Header):
            if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.AccessibleTextRole):
                return item.title
            return True if role == self.HeaderRole else None
        if role == Qt.ItemDataRole.DisplayRole:
            return item.title
        if role == Qt.ItemDataRole.AccessibleTextRole:
            extra = f", {item.unread} unread" if item.unread else ""
            return f"{item.title}{extra}{', mentioned' if item.mention else ''}"
        if role == Qt.ItemDataRole.ToolTipRole:
            return item.topic or item.title
        if role == self.ConversationRole:
            return item
        if role == self.UnreadRole:
            return item.unread
        if role == self.MentionRole:
            return item.mention
        if role == self.HeaderRole:
            return False
        return None

    # ---- conversations --------------------------------------------------------

    def get(self, kind: ConvKind, name: str) -> Conversation | None:
        return self._convs.get(conv_key(kind, name))

    def conversations(self) -> list[Conversation]:
        """In sidebar order (rooms, then direct chats)."""
        return [r for r in self._rows if isinstance(r, Conversation)]

    def rooms(self) -> list[Conversation]:
        return [c for c in self.conversations() if c.kind is ConvKind.ROOM]

    def directs(self) -> list[Conversation]:
        return [c for c in self.conversations() if c.kind is ConvKind.DIRECT]

    def ensure(self, kind: ConvKind, name: str) -> Conversation:
        conv = self.get(kind, name)
        if conv is None:
            conv = Conversation(kind, name, MessageModel(self))
            self._convs[conv.key] = conv
            self._rebuild()
        return conv

    def remove(self, conv: Conversation) -> None:
        if self._convs.pop(conv.key, None) is not None:
            self._rebuild()

    def rekey(self, conv: Conversation, new_name: str) -> None:
        """Rename a direct chat (its peer changed nick)."""
        self._convs.pop(conv.key, None)
        conv.name = new_name
        self._convs[conv.key] = conv
        self._rebuild()

    def index_of(self, conv: Conversation) -> QModelIndex:
        for i, item in enumerate(self._rows):
            if item is conv:
                return self.index(i)
        return QModelIndex()

    def changed(self, conv: Conversation) -> None:
        """Repaint ``conv``'s row (unread count, mention, name)."""
        idx = self.index_of(conv)
        if idx.isValid():
            self.dataChanged.emit(idx, idx)

    def _rebuild(self) -> None:
        convs = sorted(self._convs.values(), key=lambda c: c.name.casefold())
        rooms = [c for c in convs if c.kind is ConvKind.ROOM]
        directs = [c for c in convs if c.kind is ConvKind.DIRECT]
        rows: list[Conversation | _Header] = [_Header("Rooms"), *rooms]
        if directs:
            rows += [_Header("Direct messages"), *directs]
        self.beginResetModel()
        self._rows = rows
        self.endResetModel()
