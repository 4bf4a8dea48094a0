"""Slash commands typed in the input line: a pure, table-driven parser.

:func:`parse` turns a line into a :class:`Command` (or plain text to send);
what a command *does* lives in the controller, keyed by ``Command.name``.
Other features add commands by appending a :class:`CommandSpec` to
:data:`COMMANDS` (for instance operator commands).
"""

from __future__ import annotations

from dataclasses import dataclass

from chinwag_client.room_admin import ADMIN_COMMANDS


class CommandError(ValueError):
    """A line that looks like a command but cannot be run as typed."""


@dataclass(frozen=True, slots=True)
class CommandSpec:
    name: str
    usage: str
    help: str
    #: how many leading whitespace-separated words are arguments; the rest of the
    #: line (if ``rest``) is one final free-text argument
    words: int = 0
    #: the command needs this many arguments at least (words + rest)
    required: int = 0
    rest: bool = False
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Command:
    name: str
    args: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Text:
    """A plain line to send to the current conversation."""

    text: str


COMMANDS: list[CommandSpec] = [
    CommandSpec("join", "/join <room> [key]", "join a room (created if new)", 2, 1, aliases=("j",)),
    CommandSpec(
        "part",
        "/part [room] [reason]",
        "leave a room (the current one by default)",
        1,
        0,
        rest=True,
        aliases=("leave",),
    ),
    CommandSpec("msg", "/msg <nick> <text>", "send a direct message", 1, 2, rest=True),
    CommandSpec("query", "/query <nick>", "open a direct conversation", 1, 1),
    CommandSpec("nick", "/nick <new nick>", "change your nick", 1, 1),
    CommandSpec("topic", "/topic [text]", "show the room's topic, or set it", 0, 0, rest=True),
    CommandSpec("me", "/me <action>", "describe an action (* you wave)", 0, 1, rest=True),
    CommandSpec("rooms", "/rooms", "browse the server's rooms", 0, 0),
    CommandSpec("close", "/close", "close the current conversation", 0, 0),
    CommandSpec("quit", "/quit [reason]", "disconnect and close Chinwag", 0, 0, rest=True),
    CommandSpec("help", "/help [command]", "list commands, or explain one", 1, 0),
    # accounts and room operators (requests built by chinwag_client.room_admin)
    *(
        CommandSpec(c.name, c.usage, c.help, c.max_words, c.min_words, rest=c.rest)
        for c in ADMIN_COMMANDS.values()
    ),
]


def find(name: str) -> CommandSpec | None:
    """The spec called ``name`` (or with that alias), case-insensitively."""
    key = name.lower()
    for spec in COMMANDS:
        if spec.name == key or key in spec.aliases:
            return spec
    return None


def parse(line: str) -> Command | Text | None:
    """Parse one input line.  None for a blank line; ``//text`` sends ``/text``.

    Raises :class:`CommandError` for an unknown command or missing arguments.
    """
    if not line.strip():
        return None
    if not line.startswith("/"):
        return Text(line)
    if line.startswith("//"):
        return Text(line[1:])
    head, _, tail = line[1:].partition(" ")
    if not head:
        raise CommandError("type a command after '/', or '//' to send a line starting with '/'")
    spec = find(head)
    if spec is None:
        raise CommandError(f"unknown command /{head} — type /help for the list")
    args: list[str] = []
    remaining = tail.strip()
    for _ in range(spec.words):
        if not remaining:
            break
        word, _, remaining = remaining.partition(" ")
        args.append(word)
        remaining = remaining.strip()
    if spec.rest and remaining:
        args.append(remaining)
    elif remaining:
        raise CommandError(f"too many arguments; usage: {spec.usage}")
    if len(args) < spec.required:
        raise CommandError(f"usage: {spec.usage}")
    return Command(spec.name, tuple(args))


def help_lines(name: str | None = None) -> list[str]:
    """Human help: every command, or one."""
    if name:
        spec = find(name.lstrip("/"))
        if spec is None:
            raise CommandError(f"unknown command /{name.lstrip('/')}")
        alias = f" (also /{', /'.join(spec.aliases)})" if spec.aliases else ""
        return [f"{spec.usage} — {spec.help}{alias}"]
    return [f"{spec.usage:<24} {spec.help}" for spec in COMMANDS]
