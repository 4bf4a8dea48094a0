"""Turning one typed line into a command: pure parsing, no state, no I/O.

:func:`parse` returns one of the command dataclasses below, ``None`` for a
blank line, or raises :class:`CommandError` (unknown command, bad arguments)
so that nothing is sent for a line the user got wrong.  What a command *does*
lives in :mod:`cli_client.session`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeAlias

from chinwag_client.room_admin import ADMIN_COMMANDS, AdminCommandError, split
from chinwag_protocol.actions import make_action
from chinwag_protocol.constants import MAX_HISTORY_PAGE


class CommandError(ValueError):
    """A line that looks like a command but cannot be run as typed."""


@dataclass(frozen=True, slots=True)
class SayText:
    """A plain line for the current room."""

    text: str


@dataclass(frozen=True, slots=True)
class JoinRoom:
    room: str
    key: str | None = None


@dataclass(frozen=True, slots=True)
class PartRoom:
    room: str | None = None
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class PrivateMsg:
    nick: str
    text: str


@dataclass(frozen=True, slots=True)
class ChangeNick:
    nick: str


@dataclass(frozen=True, slots=True)
class ListRooms:
    pass


@dataclass(frozen=True, slots=True)
class WhoIs:
    room: str | None = None


@dataclass(frozen=True, slots=True)
class SetTopic:
    """``text`` None shows the current topic; ``""`` is never produced (use /topic -)."""

    text: str | None = None


@dataclass(frozen=True, slots=True)
class ShowHistory:
    """Recent messages of ``room`` (None: the current room), or of the DMs with ``nick``."""

    limit: int | None = None
    room: str | None = None
    nick: str | None = None


@dataclass(frozen=True, slots=True)
class SwitchRoom:
    room: str


@dataclass(frozen=True, slots=True)
class ShowHelp:
    command: str | None = None


@dataclass(frozen=True, slots=True)
class RoomAdmin:
    """An account or operator command (chinwag_client.room_admin builds the request)."""

    name: str
    args: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class QuitChat:
    reason: str | None = None


Command: TypeAlias = (
    SayText
    | JoinRoom
    | PartRoom
    | PrivateMsg
    | ChangeNick
    | ListRooms
    | WhoIs
    | SetTopic
    | ShowHistory
    | SwitchRoom
    | ShowHelp
    | RoomAdmin
    | QuitChat
)


@dataclass(frozen=True, slots=True)
class _Spec:
    usage: str
    help: str
    aliases: tuple[str, ...] = ()


#: name -> usage and help, in the order /help lists them
SPECS: dict[str, _Spec] = {
    "join": _Spec("/join ROOM [KEY]", "join a room (created if new); it becomes current", ("j",)),
    "part": _Spec("/part [ROOM] [REASON]", "leave a room (the current one by default)", ("leave",)),
    "msg": _Spec("/msg NICK TEXT", "send a private message", ("query", "dm")),
    "me": _Spec("/me ACTION", "describe an action in the current room (* you wave)"),
    "nick": _Spec("/nick NEW", "change your nick"),
    "rooms": _Spec("/rooms", "list the server's rooms", ("list",)),
    "who": _Spec("/who [ROOM]", "list a room's members (the current room by default)", ("names",)),
    "topic": _Spec("/topic [TEXT]", "show the current room's topic, or set it (/topic - clears)"),
    "history": _Spec(
        "/history [ROOM|@NICK] [N]",
        f"show the last N (1-{MAX_HISTORY_PAGE}) messages of the current room,"
        " of ROOM, or of your private messages with NICK",
    ),
    "switch": _Spec("/switch ROOM", "make a joined room the current one", ("room",)),
    **{name: _Spec(c.usage, c.help) for name, c in ADMIN_COMMANDS.items()},
    "help": _Spec("/help [COMMAND]", "list the commands, or explain one", ("?",)),
    "quit": _Spec("/quit [REASON]", "leave the server (plain 'exit' does the same)", ("exit",)),
}
_ALIASES: dict[str, str] = {a: name for name, s in SPECS.items() for a in (name, *s.aliases)}


def canonical(name: str) -> str | None:
    """The command called ``name`` or with that alias (case-insensitive, leading / optional)."""
    return _ALIASES.get(name.lstrip("/").lower())


def parse(line: str) -> Command | None:
    """Parse one typed line.  None for a blank line; ``//text`` sends ``/text``."""
    if not line.strip():
        return None
    if line.strip() == "exit":
        return QuitChat()
    if not line.startswith("/"):
        return SayText(line)
    if line.startswith("//"):
        return SayText(line[1:])
    head, _, tail = line[1:].partition(" ")
    if not head.strip():
        raise CommandError("type a command after '/' (or '//' to send a line starting with '/')")
    name = canonical(head)
    if name is None:
        raise CommandError(f"unknown command /{head}; type /help for the list")
    args = tail.split()
    rest = tail.strip()
    usage = SPECS[name].usage

    def need(low: int, high: int | None = None) -> None:
        if len(args) < low or (high is not None and len(args) > high):
            raise CommandError(f"usage: {usage}")

    match name:
        case "join":
            need(1, 2)
            return JoinRoom(args[0], args[1] if len(args) > 1 else None)
        case "part":
            if not args:
                return PartRoom()
            reason = rest[len(args[0]) :].strip() or None
            return PartRoom(args[0], reason)
        case "msg":
            need(2)
            return PrivateMsg(args[0], rest[len(args[0]) :].strip())
        case "me":
            if not rest:
                raise CommandError(f"usage: {usage}")
            return SayText(make_action(rest))
        case "nick":
            need(1, 1)
            return ChangeNick(args[0])
        case "rooms":
            need(0, 0)
            return ListRooms()
        case "who":
            need(0, 1)
            return WhoIs(args[0] if args else None)
        case "topic":
            if not rest:
                return SetTopic()
            return SetTopic("" if rest == "-" else rest)
        case "history":
            return _history(args, usage)
        case "switch":
            need(1, 1)
            return SwitchRoom(args[0])
        case "help":
            need(0, 1)
            return ShowHelp(args[0] if args else None)
        case _ if name in ADMIN_COMMANDS:
            try:
                return RoomAdmin(name, tuple(split(name, tail)))
            except AdminCommandError as exc:
                raise CommandError(str(exc)) from None
        case _:
            return QuitChat(rest or None)


def _history(args: list[str], usage: str) -> ShowHistory:
    if not args:
        return ShowHistory()
    if args[0].isdigit() or args[0].startswith("-"):
        if len(args) > 1:
            raise CommandError(f"usage: {usage}")
        return ShowHistory(_history_limit(args[0]))
    if len(args) > 2:
        raise CommandError(f"usage: {usage}")
    limit = _history_limit(args[1]) if len(args) > 1 else None
    if args[0].startswith("@"):
        if len(args[0]) == 1:
            raise CommandError(f"usage: {usage}")
        return ShowHistory(limit, nick=args[0][1:])
    return ShowHistory(limit, room=args[0])


def _history_limit(word: str) -> int:
    if not word.isdigit() or not 1 <= int(word) <= MAX_HISTORY_PAGE:
        raise CommandError(f"N must be a number from 1 to {MAX_HISTORY_PAGE}")
    return int(word)


def help_lines(command: str | None = None) -> list[str]:
    """Human help: every command, or one."""
    if command is not None:
        name = canonical(command)
        if name is None:
            raise CommandError(f"unknown command /{command.lstrip('/')}")
        spec = SPECS[name]
        also = f" (also /{', /'.join(spec.aliases)})" if spec.aliases else ""
        return [f"{spec.usage} - {spec.help}{also}"]
    lines = [f"{s.usage:<24} {s.help}" for s in SPECS.values()]
    lines.append(f"{'TEXT':<24} say TEXT in the current room ('//TEXT' sends '/TEXT')")
    return lines
