"""The application icon, drawn in code (no image files to ship)."""

from __future__ import annotations

from PyQt6.QtCore import QPointF, QRectF, Qt
from PyQt6.QtGui import QColor, QIcon, QPainter, QPainterPath, QPixmap

from gui_client.widgets import theme


def app_icon() -> QIcon:
    icon = QIcon()
    for size in (16, 32, 64, 128):
        pix = QPixmap(size, size)
        pix.fill(Qt.GlobalColor.transparent)
        p = QPainter(pix)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        s = size / 64
        bubble = QPainterPath()
        bubble.addRoundedRect(QRectF(4 * s, 6 * s, 56 * s, 40 * s), 12 * s, 12 * s)
        tail = QPainterPath()
        tail.moveTo(QPointF(16 * s, 44 * s))
        tail.lineTo(QPointF(12 * s, 58 * s))
        tail.lineTo(QPointF(30 * s, 44 * s))
        p.fillPath(bubble.united(tail), theme.ACCENT)
        p.setBrush(QColor("#ffffff"))
        p.setPen(Qt.PenStyle.NoPen)
        for x in (20, 32, 44):
            p.drawEllipse(QPointF(x * s, 26 * s), 4 * s, 4 * s)
        p.end()
        icon.addPixmap(pix)
    return icon
