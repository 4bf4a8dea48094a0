"""The lines of one conversation as a Qt list model.

Rows carrying a server ``msg_id`` are unique (a replayed or re-fetched
message is dropped) and kept in ``msg_id`` order, so history fetched after a
reconnect or while scrolling up merges without duplicates.  Local lines
(joins, parts, notices) have no id and stay where they were added.
"""

from __future__ import annotations

import bisect
import enum
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from PyQt6.QtCore import QAbstractListModel, QModelIndex, QObject, QPersistentModelIndex, Qt

from chinwag_protocol.messages import Message, Private
from chinwag_protocol.timefmt import parse_ts
from gui_client.text import action_body, is_action


class Kind(enum.Enum):
    CHAT = "chat"
    ACTION = "action"
    SYSTEM = "system"  # joins, parts, nick and topic changes
    NOTICE = "notice"  # server notices, command output
    ERROR = "error"


@dataclass(slots=True, eq=False)
class Row:
    kind: Kind
    text: str
    time: datetime = field(default_factory=lambda: datetime.now(UTC))
    nick: str = ""
    msg_id: str | None = None
    mention: bool = False
    own: bool = False

    @property
    def local_day(self) -> date:
        return self.time.astimezone().date()

    def plain(self) -> str:
        """The line as text (clipboard, accessibility, tests)."""
        stamp = self.time.astimezone().strftime("%H:%M")
        if self.kind is Kind.CHAT:
            return f"{stamp} <{self.nick}> {self.text}"
        if self.kind is Kind.ACTION:
            return f"{stamp} * {self.nick} {self.text}"
        return f"{stamp} {self.text}"


def row_from_message(msg: Message | Private, me: str | None, *, mention: bool = False) -> Row:
    try:
        when = parse_ts(msg.ts)
    except ValueError:
        when = datetime.now(UTC)
    action = is_action(msg.text)
    return Row(
        kind=Kind.ACTION if action else Kind.CHAT,
        text=action_body(msg.text),
        time=when,
        nick=msg.from_,
        msg_id=msg.msg_id,
        mention=mention,
        own=me is not None and msg.from_.casefold() == me.casefold(),
    )


class MessageModel(QAbstractListModel):
    """All lines of a conversation; the Qt rows are only the newest part of them.

    QListView lays out every row again whenever one is added, so a room with
    100k lines in memory shows a *window*: the newest :data:`WINDOW` lines
    while the user follows the conversation.  Scrolling to the top
    :meth:`reveal` shows more (growing geometrically); returning to the bottom
    lets the view :meth:`trim` the window again.  :meth:`rows`, :meth:`has`
    and ``len()`` cover every line, shown or not.
    """

    RowRole = Qt.ItemDataRole.UserRole + 1
    DayBreakRole = Qt.ItemDataRole.UserRole + 2
    #: True on the first line that arrived while you were away (the "new" marker)
    MarkerRole = Qt.ItemDataRole.UserRole + 3
    #: lines shown while following the conversation
    WINDOW = 1000
    #: most lines one scroll to the top reveals (each reveal lays out the window again)
    REVEAL_MAX = 5000

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._rows: list[Row] = []
        self._ids: set[str] = set()
        #: index in ``_rows`` of Qt row 0 (lines above it are hidden)
        self._start = 0
        self.marker: Row | None = None

    # ---- Qt interface ---------------------------------------------------------

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows) - self._start

    def data(
        self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        i = index.row() + self._start
        if not index.isValid() or not self._start <= i < len(self._rows):
            return None
        row = self._rows[i]
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.AccessibleTextRole):
            return row.plain()
        if role == self.RowRole:
            return row
        if role == self.DayBreakRole:
            return i == 0 or row.local_day != self._rows[i - 1].local_day
        if role == self.MarkerRole:
            return row is self.marker
        return None

    # ---- reading --------------------------------------------------------------

    def row(self, i: int) -> Row:
        """The line at Qt row ``i``."""
        return self._rows[self._start + i]

    def rows(self) -> list[Row]:
        """Every line, shown or hidden, oldest first."""
        return list(self._rows)

    def __len__(self) -> int:
        return len(self._rows)

    @property
    def hidden(self) -> int:
        """Lines in memory above the shown window."""
        return self._start

    def has(self, msg_id: str) -> bool:
        return msg_id in self._ids

    @property
    def newest_id(self) -> str | None:
        for row in reversed(self._rows):
            if row.msg_id is not None:
                return row.msg_id
        return None

    @property
    def oldest_id(self) -> str | None:
        for row in self._rows:
            if row.msg_id is not None:
                return row.msg_id
        return None

    def set_marker(self, row: Row | None) -> None:
        """Put the "new" marker above ``row`` (None removes it)."""
        old, self.marker = self.marker, row
        for changed in (old, row):
            idx = self._index_of(changed)
            if idx.isValid():
                self.dataChanged.emit(idx, idx)

    def marker_index(self) -> QModelIndex:
        """Where the "new" marker is (invalid when none is shown)."""
        return self._index_of(self.marker)

    def _index_of(self, row: Row | None) -> QModelIndex:
        if row is None:
            return QModelIndex()
        for i in range(len(self._rows) - 1, self._start - 1, -1):
            if self._rows[i] is row:
                return self.index(i - self._start)
        return QModelIndex()

    # ---- the shown window -----------------------------------------------------

    def reveal(self, at_least: int = 200) -> int:
        """Show more of the hidden older lines (about as many as shown, at most
        :data:`REVEAL_MAX` at a time); how many."""
        n = min(self._start, max(at_least, min(self.rowCount(), self.REVEAL_MAX)))
        if n:
            self.beginInsertRows(QModelIndex(), 0, n - 1)
            self._start -= n
            self.endInsertRows()
        return n

    def trim(self, keep: int = WINDOW) -> int:
        """Hide all but the newest ``keep`` lines; how many were hidden."""
        n = self.rowCount() - keep
        if n <= 0:
            return 0
        self.beginRemoveRows(QModelIndex(), 0, n - 1)
        self._start += n
        self.endRemoveRows()
        return n

    # ---- writing --------------------------------------------------------------

    def append(self, row: Row) -> bool:
        """Add a line at its place; False (and nothing changes) for a duplicate id."""
        if row.msg_id is not None:
            if row.msg_id in self._ids:
                return False
            newest = self.newest_id
            if newest is not None and _id_key(row.msg_id) < _id_key(newest):
                self._insert_ordered(row)
                return True
            self._ids.add(row.msg_id)
        self._insert_at(len(self._rows), row)
        return True

    def merge(self, rows: list[Row]) -> int:
        """Add many lines (replayed or fetched history); returns how many were new."""
        added = 0
        for row in rows:
            if self.append(row):
                added += 1
        return added

    def prepend(self, rows: list[Row]) -> int:
        """Add older history above everything (rows oldest first); drops duplicates."""
        fresh = [r for r in rows if r.msg_id is None or r.msg_id not in self._ids]
        if not fresh:
            return 0
        self._ids.update(r.msg_id for r in fresh if r.msg_id is not None)
        if self._start:  # above a hidden part: stays hidden until revealed
            self._rows[0:0] = fresh
            self._start += len(fresh)
            return len(fresh)
        self.beginInsertRows(QModelIndex(), 0, len(fresh) - 1)
        self._rows[0:0] = fresh
        self.endInsertRows()
        boundary = self.index(len(fresh))
        if boundary.isValid():  # the old first row may lose its day separator
            self.dataChanged.emit(boundary, boundary)
        return len(fresh)

    def _insert_ordered(self, row: Row) -> None:
        assert row.msg_id is not None
        key = _id_key(row.msg_id)
        keyed = [(i, _id_key(r.msg_id)) for i, r in enumerate(self._rows) if r.msg_id is not None]
        pos = bisect.bisect_left([k for _, k in keyed], key)
        at = keyed[pos][0] if pos < len(keyed) else len(self._rows)
        self._ids.add(row.msg_id)
        self._insert_at(at, row)
        nxt = self.index(at + 1 - self._start)
        if nxt.isValid():
            self.dataChanged.emit(nxt, nxt)

    def _insert_at(self, at: int, row: Row) -> None:
        if at < self._start:
            self._rows.insert(at, row)
            self._start += 1
            return
        qt_row = at - self._start
        self.beginInsertRows(QModelIndex(), qt_row, qt_row)
        self._rows.insert(at, row)
        self.endInsertRows()

    def clear(self) -> None:
        self.beginResetModel()
        self._rows.clear()
        self._ids.clear()
        self._start = 0
        self.marker = None
        self.endResetModel()


def _id_key(msg_id: str | None) -> tuple[int, str]:
    """Order msg_ids numerically when they are numbers (they are zero-padded digits)."""
    if msg_id is None:
        return (0, "")
    return (len(msg_id), msg_id)
