"""GUI fixtures: qasync's loop on pytest-qt's ``qapp``, real servers, real windows.

pytest-qt does not drive qasync, so :func:`qloop` installs a ``qasync.QEventLoop``
marked as already running on the session ``qapp``: Qt's own event processing
(``qtbot.waitUntil`` / ``waitSignal``) then runs asyncio callbacks too.
Exceptions reaching the loop's handler fail the test at teardown.  The loop
is never stopped through ``QEventLoop.stop()``, which would call
``QApplication.exit()``.
"""

from __future__ import annotations

import asyncio
import dataclasses
import socket
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
import qasync
from PyQt6.QtCore import QEvent
from PyQt6.QtWidgets import QApplication

from gui_client.backoff import Backoff
from gui_client.collector import MainThreadCollector
from gui_client.main import create_window
from gui_client.settings import ConnectionProfile, Settings
from gui_client.widgets.main_window import MainWindow
from server.app import ChinwagServer
from server.config import Settings as ServerSettings

T = TypeVar("T")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # The offscreen platform cannot propagate size hints; that warning is about
    # the test platform, not the code, so it must not fail the tests.
    for item in items:
        if "tests/gui" in str(item.fspath):
            item.add_marker(pytest.mark.qt_log_ignore("propagateSizeHints"))


#: generous: the machine may be loaded by other test runs
WAIT_MS = 20_000


@pytest.fixture
def qloop(qapp: QApplication) -> Iterator[asyncio.AbstractEventLoop]:
    qapp.setQuitOnLastWindowClosed(False)
    # as in the app: cycles holding Qt objects are collected on this thread only,
    # never in the in-process server's writer thread
    collector = MainThreadCollector(qapp)
    collector.start()
    loop = qasync.QEventLoop(qapp, already_running=True)
    asyncio.set_event_loop(loop)
    errors: list[dict[str, Any]] = []
    loop.set_exception_handler(lambda _loop, ctx: errors.append(ctx))
    yield loop
    pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
    for task in pending:
        task.cancel()
    deadline = loop.time() + 5
    while any(not t.done() for t in pending) and loop.time() < deadline:
        qapp.processEvents()
    for _ in range(5):
        qapp.processEvents()
    asyncio.events._set_running_loop(None)
    loop._QEventLoop__is_running = False  # never app.exit()
    loop.close()
    asyncio.set_event_loop(None)
    # windows closed with deleteLater() are destroyed now, inside this test, not
    # during whichever test happens to run Qt's event processing next
    QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete.value)
    collector.stop()
    collector.deleteLater()
    if errors:
        ctx = errors[0]
        exc = ctx.get("exception")
        if isinstance(exc, BaseException):
            raise AssertionError(f"exception in the event loop: {ctx.get('message')}") from exc
        raise AssertionError(f"error in the event loop: {ctx}")


Runner = Callable[[Awaitable[T]], T]


@pytest.fixture
def run(qloop: asyncio.AbstractEventLoop, qtbot: Any) -> Callable[..., Any]:
    """``run(coro)``: run a coroutine on the qasync loop, spinning Qt until it is done."""

    def runner(aw: Awaitable[T], timeout_ms: int = WAIT_MS) -> T:
        task = asyncio.ensure_future(aw, loop=qloop)
        qtbot.waitUntil(task.done, timeout=timeout_ms)
        return task.result()

    return runner


@pytest.fixture
def gui_server(run: Callable[..., Any], settings: ServerSettings) -> Iterator[ChinwagServer]:
    """An in-process server on the qasync loop (so the GUI and it share one thread)."""
    srv = ChinwagServer(settings)
    run(srv.start())
    yield srv
    run(srv.close())


@pytest.fixture
def restartable_server(
    run: Callable[..., Any], settings: ServerSettings
) -> Iterator[Callable[[], ChinwagServer]]:
    """``start()`` a server on a fixed free port, again after closing it (same database)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    fixed = dataclasses.replace(settings, port=port).validate()
    started: list[ChinwagServer] = []

    def start() -> ChinwagServer:
        srv = ChinwagServer(fixed)
        run(srv.start())
        started.append(srv)
        return srv

    yield start
    for srv in started:
        run(srv.close())


WindowFactory = Callable[..., MainWindow]


@pytest.fixture
def make_window(qtbot: Any, run: Callable[..., Any], tmp_path: Path) -> Iterator[WindowFactory]:
    """``make_window(nick, port, rooms=[...])``: a main window connecting at once."""
    windows: list[MainWindow] = []

    def make(
        nick: str | None = None,
        port: int | None = None,
        *,
        rooms: list[str] | None = None,
        connect: bool = True,
        host: str = "127.0.0.1",
        backoff: Backoff | None = None,
    ) -> MainWindow:
        settings = Settings(tmp_path / f"gui-{len(windows)}.ini")
        window = create_window(
            settings,
            autojoin=rooms or ["lobby"],
            backoff=backoff or Backoff(initial=0.1, maximum=0.5),
        )
        windows.append(window)  # not qtbot.addWidget: it closes windows before our teardown
        window.show()
        if connect:
            assert nick is not None and port is not None
            window.connect_to(ConnectionProfile(host=host, port=port, nick=nick))
        return window

    yield make
    for window in windows:
        run(window.session.stop())
        run(window.controller.close())
        window.close()
        window.deleteLater()


def wait_connected(qtbot: Any, window: MainWindow, rooms: int = 1) -> None:
    """Wait until ``window`` is connected and has joined ``rooms`` rooms."""
    qtbot.waitUntil(
        lambda: window.session.connected and len(window.controller.open_rooms()) >= rooms,
        timeout=WAIT_MS,
    )
