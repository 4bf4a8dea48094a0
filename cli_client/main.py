"""``chinwag-cli``: argument parsing and the asyncio glue around a chat session.

Exit codes: 0 normal end (quit, end of piped input, server shutdown),
1 cannot connect or connection lost, 2 usage error, 3 refused at ``hello``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import os
import signal
import socket
import sys
from importlib import metadata
from typing import Any

from chinwag_client.client import ChinwagClient, ConnectionLost, RequestFailed
from chinwag_protocol.constants import DEFAULT_ROOM
from chinwag_protocol.errors import RequestError
from chinwag_protocol.messages import Ok, Register
from chinwag_protocol.validation import normalize_nick, normalize_room
from cli_client import render
from cli_client.commands import QuitChat
from cli_client.connect import add_connection_flags, connection_args, open_client
from cli_client.session import ChatSession
from cli_client.terminal import InputLines, Output, TooLong

EXIT_OK = 0
EXIT_CONNECTION = 1
EXIT_USAGE = 2
EXIT_REFUSED = 3

PROG = "chinwag-cli"
#: Longest --wait accepted, in seconds.
MAX_WAIT = 86400.0


def _nick(text: str) -> str:
    try:
        return normalize_nick(text)
    except RequestError as exc:
        raise argparse.ArgumentTypeError(f"bad nick {text!r}: {exc.message}") from None


def _room(text: str) -> str:
    if text == "":
        return ""
    try:
        return normalize_room(text)
    except RequestError as exc:
        raise argparse.ArgumentTypeError(f"bad room {text!r}: {exc.message}") from None


def _wait(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not 0 <= value <= MAX_WAIT:
        raise argparse.ArgumentTypeError(f"--wait is 0 to {MAX_WAIT:g} seconds")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Chat on a Chinwag server from a terminal, or from a script through a pipe.",
        epilog="Type /help once connected for the commands. Exit codes: 0 done, "
        "1 cannot connect or connection lost, 2 usage error, 3 refused by the server at login.",
    )
    add_connection_flags(parser)
    parser.add_argument(
        "--nick", type=_nick, help="your nick (asked for when missing and stdin is a terminal)"
    )
    parser.add_argument(
        "--password",
        default=os.environ.get("CHINWAG_PASSWORD") or None,
        help="account password sent at login (default: $CHINWAG_PASSWORD)",
    )
    parser.add_argument(
        "--register",
        action="store_true",
        help="register --nick as a new account with --password on connecting "
        "(later logins just give --password)",
    )
    parser.add_argument(
        "--room",
        type=_room,
        action="append",
        help=f"room to join after login; repeat for several, the first is current"
        f" (default {DEFAULT_ROOM}; '' joins none)",
    )
    parser.add_argument(
        "--wait",
        type=_wait,
        default=0.0,
        metavar="SECONDS",
        help="after the input ends, keep printing what arrives this long, then quit (default 0)",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    return parser


def _version() -> str:
    try:
        return metadata.version("chinwag")
    except metadata.PackageNotFoundError:
        return "dev"


def _ask_nick() -> str | None:
    """Prompt on the terminal until a valid nick is typed; None on end of input.

    The prompt goes to stdout when that is the terminal, else to stderr, so it
    never lands in a transcript redirected to a file."""
    ask = sys.stdout if sys.stdout.isatty() else sys.stderr
    while True:
        try:
            ask.write("nick: ")
            ask.flush()
            line = sys.stdin.readline()
        except KeyboardInterrupt:
            line = ""
        if not line:
            ask.write("\n")
            return None
        text = line.strip()
        if not text:
            continue
        try:
            return normalize_nick(text)
        except RequestError as exc:
            print(f"{render.ERROR} {exc.message}", file=ask, flush=True)


def _describe(exc: OSError | TimeoutError) -> str:
    """A short human reason for a failed connection attempt."""
    if isinstance(exc, TimeoutError):
        return "timed out"
    if isinstance(exc, socket.gaierror):
        return exc.strerror or str(exc)
    if exc.errno is not None and exc.errno > 0:
        return os.strerror(exc.errno).lower()
    return str(exc)


def _fail(text: str) -> None:
    with contextlib.suppress(OSError, ValueError):
        print(text, file=sys.stderr, flush=True)


def _ensure_std_streams() -> None:
    """A closed stdin reads as empty input, a closed stdout or stderr discards output."""
    if sys.stdin is None:
        sys.stdin = open(os.devnull, encoding="utf-8")  # noqa: SIM115 - lives until exit
    if sys.stdout is None:
        sys.stdout = open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115
    if sys.stderr is None:
        sys.stderr = open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115


def main(argv: list[str] | None = None) -> int:
    ns = build_parser().parse_args(argv)
    _ensure_std_streams()
    interactive = sys.stdin.isatty()
    for stream in (sys.stdout, sys.stderr):
        if isinstance(stream, io.TextIOWrapper):  # never die on a character the locale lacks
            stream.reconfigure(errors="replace")
    if ns.register and not ns.password:
        _fail(f"{PROG}: --register needs --password (or $CHINWAG_PASSWORD)")
        return EXIT_USAGE
    nick: str | None = ns.nick
    if nick is None:
        if not interactive:
            _fail(f"{PROG}: --nick is required when standard input is not a terminal")
            return EXIT_USAGE
        nick = _ask_nick()
        if nick is None:
            return EXIT_USAGE
    try:
        return asyncio.run(run(ns, nick, interactive=interactive))
    except KeyboardInterrupt:
        return EXIT_OK


async def run(ns: argparse.Namespace, nick: str, *, interactive: bool) -> int:
    # the prompt is redrawn with ANSI escapes, which a dumb terminal would print raw
    fancy = interactive and sys.stdout.isatty() and os.environ.get("TERM") != "dumb"
    prompt = "[-]> " if fancy else None
    session = ChatSession(Output(sys.stdout, prompt), timeout=ns.timeout)
    session.state.nick = nick
    target = connection_args(ns)
    try:
        client = await open_client(target, session.on_event)
    except (OSError, TimeoutError) as exc:
        _fail(f"{PROG}: cannot connect to {target.address}: {_describe(exc)}")
        return EXIT_CONNECTION
    session.client = client
    try:
        try:
            async with asyncio.timeout(ns.timeout):
                password = None if ns.register else ns.password
                ok = await client.hello(nick, password=password, client=f"{PROG}/{_version()}")
                if ns.register:
                    await client.call(Register(password=ns.password), Ok)
        except RequestFailed as exc:
            _fail("\n".join(render.error(exc.code, exc.message)))
            return EXIT_REFUSED
        except (ConnectionLost, TimeoutError) as exc:
            why = str(exc) or "no answer to hello"
            _fail(f"{PROG}: cannot connect to {target.address}: {why}")
            return EXIT_CONNECTION
        session.state.nick = ok.nick
        session.system(f"connected to {ok.server} as {ok.nick}")
        if ns.register:
            session.system(f"registered {ok.nick} as an account: next time use --password")
        if ok.offline:
            session.system(f"{ok.offline} private message(s) came in while you were away")
        if ok.motd:
            session.system(ok.motd)
        rooms = [r for r in ns.room or [DEFAULT_ROOM] if r]
        return await chat(client, session, rooms=rooms, wait=ns.wait, interactive=interactive)
    finally:
        await client.close()


async def chat(
    client: ChinwagClient,
    session: ChatSession,
    *,
    rooms: list[str],
    wait: float,
    interactive: bool,
) -> int:
    """Join ``rooms``, then run typed lines until the user quits, the input ends or
    the connection goes."""
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        loop.add_signal_handler(sig, stop.set)
    lines = InputLines(sys.stdin.fileno())
    feeder = asyncio.create_task(
        _feed(session, lines, rooms=rooms, wait=wait, interactive=interactive)
    )
    stopper = asyncio.create_task(stop.wait())
    try:
        waits: set[asyncio.Future[Any]] = {feeder, stopper, client.closed}
        await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        if feeder.done() and feeder.exception() is None:
            quit_cmd = feeder.result()
        elif stopper.done() and not client.closed.done():
            quit_cmd = QuitChat()
        else:
            if feeder.done() and not isinstance(feeder.exception(), ConnectionLost):
                feeder.result()  # a bug: let it surface
            if session.state.shutting_down:
                return EXIT_OK
            reason = client.closed.result() if client.closed.done() else "connection closed"
            reason = reason.removeprefix("connection lost: ")
            session.out.end()
            _fail(f"{render.ERROR} connection lost: {reason}")
            return EXIT_CONNECTION
        await client.quit(quit_cmd.reason)
        return EXIT_OK
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            loop.remove_signal_handler(sig)
        for task in (feeder, stopper):
            task.cancel()
        await asyncio.gather(feeder, stopper, return_exceptions=True)
        session.out.end()


async def _feed(
    session: ChatSession, lines: InputLines, *, rooms: list[str], wait: float, interactive: bool
) -> QuitChat:
    for room in dict.fromkeys(rooms):
        await session.run_line(f"/join {room}")
    if len(rooms) > 1 and rooms[0] in session.state.rooms:
        await session.run_line(f"/switch {rooms[0]}")
    while not session.out.broken:
        session.out.show_prompt()
        line = await lines.next()
        if line is None:
            break
        if isinstance(line, TooLong):
            session.show(render.problem("input line too long; not sent"))
            continue
        if interactive:
            session.out.typed(line)
        quit_cmd = await session.run_line(line)
        if quit_cmd is not None:
            return quit_cmd
    if wait > 0 and not session.out.broken:
        await asyncio.sleep(wait)
    return QuitChat()
