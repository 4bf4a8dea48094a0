"""Ctrl+K: jump to any conversation by typing part of its name."""

from __future__ import annotations

from PyQt6.QtCore import QEvent, QObject, Qt, pyqtSignal
from PyQt6.QtGui import QKeyEvent
from PyQt6.QtWidgets import QDialog, QLineEdit, QListWidget, QListWidgetItem, QVBoxLayout, QWidget

from gui_client.models.conversations import Conversation


class QuickSwitcher(QDialog):
    chosen = pyqtSignal(object)  # Conversation

    def __init__(self, convs: list[Conversation], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("quickSwitcher")
        self.setWindowTitle("Switch conversation")
        self._convs = convs
        self.query = QLineEdit()
        self.query.setObjectName("switcherInput")
        self.query.setAccessibleName("Conversation name")
        self.query.setPlaceholderText("Jump to…")
        self.list = QListWidget()
        self.list.setObjectName("switcherList")
        self.list.setAccessibleName("Matching conversations")
        layout = QVBoxLayout(self)
        layout.addWidget(self.query)
        layout.addWidget(self.list)
        self.query.textChanged.connect(self._fill)
        self.query.returnPressed.connect(self._choose)
        self.list.itemActivated.connect(lambda _item: self._choose())
        self.query.installEventFilter(self)
        self._fill("")
        self.resize(360, 300)

    def _fill(self, text: str) -> None:
        self.list.clear()
        needle = text.strip().lstrip("#@").casefold()
        ranked = sorted(
            (c for c in self._convs if needle in c.name.casefold()),
            key=lambda c: (not c.name.casefold().startswith(needle), -c.unread, c.name.casefold()),
        )
        for conv in ranked:
            label = conv.title + (f"  ({conv.unread})" if conv.unread else "")
            item = QListWidgetItem(label)
            item.setData(Qt.ItemDataRole.UserRole, conv)
            self.list.addItem(item)
        if self.list.count():
            self.list.setCurrentRow(0)

    def _choose(self) -> None:
        item = self.list.currentItem()
        if item is not None:
            self.chosen.emit(item.data(Qt.ItemDataRole.UserRole))
            self.accept()

    def eventFilter(self, obj: QObject | None, e: QEvent | None) -> bool:
        """Up/Down in the query line move the selection in the list."""
        if obj is self.query and isinstance(e, QKeyEvent) and e.type() == QEvent.Type.KeyPress:
            step = {Qt.Key.Key_Up: -1, Qt.Key.Key_Down: 1}.get(Qt.Key(e.key()), 0)
            if step and self.list.count():
                row = (self.list.currentRow() + step) % self.list.count()
                self.list.setCurrentRow(row)
                return True
        return False
