"""The message view: a QListView painted by :class:`MessageDelegate`.

Heights come from a QTextLayout per row, cached by row and width; the model
shows a bounded window of the newest lines (see MessageModel), so rooms with
100k lines in memory stay responsive.
Scrolling to the top asks for older history (:attr:`MessageView.wantOlder`).
"""

from __future__ import annotations

from PyQt6.QtCore import (
    QModelIndex,
    QPersistentModelIndex,
    QPoint,
    QPointF,
    QRect,
    QSize,
    Qt,
    QTimer,
    pyqtSignal,
)
from PyQt6.QtGui import (
    QAction,
    QColor,
    QFont,
    QFontMetrics,
    QGuiApplication,
    QKeySequence,
    QMouseEvent,
    QPainter,
    QResizeEvent,
    QTextCharFormat,
    QTextLayout,
    QTextLine,
    QTextOption,
)
from PyQt6.QtWidgets import (
    QAbstractItemView,
    QListView,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QWidget,
)

from gui_client.models.messages import Kind, MessageModel, Row
from gui_client.text import find_urls, nick_rgb
from gui_client.widgets import theme

_HPAD = 10
_VPAD = 3
_GAP = 10
_NICK_CHARS = 9


def display_text(row: Row) -> str:
    """The text column of a row: an action reads ``nick does something``."""
    return f"{row.nick} {row.text}" if row.kind is Kind.ACTION else row.text


def _viewport_width(view: QListView) -> int:
    viewport = view.viewport()
    return viewport.width() if viewport is not None else view.width()


class MessageDelegate(QStyledItemDelegate):
    def __init__(self, view: QListView) -> None:
        super().__init__(view)
        self._view = view
        self._heights: dict[int, tuple[Row, int, int]] = {}
        self.update_fonts(view.font())

    def update_fonts(self, base: QFont) -> None:
        self.font = QFont(base)
        self.bold = QFont(base)
        self.bold.setBold(True)
        self.italic = QFont(base)
        self.italic.setItalic(True)
        self.small = QFont(base)
        self.small.setPointSizeF(max(base.pointSizeF() - 1.0, 6.0))
        fm = QFontMetrics(self.font)
        self.line_height = fm.height()
        self.time_width = QFontMetrics(self.small).horizontalAdvance("88:88") + 4
        self.nick_width = QFontMetrics(self.bold).horizontalAdvance("m" * _NICK_CHARS)
        self.day_height = self.line_height + 16
        self._heights.clear()

    # geometry -----------------------------------------------------------------

    def text_x(self) -> int:
        return _HPAD + self.time_width + _GAP + self.nick_width + _GAP

    def _text_width(self) -> int:
        return max(_viewport_width(self._view) - self.text_x() - _HPAD, 80)

    def _layout(self, row: Row, width: int) -> QTextLayout:
        text = display_text(row)
        layout = QTextLayout(text, self.italic if row.kind is not Kind.CHAT else self.font)
        option = QTextOption()
        option.setWrapMode(QTextOption.WrapMode.WrapAtWordBoundaryOrAnywhere)
        layout.setTextOption(option)
        links = []
        for start, end, _url in find_urls(text):
            fmt = QTextCharFormat()
            fmt.setForeground(theme.LINK_FG)
            fmt.setFontUnderline(True)
            span = QTextLayout.FormatRange()
            span.start, span.length, span.format = start, end - start, fmt
            links.append(span)
        if links:
            layout.setFormats(links)
        layout.beginLayout()
        y = 0.0
        while True:
            line = layout.createLine()
            if not line.isValid():
                break
            line.setLineWidth(width)
            line.setPosition(QPointF(0, y))
            y += line.height()
        layout.endLayout()
        return layout

    def _text_height(self, row: Row, width: int) -> int:
        cached = self._heights.get(id(row))
        if cached is not None and cached[0] is row and cached[1] == width:
            return cached[2]
        height = max(int(self._layout(row, width).boundingRect().height() + 0.999), 1)
        self._heights[id(row)] = (row, width, height)
        return height

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex) -> QSize:
        row = index.data(MessageModel.RowRole)
        if not isinstance(row, Row):
            return QSize(0, 0)
        height = max(self._text_height(row, self._text_width()), self.line_height) + 2 * _VPAD
        if index.data(MessageModel.DayBreakRole):
            height += self.day_height
        return QSize(_viewport_width(self._view), height)

    # painting -----------------------------------------------------------------

    def paint(
        self, painter: QPainter | None, option: QStyleOptionViewItem, index: QModelIndex
    ) -> None:
        row = index.data(MessageModel.RowRole)
        if painter is None or not isinstance(row, Row):
            return
        painter.save()
        rect = QRect(option.rect)
        if index.data(MessageModel.DayBreakRole):
            self._paint_day(painter, QRect(rect.x(), rect.y(), rect.width(), self.day_height), row)
            rect.setTop(rect.top() + self.day_height)
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        if selected:
            painter.fillRect(rect, theme.SELECTED_BG)
        elif row.mention:
            painter.fillRect(rect, theme.MENTION_BG)
            painter.fillRect(QRect(rect.x(), rect.y(), 3, rect.height()), theme.MENTION_BAR)
        if index.data(MessageModel.MarkerRole):
            self._paint_marker(painter, rect)
        top = rect.y() + _VPAD
        # time
        painter.setFont(self.small)
        painter.setPen(theme.TIME_FG)
        stamp = row.time.astimezone().strftime("%H:%M")
        painter.drawText(
            QRect(rect.x() + _HPAD, top, self.time_width, self.line_height),
            Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
            stamp,
        )
        # nick column
        nick_rect = QRect(
            rect.x() + _HPAD + self.time_width + _GAP, top, self.nick_width, self.line_height
        )
        text_color = theme.TEXT_FG
        if row.kind is Kind.CHAT:
            painter.setFont(self.bold)
            painter.setPen(QColor(*nick_rgb(row.nick)))
            nick = QFontMetrics(self.bold).elidedText(
                row.nick, Qt.TextElideMode.ElideRight, self.nick_width
            )
            painter.drawText(
                nick_rect, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, nick
            )
        else:
            marker = {Kind.ACTION: "*", Kind.SYSTEM: "•", Kind.NOTICE: "ℹ", Kind.ERROR: "!"}[
                row.kind
            ]
            painter.setFont(self.bold)
            if row.kind is Kind.ACTION:
                painter.setPen(QColor(*nick_rgb(row.nick)))
            else:
                painter.setPen(self._colour(row, text_color))
            painter.drawText(
                nick_rect, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, marker
            )
        # text
        x = rect.x() + self.text_x()
        width = self._text_width()
        if row.kind is Kind.ACTION:
            self._paint_action(painter, row, x, top, width)
        else:
            painter.setPen(self._colour(row, text_color))
            self._layout(row, width).draw(painter, QPointF(x, top))
        painter.restore()

    def _paint_action(self, painter: QPainter, row: Row, x: int, top: int, width: int) -> None:
        painter.setPen(QColor(*nick_rgb(row.nick)))
        self._layout(row, width).draw(painter, QPointF(x, top))

    def link_at(self, index: QModelIndex, pos: QPoint) -> str | None:
        """The web link under ``pos`` (viewport coordinates) in the row at ``index``."""
        row = index.data(MessageModel.RowRole)
        if not isinstance(row, Row):
            return None
        urls = find_urls(display_text(row))
        if not urls:
            return None
        rect = self._view.visualRect(index)
        top = rect.y() + _VPAD + (self.day_height if index.data(MessageModel.DayBreakRole) else 0)
        at = QPointF(pos.x() - rect.x() - self.text_x(), pos.y() - top)
        layout = self._layout(row, self._text_width())
        for i in range(layout.lineCount()):
            line = layout.lineAt(i)
            if line.rect().contains(at):
                c = line.xToCursor(at.x(), QTextLine.CursorPosition.CursorOnCharacter)
                for start, end, url in urls:
                    if start <= c < end:
                        return url
        return None

    def _colour(self, row: Row, default: QColor) -> QColor:
        if row.kind is Kind.SYSTEM:
            return theme.SYSTEM_FG
        if row.kind is Kind.NOTICE:
            return theme.NOTICE_FG
        if row.kind is Kind.ERROR:
            return theme.ERROR_FG
        return default

    def _paint_marker(self, painter: QPainter, rect: QRect) -> None:
        """A red rule with "new" above the first line that arrived while away."""
        painter.fillRect(QRect(rect.x(), rect.y(), rect.width(), 1), theme.ERROR_FG)
        painter.setFont(self.small)
        fm = QFontMetrics(self.small)
        label = "new"
        w = fm.horizontalAdvance(label) + 8
        tag = QRect(rect.right() - w - _HPAD, rect.y(), w, fm.height())
        painter.fillRect(tag, theme.ERROR_FG)
        painter.setPen(QColor("#ffffff"))
        painter.drawText(tag, Qt.AlignmentFlag.AlignCenter, label)

    def _paint_day(self, painter: QPainter, rect: QRect, row: Row) -> None:
        day = row.time.astimezone()
        label = f"{day:%A} {day.day} {day:%B %Y}"
        painter.setFont(self.bold)
        fm = QFontMetrics(self.bold)
        text_w = fm.horizontalAdvance(label) + 24
        mid_y = rect.y() + rect.height() // 2
        painter.setPen(QColor("#e1e5ea"))
        left_end = rect.x() + (rect.width() - text_w) // 2
        painter.drawLine(rect.x() + _HPAD, mid_y, left_end, mid_y)
        painter.drawLine(left_end + text_w, mid_y, rect.right() - _HPAD, mid_y)
        painter.setPen(theme.DAY_FG)
        painter.drawText(
            QRect(left_end, rect.y(), text_w, rect.height()), Qt.AlignmentFlag.AlignCenter, label
        )

    def row_height(self, row: Row, day_break: bool) -> int:
        """The height :meth:`sizeHint` gives ``row`` at the current width (for tests)."""
        h = max(self._text_height(row, self._text_width()), self.line_height) + 2 * _VPAD
        return h + (self.day_height if day_break else 0)


class MessageView(QListView):
    """Messages of the current conversation; keeps to the bottom as lines arrive."""

    #: the user scrolled to the top: time to load older history
    wantOlder = pyqtSignal()
    #: a web link in a message was clicked (its text)
    linkActivated = pyqtSignal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("messageView")
        self.setAccessibleName("Messages")
        self.setAccessibleDescription("Messages of the current conversation, oldest at the top")
        self.setUniformItemSizes(False)
        # one synchronous layout pass: the model shows a bounded window of lines, and
        # a complete layout lets older lines be revealed without the view jumping
        self.setLayoutMode(QListView.LayoutMode.SinglePass)
        self.setResizeMode(QListView.ResizeMode.Adjust)
        self.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        self.delegate = MessageDelegate(self)
        self.setItemDelegate(self.delegate)
        self._stick = True
        self._anchor: QPersistentModelIndex | None = None
        self._width = 0
        copy = QAction("Copy", self)
        copy.setShortcut(QKeySequence.StandardKey.Copy)
        copy.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
        copy.triggered.connect(self.copy_selection)
        self.addAction(copy)
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)
        self._release_pos = QPoint()
        self.clicked.connect(self._clicked)
        viewport = self.viewport()
        if viewport is not None:
            viewport.setMouseTracking(True)  # the hand cursor over links
        bar = self.verticalScrollBar()
        assert bar is not None
        bar.valueChanged.connect(self._scrolled)
        bar.rangeChanged.connect(self._range_changed)

    def set_messages(self, model: MessageModel | None) -> None:
        old = self.model()
        if isinstance(old, MessageModel):
            old.rowsAboutToBeInserted.disconnect(self._before_insert)
            old.rowsInserted.disconnect(self._after_insert)
        if model is not None:
            model.trim()  # show the newest lines only: layout cost stays bounded
        self.setModel(model)
        if model is not None:
            model.rowsAboutToBeInserted.connect(self._before_insert)
            model.rowsInserted.connect(self._after_insert)
        marker = model.marker_index() if model is not None else QModelIndex()
        if marker.isValid():
            # back to a conversation with unread lines: start at the first of them
            anchor = QPersistentModelIndex(marker)
            self._stick = False
            QTimer.singleShot(0, lambda: self._scroll_to_marker(anchor))
        else:
            self._stick = True
            self.scrollToBottom()
        QTimer.singleShot(0, self._maybe_want_older)

    def _scroll_to_marker(self, anchor: QPersistentModelIndex) -> None:
        if anchor.isValid():
            self.scrollTo(QModelIndex(anchor), QAbstractItemView.ScrollHint.PositionAtTop)
            self._stick = self.at_bottom()

    def messages(self) -> MessageModel | None:
        model = self.model()
        return model if isinstance(model, MessageModel) else None

    def at_bottom(self) -> bool:
        bar = self.verticalScrollBar()
        return bar is None or bar.value() >= bar.maximum() - 4

    def copy_selection(self) -> None:
        model = self.messages()
        sel = self.selectionModel()
        if model is None or sel is None:
            return
        rows = sorted(i.row() for i in sel.selectedRows())
        text = "\n".join(model.row(r).plain() for r in rows)
        clipboard = QGuiApplication.clipboard()
        if text and clipboard is not None:
            clipboard.setText(text)

    # keeping the position ---------------------------------------------------------

    def _before_insert(self, parent: QModelIndex, first: int, last: int) -> None:
        self._stick = self.at_bottom()
        model = self.messages()
        if model is not None and first == 0 and len(model) > 0:
            top = self.indexAt(QPoint(1, 1))
            self._anchor = QPersistentModelIndex(top if top.isValid() else model.index(0))
        else:
            self._anchor = None

    def _after_insert(self, parent: QModelIndex, first: int, last: int) -> None:
        if self._anchor is not None and self._anchor.isValid() and not self._stick:
            anchor = QModelIndex(self._anchor)
            self._anchor = None
            QTimer.singleShot(
                0, lambda: self.scrollTo(anchor, QAbstractItemView.ScrollHint.PositionAtTop)
            )
        elif self._stick:
            QTimer.singleShot(0, self.scrollToBottom)
            model = self.messages()
            if model is not None and model.rowCount() > 2 * MessageModel.WINDOW:
                QTimer.singleShot(0, self._trim)

    def _range_changed(self, low: int, high: int) -> None:
        if self._stick:
            self.scrollToBottom()

    def _trim(self) -> None:
        model = self.messages()
        if model is not None and self.at_bottom():
            model.trim()

    def _scrolled(self, value: int) -> None:
        self._stick = self.at_bottom()
        if value == 0:
            self._older()

    def _older(self) -> None:
        """At the top: show hidden lines from memory, else ask for older history."""
        model = self.messages()
        if model is not None and not model.reveal():
            self.wantOlder.emit()

    def _maybe_want_older(self) -> None:
        bar = self.verticalScrollBar()
        if bar is not None and bar.maximum() == 0:
            self._older()

    def _clicked(self, index: QModelIndex) -> None:
        url = self.delegate.link_at(index, self._release_pos)
        if url is not None:
            self.linkActivated.emit(url)

    def _hover(self, pos: QPoint) -> None:
        index = self.indexAt(pos)
        url = self.delegate.link_at(index, pos) if index.isValid() else None
        viewport = self.viewport()
        if viewport is not None:
            if url:
                viewport.setCursor(Qt.CursorShape.PointingHandCursor)
            else:
                viewport.unsetCursor()

    def mouseMoveEvent(self, e: QMouseEvent | None) -> None:
        if e is not None and e.buttons() == Qt.MouseButton.NoButton:
            self._hover(e.position().toPoint())
        super().mouseMoveEvent(e)

    def mouseReleaseEvent(self, e: QMouseEvent | None) -> None:
        if e is not None:  # remembered for _clicked, which super() triggers
            self._release_pos = e.position().toPoint()
        super().mouseReleaseEvent(e)

    def resizeEvent(self, e: QResizeEvent | None) -> None:
        super().resizeEvent(e)
        width = _viewport_width(self)
        if width != self._width:
            self._width = width
            self.scheduleDelayedItemsLayout()
