"""The conversation sidebar (``roomList``): section titles, names, unread badges."""

from __future__ import annotations

from PyQt6.QtCore import QModelIndex, QRect, QRectF, QSize, Qt
from PyQt6.QtGui import QColor, QFont, QFontMetrics, QPainter
from PyQt6.QtWidgets import (
    QAbstractItemView,
    QListView,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QWidget,
)

from gui_client.models.conversations import ConversationModel
from gui_client.widgets import theme


class ConversationDelegate(QStyledItemDelegate):
    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex) -> QSize:
        fm = QFontMetrics(option.font)
        if index.data(ConversationModel.HeaderRole):
            return QSize(120, fm.height() + 18)
        return QSize(120, fm.height() + 12)

    def paint(
        self, painter: QPainter | None, option: QStyleOptionViewItem, index: QModelIndex
    ) -> None:
        if painter is None:
            return
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        rect = QRect(option.rect)
        text = str(index.data(Qt.ItemDataRole.DisplayRole) or "")
        if index.data(ConversationModel.HeaderRole):
            font = QFont(option.font)
            font.setBold(True)
            font.setPointSizeF(max(font.pointSizeF() - 1, 6))
            painter.setFont(font)
            painter.setPen(theme.SIDEBAR_HEADER)
            painter.drawText(
                rect.adjusted(14, 8, -8, 0),
                Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                text.upper(),
            )
            painter.restore()
            return
        unread = int(index.data(ConversationModel.UnreadRole) or 0)
        mention = bool(index.data(ConversationModel.MentionRole))
        if option.state & QStyle.StateFlag.State_Selected:
            painter.fillRect(rect, theme.SIDEBAR_SELECTED)
            painter.fillRect(QRect(rect.x(), rect.y(), 3, rect.height()), theme.ACCENT)
        font = QFont(option.font)
        font.setBold(unread > 0 or mention)
        painter.setFont(font)
        fg = QColor(theme.SIDEBAR_FG)
        if unread or mention:
            fg = QColor("#ffffff")
        painter.setPen(fg)
        badge_w = 0
        if unread or mention:
            label = str(unread) if unread else "@"
            small = QFont(option.font)
            small.setBold(True)
            small.setPointSizeF(max(small.pointSizeF() - 1, 6))
            fm = QFontMetrics(small)
            badge_w = max(fm.horizontalAdvance(label) + 12, fm.height() + 4)
            badge = QRectF(
                rect.right() - badge_w - 10,
                rect.center().y() - (fm.height() + 2) / 2,
                badge_w,
                fm.height() + 2,
            )
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(theme.BADGE_MENTION if mention else theme.BADGE)
            painter.drawRoundedRect(badge, badge.height() / 2, badge.height() / 2)
            painter.setFont(small)
            painter.setPen(QColor("#ffffff"))
            painter.drawText(badge, Qt.AlignmentFlag.AlignCenter, label)
            painter.setFont(font)
            painter.setPen(fg)
        name_rect = rect.adjusted(18, 0, -(badge_w + 18), 0)
        elided = QFontMetrics(font).elidedText(text, Qt.TextElideMode.ElideRight, name_rect.width())
        painter.drawText(
            name_rect, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, elided
        )
        painter.restore()


class Sidebar(QListView):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("roomList")
        self.setAccessibleName("Conversations")
        self.setAccessibleDescription("Rooms and direct conversations, with unread counts")
        self.setItemDelegate(ConversationDelegate(self))
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setMinimumWidth(150)
        # Tab reaches it, a click does not take the focus from the input line
        self.setFocusPolicy(Qt.FocusPolicy.TabFocus)
