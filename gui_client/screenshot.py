"""Render the README picture: ``python -m gui_client.screenshot docs/screenshot.png``.

Starts an in-process server on a free port, scripts a few participants
through the real client library, connects a real main window, waits until
every line has arrived, and saves ``window.grab()``.  It runs offscreen, so
it needs no display, and the picture always shows the current code.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("QT_API", "pyqt6")

import qasync
from PyQt6.QtWidgets import QApplication

from chinwag_client.client import ChinwagClient
from chinwag_protocol.messages import Join, JoinOk, Msg, Ok, Say, SentOk, Topic
from gui_client.collector import MainThreadCollector
from gui_client.main import create_window
from gui_client.models.conversations import ConvKind
from gui_client.settings import ConnectionProfile, Settings
from gui_client.widgets.main_window import MainWindow
from server.app import ChinwagServer
from server.config import Settings as ServerSettings

LOBBY_BEFORE = [
    ("erin", "heads-up: the build farm reboots at noon for the kernel update"),
    ("dave", "thanks erin, I'll hold the long benchmark run until after"),
    ("bob", "morning all"),
    ("carol", "morning! coffee machine on 3 is fixed, finally"),
    ("dave", "/me does a small victory dance"),
    ("bob", "anyone else seeing the staging deploy hang at 'migrate'?"),
    ("carol", "yes — the index build on messages takes a while on the big snapshot"),
    ("dave", "I bumped the timeout to 10 min, should be through in a sec"),
    ("bob", "that did it, staging is green again"),
    ("carol", "nice. Release notes draft: https://wiki.example.org/release-2.4 (comments welcome)"),
]
LOBBY_AFTER = [
    ("bob", "alice: are we still on for the 2pm demo?"),
    ("carol", "I'll bring the slides, the new GUI screenshots look great"),
]
DEV = [
    ("dave", "PR #142 is ready: reconnect with backoff + jitter"),
    ("erin", "reviewing now"),
    ("erin", "LGTM, one nit about the status bar wording"),
]
DESIGN = [("erin", "alice, can you check the new sidebar colours when you have a minute?")]


async def _until(condition: Callable[[], bool]) -> None:
    while not condition():  # noqa: ASYNC110 - widget state has no event to await
        await asyncio.sleep(0.05)


async def _speak(client: ChinwagClient, room: str, text: str) -> None:
    await client.call(Say(room=room, text=text), SentOk)


async def _script(port: int, window: MainWindow) -> dict[str, ChinwagClient]:
    people: dict[str, ChinwagClient] = {}
    for nick in ("bob", "carol", "dave", "erin"):
        c = await ChinwagClient.connect("127.0.0.1", port)
        await c.hello(nick)
        people[nick] = c
    for nick in ("bob", "carol", "dave", "erin"):
        await people[nick].call(Join(room="lobby"), JoinOk)
    for nick in ("dave", "erin"):
        await people[nick].call(Join(room="dev"), JoinOk)
    await people["erin"].call(Join(room="design"), JoinOk)
    await people["carol"].call(
        Topic(room="lobby", topic="Release train: Thursday 15:00 · notes in #dev"), Ok
    )
    await people["erin"].call(Topic(room="dev", topic="Code review and CI"), Ok)
    for nick, text in LOBBY_BEFORE:
        await _speak(people[nick], "lobby", text)

    window.connect_to(ConnectionProfile(host="127.0.0.1", port=port, nick="alice"))
    controller = window.controller
    await _until(lambda: len(controller.open_rooms()) == 3)
    lobby = controller.convs.get(ConvKind.ROOM, "lobby")
    assert lobby is not None
    controller.set_current(lobby)
    controller.submit("all good here, the migration finished :)")
    await asyncio.sleep(0.2)
    for nick, text in LOBBY_AFTER:
        await _speak(people[nick], "lobby", text)
    controller.submit("/me waves — yes, 2pm, room Ada")
    for nick, text in DEV:
        await _speak(people[nick], "dev", text)
    for nick, text in DESIGN:
        await _speak(people[nick], "design", text)
    await people["carol"].call(Msg(to="alice", text="do you have the demo link?"), SentOk)
    await people["bob"].call(Msg(to="alice", text="thanks for the review!"), SentOk)
    await _until(lambda: controller.convs.get(ConvKind.DIRECT, "bob") is not None)
    bob_dm = controller.convs.get(ConvKind.DIRECT, "bob")
    assert bob_dm is not None
    await _until(lambda: len(bob_dm.messages) == 1)
    # bob's DM was read; carol's waits
    bob_dm.unread = 0
    bob_dm.mention = False
    controller.convs.changed(bob_dm)
    await asyncio.sleep(0.5)
    return people


async def render(out: Path, size: tuple[int, int]) -> None:
    with tempfile.TemporaryDirectory(prefix="chinwag-shot-") as tmp:
        server = ChinwagServer(
            ServerSettings(port=0, data_dir=Path(tmp) / "data", history_sync="normal").validate()
        )
        await server.start()
        window = create_window(Settings(Path(tmp) / "gui.ini"), autojoin=["lobby", "dev", "design"])
        window.resize(*size)
        window.show()
        try:
            people = await asyncio.wait_for(_script(server.port, window), 30)
            window.input.setText("sounds good, see you")
            await asyncio.sleep(0.3)
            out.parent.mkdir(parents=True, exist_ok=True)
            saved = window.grab().save(str(out))
            for c in people.values():
                await c.close()
            if not saved:
                raise SystemExit(f"could not write {out}")
        finally:
            await window.session.stop()
            await window.controller.close()
            window.close()
            await server.close()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m gui_client.screenshot", description=__doc__)
    p.add_argument("out", type=Path, nargs="?", default=Path("docs/screenshot.png"))
    p.add_argument("--size", default="1180x720", help="window size, WIDTHxHEIGHT")
    args = p.parse_args(argv)
    try:
        width, height = (int(v) for v in args.size.lower().split("x"))
    except ValueError:
        p.error("--size is WIDTHxHEIGHT, e.g. 1180x720")
    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    app.setQuitOnLastWindowClosed(False)
    collector = MainThreadCollector(app)  # the in-process server runs a writer thread
    collector.start()
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    try:
        with loop:
            loop.run_until_complete(render(args.out, (width, height)))
    finally:
        collector.stop()
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
