"""The room browser: every room on the server (from ``rooms``), filterable; join one."""

from __future__ import annotations

from PyQt6.QtCore import QSortFilterProxyModel, Qt, pyqtSignal
from PyQt6.QtGui import QStandardItem, QStandardItemModel
from PyQt6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLabel,
    QLineEdit,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from chinwag_protocol.errors import RequestError
from chinwag_protocol.messages import RoomInfo
from chinwag_protocol.validation import normalize_room


class RoomBrowser(QDialog):
    #: the user chose a room (its name; may be a new room typed in the filter)
    chosen = pyqtSignal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("roomBrowser")
        self.setWindowTitle("Rooms — Chinwag")
        self.filter = QLineEdit()
        self.filter.setObjectName("roomFilter")
        self.filter.setAccessibleName("Filter rooms, or name a new room")
        self.filter.setPlaceholderText("Filter, or type a new room name and press Enter")
        self.model = QStandardItemModel(0, 3, self)
        self.model.setHorizontalHeaderLabels(["Room", "People", "Topic"])
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(self.model)
        self.proxy.setFilterKeyColumn(-1)
        self.proxy.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.table = QTableView()
        self.table.setObjectName("roomTable")
        self.table.setAccessibleName("Rooms on the server")
        self.table.setModel(self.proxy)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSortingEnabled(True)
        self.table.verticalHeader().setVisible(False)  # type: ignore[union-attr]
        header = self.table.horizontalHeader()
        assert header is not None
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.status = QLabel("Loading…")
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Close
        )
        join = buttons.button(QDialogButtonBox.StandardButton.Ok)
        if join is not None:
            join.setText("&Join")
        buttons.accepted.connect(self._choose)
        buttons.rejected.connect(self.reject)
        self.filter.textChanged.connect(self.proxy.setFilterFixedString)
        self.filter.returnPressed.connect(self._choose)
        self.table.doubleClicked.connect(lambda _i: self._choose())
        layout = QVBoxLayout(self)
        layout.addWidget(self.filter)
        layout.addWidget(self.table)
        layout.addWidget(self.status)
        layout.addWidget(buttons)
        self.resize(560, 380)

    def set_rooms(self, rooms: list[RoomInfo]) -> None:
        self.model.removeRows(0, self.model.rowCount())
        for info in rooms:
            name = QStandardItem(f"#{info.name}")
            name.setData(info.name, Qt.ItemDataRole.UserRole)
            count = QStandardItem()
            count.setData(info.members, Qt.ItemDataRole.DisplayRole)
            self.model.appendRow([name, count, QStandardItem(info.topic)])
        self.table.resizeColumnToContents(0)
        self.status.setText(f"{len(rooms)} room{'s' if len(rooms) != 1 else ''}")
        if self.proxy.rowCount():
            self.table.selectRow(0)

    def show_error(self, text: str) -> None:
        self.status.setText(text)

    def _choose(self) -> None:
        sel = self.table.selectionModel()
        rows = sel.selectedRows() if sel is not None else []
        name: str | None = None
        typed = self.filter.text().strip().lstrip("#")
        if rows and (not typed or self.proxy.rowCount() > 0):
            name = str(rows[0].data(Qt.ItemDataRole.UserRole))
        elif typed:
            try:
                name = normalize_room(typed)
            except RequestError as exc:
                self.status.setText(exc.message)
                return
        if name:
            self.chosen.emit(name)
            self.accept()
