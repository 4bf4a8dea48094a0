"""The input line (``messageInput``): history on Up/Down, nick completion on Tab."""

from __future__ import annotations

from collections.abc import Callable

from PyQt6.QtCore import QEvent, Qt, pyqtSignal
from PyQt6.QtGui import QKeyEvent
from PyQt6.QtWidgets import QLineEdit, QWidget

from gui_client import commands
from gui_client.completion import Completion

#: how many sent lines Up/Down can recall
HISTORY_SIZE = 200


class InputLine(QLineEdit):
    submitted = pyqtSignal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("messageInput")
        self.setAccessibleName("Message input")
        self.setAccessibleDescription(
            "Type a message, or a command such as /join room; Tab completes nicks"
        )
        self.setPlaceholderText("Message — /help for commands")
        self.setMaxLength(4000)
        self.history: list[str] = []
        self._pos = 0
        self._draft = ""
        self.nicks: Callable[[], list[str]] = list
        self._completion: Completion | None = None
        self.returnPressed.connect(self._submit)
        self.textEdited.connect(self._edited)

    def _submit(self) -> None:
        line = self.text()
        if not line.strip():
            return
        if not self.history or self.history[-1] != line:
            self.history.append(line)
            del self.history[:-HISTORY_SIZE]
        self._pos = len(self.history)
        self._draft = ""
        self.clear()
        self.submitted.emit(line)

    def _edited(self, _text: str) -> None:
        self._completion = None
        self._pos = len(self.history)

    def recall(self, step: int) -> None:
        """Move through sent lines (-1 older, +1 newer); past the newest is the draft."""
        if not self.history:
            return
        if self._pos == len(self.history):
            self._draft = self.text()
        self._pos = max(0, min(len(self.history), self._pos + step))
        self.setText(self._draft if self._pos == len(self.history) else self.history[self._pos])
        self._completion = None

    def complete(self) -> None:
        if self._completion is None:
            self._completion = Completion.start(
                self.text(),
                self.cursorPosition(),
                self.nicks(),
                [c.name for c in commands.COMMANDS],
            )
        if self._completion is None:
            return
        text, cursor = self._completion.next()
        self.setText(text)
        self.setCursorPosition(cursor)

    # Qt overrides: kept trivial (an exception in a virtual aborts under PyQt6)

    def event(self, e: QEvent | None) -> bool:
        if (
            isinstance(e, QKeyEvent)
            and e.type() == QEvent.Type.KeyPress
            and e.key() == Qt.Key.Key_Tab
            and e.modifiers() == Qt.KeyboardModifier.NoModifier
        ):
            self.complete()
            return True
        return super().event(e)

    def keyPressEvent(self, e: QKeyEvent | None) -> None:
        if e is not None and e.modifiers() == Qt.KeyboardModifier.NoModifier:
            if e.key() == Qt.Key.Key_Up:
                self.recall(-1)
                return
            if e.key() == Qt.Key.Key_Down:
                self.recall(1)
                return
        super().keyPressEvent(e)
