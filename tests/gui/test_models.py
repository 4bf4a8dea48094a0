"""The message model and view: dedupe, order, day separators, 100k rows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from PyQt6.QtCore import QPoint, Qt
from PyQt6.QtGui import QFontMetrics

from chinwag_protocol.messages import Message
from gui_client.models.messages import Kind, MessageModel, Row, row_from_message
from gui_client.widgets.message_view import MessageView

pytestmark = pytest.mark.gui

T0 = datetime(2026, 11, 23, 22, 0, tzinfo=UTC)


def chat(i: int, *, when: datetime | None = None) -> Row:
    return Row(Kind.CHAT, f"line {i}", when or T0, "bob", msg_id=f"{i:012d}")


def test_duplicates_are_dropped_and_ids_stay_in_order(qapp):
    model = MessageModel()
    assert model.merge([chat(1), chat(3), chat(5)]) == 3
    assert model.merge([chat(3), chat(4), chat(5), chat(6)]) == 2
    model.append(Row(Kind.SYSTEM, "bob joined"))
    assert not model.append(chat(4))
    model.append(chat(2))
    ids = [r.msg_id for r in model.rows() if r.msg_id]
    assert ids == [f"{i:012d}" for i in (1, 2, 3, 4, 5, 6)]
    assert model.rowCount() == 7
    assert model.newest_id == f"{6:012d}" and model.oldest_id == f"{1:012d}"


def test_window_hides_and_reveals_lines(qapp):
    model = MessageModel()
    model.merge([chat(2 * i) for i in range(10)])  # ids 0, 2, ..., 18
    assert model.trim(4) == 6 and model.rowCount() == 4 and model.hidden == 6
    assert model.row(0).text == "line 12"
    assert len(model) == 10 and model.has(f"{0:012d}")
    model.append(chat(20))
    model.append(chat(3))  # a late arrival above the window stays hidden
    assert model.rowCount() == 5 and model.hidden == 7
    model.prepend([Row(Kind.SYSTEM, "older")])
    assert model.rowCount() == 5 and model.hidden == 8
    assert model.reveal(2) == 5  # at least 2, about as many as shown
    assert model.reveal(100) == 3 and model.hidden == 0
    assert [r.text for r in model.rows()][:4] == ["older", "line 0", "line 2", "line 3"]
    assert model.reveal() == 0


def test_prepend_older_history(qapp):
    model = MessageModel()
    model.merge([chat(10), chat(11)])
    assert model.prepend([chat(8), chat(9), chat(10)]) == 2
    assert [r.text for r in model.rows()] == ["line 8", "line 9", "line 10", "line 11"]


def test_day_separators(qapp):
    model = MessageModel()
    local_midnight = datetime.now().astimezone().replace(hour=0, minute=0, second=0, microsecond=0)
    model.merge(
        [
            chat(1, when=local_midnight - timedelta(minutes=5)),
            chat(2, when=local_midnight - timedelta(minutes=1)),
            chat(3, when=local_midnight + timedelta(minutes=1)),
        ]
    )
    breaks = [model.data(model.index(i), MessageModel.DayBreakRole) for i in range(3)]
    assert breaks == [True, False, True]


def test_actions_and_plain_text(qapp):
    msg = Message(
        room="lobby",
        from_="bob",
        text="/me waves",
        ts="2026-11-24T13:45:01.123Z",
        msg_id="000000000007",
    )
    row = row_from_message(msg, "alice")
    assert row.kind is Kind.ACTION and row.text == "waves"
    assert row.plain().endswith("* bob waves")
    assert not row.own
    assert row_from_message(msg, "Bob").own


def test_view_handles_100k_rows(qtbot):
    model = MessageModel()
    model.merge([chat(i) for i in range(100_000)])
    view = MessageView()
    qtbot.addWidget(view)
    view.resize(700, 500)
    view.show()
    view.set_messages(model)
    # only the newest lines are laid out; the newest is at the bottom
    assert model.rowCount() == MessageModel.WINDOW and model.hidden == 100_000 - MessageModel.WINDOW
    last = model.index(model.rowCount() - 1)
    qtbot.waitUntil(lambda: view.visualRect(last).intersects(view.rect()), timeout=30_000)
    assert model.row(model.rowCount() - 1).text == "line 99999"
    # new lines while following the conversation keep the window bounded
    for i in range(100_000, 100_000 + 2 * MessageModel.WINDOW + 10):
        model.append(chat(i))
    qtbot.waitUntil(lambda: model.rowCount() <= MessageModel.WINDOW + 1, timeout=30_000)
    assert model.row(model.rowCount() - 1).text == f"line {100_000 + 2 * MessageModel.WINDOW + 9}"
    # scrolling to the top reveals older lines, keeping the line that was on top in view
    older: list[int] = []
    view.wantOlder.connect(lambda: older.append(1))
    for _ in range(3):
        hidden = model.hidden
        top_row = model.row(0)
        view.scrollToTop()
        qtbot.waitUntil(lambda top=top_row: model.row(0) is not top, timeout=30_000)
        # the line that was on top stays in view: no jump to the newly shown top
        qtbot.waitUntil(lambda: view.indexAt(QPoint(5, 5)).row() > 0, timeout=30_000)
        assert model.hidden < hidden
    assert not older  # everything came from memory, no server round trip yet
    model.reveal(model.hidden)
    view.scrollToTop()
    qtbot.waitUntil(lambda: bool(older), timeout=30_000)  # then the server is asked
    assert model.row(0).text == "line 0"
    assert view.delegate.row_height(model.row(0), True) > view.delegate.row_height(
        model.row(1), False
    )


def test_long_lines_wrap_to_several_lines(qtbot):
    model = MessageModel()
    model.merge([Row(Kind.CHAT, "word " * 200, T0, "bob", msg_id="1"), chat(2)])
    view = MessageView()
    qtbot.addWidget(view)
    view.resize(600, 400)
    view.show()
    view.set_messages(model)
    long_h = view.delegate.row_height(model.row(0), False)
    short_h = view.delegate.row_height(model.row(1), False)
    assert long_h > 3 * short_h


def test_clicking_a_link_activates_it(qtbot):
    model = MessageModel()
    text = "the build log is at https://ci.example.org/builds/42 if you want it"
    model.merge([Row(Kind.CHAT, text, T0, "bob", msg_id="1")])
    view = MessageView()
    qtbot.addWidget(view)
    view.resize(900, 300)
    view.show()
    view.set_messages(model)
    index = model.index(0)
    qtbot.waitUntil(lambda: view.visualRect(index).height() > 0, timeout=10_000)
    rect = view.visualRect(index)
    fm = QFontMetrics(view.delegate.font)
    top = rect.y() + view.delegate.day_height + 3 + fm.height() // 2
    x_link = (
        rect.x() + view.delegate.text_x() + fm.horizontalAdvance("the build log is at https://ci")
    )
    x_text = rect.x() + view.delegate.text_x() + fm.horizontalAdvance("the bu")
    viewport = view.viewport()
    assert viewport is not None
    qtbot.mouseMove(viewport, QPoint(x_link, top))
    qtbot.waitUntil(
        lambda: viewport.cursor().shape() == Qt.CursorShape.PointingHandCursor,
        timeout=10_000,
    )
    with qtbot.waitSignal(view.linkActivated) as blocker:
        qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(x_link, top))
    assert blocker.args == ["https://ci.example.org/builds/42"]
    with qtbot.assertNotEmitted(view.linkActivated):
        qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(x_text, top))
