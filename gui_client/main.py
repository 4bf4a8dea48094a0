"""``chinwag-gui`` / ``python -m gui_client``: the desktop client's entry point.

asyncio runs on Qt's own event loop through qasync, so the socket, the
reconnect timer and the widgets all live on one thread.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
import traceback
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

os.environ.setdefault("QT_API", "pyqt6")

import qasync
from PyQt6.QtCore import QTimer
from PyQt6.QtWidgets import QApplication

from chinwag_protocol.constants import DEFAULT_PORT, DEFAULT_TLS_PORT, MAX_NICK_LEN
from gui_client.backoff import Backoff
from gui_client.collector import MainThreadCollector
from gui_client.controller import ChatController
from gui_client.session import ChatSession
from gui_client.settings import ConnectionProfile, Settings
from gui_client.widgets.main_window import MainWindow


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="chinwag-gui",
        description="Chinwag desktop client. With --host, --port, --nick or --room it "
        "connects at once; otherwise it opens the connect dialog.",
    )
    p.add_argument("--host", help="server host name or address")
    p.add_argument("--port", type=int, help="server port (1-65535)")
    p.add_argument("--nick", help=f"your nick (1-{MAX_NICK_LEN} letters, digits, _ and -)")
    p.add_argument(
        "--room",
        action="append",
        metavar="ROOM",
        help="room to join (repeat for several); default: the rooms open last time",
    )
    p.add_argument("--tls", action="store_true", help="connect with TLS (certificate verified)")
    p.add_argument(
        "--settings",
        type=Path,
        metavar="FILE",
        help="keep settings in this INI file instead of the user's Qt settings",
    )
    return p


def create_window(
    settings: Settings, *, autojoin: list[str] | None = None, backoff: Backoff | None = None
) -> MainWindow:
    """Wire a session, a controller and the main window together (tests use this too)."""
    session = ChatSession(backoff=backoff)
    controller = ChatController(session, autojoin=autojoin or settings.rooms())
    window = MainWindow(controller, settings)
    session.setParent(window)
    controller.setParent(window)
    return window


def profile_from_args(args: argparse.Namespace, saved: ConnectionProfile) -> ConnectionProfile:
    return ConnectionProfile(
        host=args.host or saved.host,
        port=args.port
        or (DEFAULT_TLS_PORT if args.tls and saved.port == DEFAULT_PORT else saved.port),
        nick=args.nick or saved.nick,
        password=os.environ.get("CHINWAG_PASSWORD", ""),
        tls=args.tls or saved.tls,
    )


def install_error_reporting(window: MainWindow, loop: asyncio.AbstractEventLoop) -> None:
    """A bug must not take the window down: PyQt6 aborts the process on an exception
    escaping a slot unless ``sys.excepthook`` handles it.  Log the traceback (for a
    bug report) and tell the user in the conversation instead."""

    def report(exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
        traceback.print_exception(exc_type, exc, tb, file=sys.stderr)
        window.controller.error(
            f"Internal error: {exc_type.__name__}: {exc} (details on standard error)."
        )

    def loop_handler(_loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        exc = context.get("exception")
        if isinstance(exc, BaseException):
            report(type(exc), exc, exc.__traceback__)
        else:
            print(f"chinwag-gui: {context.get('message')}", file=sys.stderr)

    sys.excepthook = report
    loop.set_exception_handler(loop_handler)


async def run(args: argparse.Namespace) -> int:
    settings = Settings(args.settings)
    window = create_window(settings, autojoin=args.room)
    install_error_reporting(window, asyncio.get_running_loop())
    closed = asyncio.Event()
    window.closed.connect(closed.set)
    window.show()
    if args.host or args.port or args.nick or args.room:
        window.connect_to(profile_from_args(args, settings.profile()))
    else:
        window.show_connect_dialog()
    # Ctrl+C in the terminal closes the window; the timer lets Python see the signal
    signal.signal(signal.SIGINT, lambda *_: window.close())
    tick = QTimer(window)
    tick.start(300)
    tick.timeout.connect(lambda: None)
    await closed.wait()
    await window.session.stop("closed the window")
    await window.controller.close()
    return 0


def has_display(env: Mapping[str, str]) -> bool:
    """Whether Qt can open windows (on Linux it aborts the process when it cannot)."""
    if not sys.platform.startswith("linux"):
        return True
    return bool(env.get("QT_QPA_PLATFORM") or env.get("DISPLAY") or env.get("WAYLAND_DISPLAY"))


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.port is not None and not 0 < args.port < 65536:
        build_parser().error("--port must be 1 to 65535")
    if QApplication.instance() is None and not has_display(os.environ):
        print(
            "chinwag-gui: no graphical display (DISPLAY and WAYLAND_DISPLAY are unset); "
            "run it in a desktop session, or set QT_QPA_PLATFORM (offscreen for tests)",
            file=sys.stderr,
        )
        return 2
    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    app.setApplicationName("chinwag-gui")
    app.setOrganizationName("Chinwag")
    app.setDesktopFileName("chinwag-gui")
    # run() decides when to stop (after saying quit), not Qt closing the last window
    app.setQuitOnLastWindowClosed(False)
    collector = MainThreadCollector(app)
    collector.start()
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    try:
        with loop:
            return int(loop.run_until_complete(run(args)))
    finally:
        collector.stop()


if __name__ == "__main__":
    raise SystemExit(main())
