"""Colours and metrics shared by the delegates and the style sheet."""

from __future__ import annotations

from PyQt6.QtGui import QColor, QFont

ACCENT = QColor("#3b6fd8")
MENTION_BG = QColor("#fff4d6")
MENTION_BAR = QColor("#f0a020")
BADGE = QColor("#6b7a90")
BADGE_MENTION = QColor("#d9453b")
SYSTEM_FG = QColor("#7a8594")
NOTICE_FG = QColor("#2a7f8f")
ERROR_FG = QColor("#c0392b")
TIME_FG = QColor("#9aa3ae")
#: text on the light message area, fixed so a dark desktop palette stays readable
TEXT_FG = QColor("#1d232b")
SELECTED_BG = QColor("#dbe6fb")
LINK_FG = QColor("#1f5fbf")
DAY_FG = QColor("#8a94a3")
SIDEBAR_BG = "#2b3340"
SIDEBAR_FG = "#d5dbe3"
SIDEBAR_HEADER = QColor("#8e9aab")
SIDEBAR_SELECTED = QColor("#3e4a5c")

STYLE_SHEET = f"""
QListView#roomList {{
    background: {SIDEBAR_BG};
    color: {SIDEBAR_FG};
    border: none;
}}
QLabel#topicBar {{
    padding: 8px 12px;
    border-bottom: 1px solid #dde2e8;
    background: #f7f9fb;
    color: #3a4350;
}}
QListView#messageView {{
    border: none;
    background: #ffffff;
    color: {TEXT_FG.name()};
}}
QListView#memberList {{
    border: none;
    padding: 2px 8px;
    border-left: 1px solid #dde2e8;
    background: #f7f9fb;
    color: {TEXT_FG.name()};
}}
QLineEdit#messageInput {{
    padding: 7px 10px;
    border: 1px solid #cfd6df;
    border-radius: 6px;
    margin: 6px 8px 8px 8px;
    background: #ffffff;
    color: {TEXT_FG.name()};
}}
QLineEdit#messageInput:focus {{
    border: 1px solid {ACCENT.name()};
}}
QLabel#membersHeader {{
    padding: 8px 10px 4px 10px;
    color: #6b7684;
    font-weight: bold;
    background: #f7f9fb;
    border-left: 1px solid #dde2e8;
}}
"""


def ui_font(point_size: float | None = None) -> QFont:
    font = QFont()
    if point_size is not None:
        font.setPointSizeF(point_size)
    return font
