"""Account and room-operator slash commands, shared by the CLI and the GUI.

Pure: :func:`build` turns a command name and its typed words into the
protocol request (acting on the current room), and :func:`describe` turns
the server's reply into one line for the user.  Each front end only adds
the names of :data:`ADMIN_COMMANDS` to its own command table.

Modes use the IRC letters: ``/mode +i`` (invite-only), ``+m`` (moderated),
``+t`` (topic lock), ``+k KEY`` (key), ``-k`` (no key); several at once:
``/mode +im -t``.  ``/mode`` alone shows the modes.
"""

from __future__ import annotations

from dataclasses import dataclass

from chinwag_protocol.messages import (
    Ban,
    Deop,
    Devoice,
    Invite,
    Invited,
    Kick,
    Kicked,
    MemberChanged,
    MemberRequest,
    Mode,
    ModeChanged,
    ModeOk,
    Mute,
    Op,
    Password,
    Register,
    Reply,
    Request,
    RoomModes,
    Unban,
    Unmute,
    Voice,
    reply_type_for,
)


class AdminCommandError(ValueError):
    """The command cannot be sent as typed; the message says why."""


@dataclass(frozen=True, slots=True)
class AdminCommand:
    name: str
    usage: str
    help: str
    #: leading words required / allowed; the rest of the line is free text
    #: (a reason) when ``rest``
    min_words: int
    max_words: int
    rest: bool = False
    #: acts on the current room
    needs_room: bool = True


ADMIN_COMMANDS: dict[str, AdminCommand] = {
    c.name: c
    for c in (
        AdminCommand(
            "register",
            "/register PASSWORD",
            "register your current nick as an account",
            1,
            1,
            needs_room=False,
        ),
        AdminCommand(
            "password",
            "/password OLD NEW",
            "change your account's password",
            2,
            2,
            needs_room=False,
        ),
        AdminCommand(
            "mode",
            "/mode [+|-imt] [+k KEY|-k]",
            "show or set the room's modes (invite-only, moderated, topic lock, key)",
            0,
            4,
        ),
        AdminCommand("invite", "/invite NICK", "let NICK into the invite-only room", 1, 1),
        AdminCommand("kick", "/kick NICK [REASON]", "remove NICK from the room", 1, 1, rest=True),
        AdminCommand("ban", "/ban NICK", "ban NICK (their account, if any) from the room", 1, 1),
        AdminCommand("unban", "/unban NICK", "lift a ban", 1, 1),
        AdminCommand("mute", "/mute NICK", "stop NICK speaking in the room", 1, 1),
        AdminCommand("unmute", "/unmute NICK", "let NICK speak again", 1, 1),
        AdminCommand("voice", "/voice NICK", "let NICK speak in a moderated room", 1, 1),
        AdminCommand("devoice", "/devoice NICK", "take NICK's voice away", 1, 1),
        AdminCommand("op", "/op NICK", "make NICK an operator of the room", 1, 1),
        AdminCommand("deop", "/deop NICK", "take NICK's operator rights away", 1, 1),
    )
}

_FLAGS = {"i": "invite_only", "m": "moderated", "t": "topic_lock"}
_MEMBER: dict[str, type[MemberRequest]] = {
    "invite": Invite,
    "mute": Mute,
    "unmute": Unmute,
    "voice": Voice,
    "devoice": Devoice,
    "op": Op,
    "deop": Deop,
}


def split(name: str, line: str) -> list[str]:
    """The arguments of ``/name`` typed as ``line`` (what follows the command word)."""
    spec = ADMIN_COMMANDS[name]
    words = line.split()
    if spec.rest and len(words) > spec.max_words:
        head = words[: spec.max_words]
        tail = line.strip()
        for w in head:
            tail = tail[len(w) :].lstrip()
        return [*head, tail]
    if not spec.min_words <= len(words) <= spec.max_words:
        raise AdminCommandError(f"usage: {spec.usage}")
    return words


def _mode(room: str, args: list[str]) -> Mode:
    flags: dict[str, bool] = {}
    key: str | None = None
    words = list(args)
    while words:
        word = words.pop(0)
        if len(word) < 2 or word[0] not in "+-":
            raise AdminCommandError(f"usage: {ADMIN_COMMANDS['mode'].usage}")
        on = word[0] == "+"
        for letter in word[1:]:
            if letter in _FLAGS:
                flags[_FLAGS[letter]] = on
            elif letter == "k":
                if on:
                    if not words:
                        raise AdminCommandError("+k needs the key: /mode +k KEY")
                    key = words.pop(0)
                else:
                    key = ""
            else:
                raise AdminCommandError(
                    f"unknown mode {letter!r}: i (invite-only), m (moderated), "
                    "t (topic lock), k (key)"
                )
    return Mode(
        room=room,
        invite_only=flags.get("invite_only"),
        moderated=flags.get("moderated"),
        topic_lock=flags.get("topic_lock"),
        key=key,
    )


def build(name: str, args: list[str], room: str | None) -> Request:
    """The request for ``/name args`` in ``room`` (the current room, if any)."""
    spec = ADMIN_COMMANDS[name]
    if not spec.min_words <= len(args) <= spec.max_words + (1 if spec.rest else 0):
        raise AdminCommandError(f"usage: {spec.usage}")
    if name == "register":
        return Register(password=args[0])
    if name == "password":
        return Password(old=args[0], new=args[1])
    if room is None:
        raise AdminCommandError(f"/{name} acts on a room: switch to one first")
    if name == "mode":
        return _mode(room, args)
    if name == "kick":
        return Kick(room=room, nick=args[0], reason=args[1] if len(args) > 1 else None)
    if name == "ban":
        return Ban(room=room, nick=args[0])
    if name == "unban":
        return Unban(room=room, nick=args[0])
    return _MEMBER[name](room=room, nick=args[0])


def reply_type(req: Request) -> type[Reply]:
    return reply_type_for(type(req))


def modes_text(modes: RoomModes) -> str:
    on = [
        label
        for label, flag in (
            ("invite-only", modes.invite_only),
            ("moderated", modes.moderated),
            ("topic locked", modes.topic_lock),
            ("key required", modes.keyed),
        )
        if flag
    ]
    return ", ".join(on) or "no modes set"


def describe(req: Request, reply: Reply) -> str:
    """One line telling the user what the server did."""
    if isinstance(reply, ModeOk):
        text = f"{reply.room}: {modes_text(reply.modes)}"
        if reply.key is not None:
            text += f" (key: {reply.key})"
        text += f"; operators: {', '.join(reply.ops) or 'none here'}"
        if reply.voiced:
            text += f"; voiced: {', '.join(reply.voiced)}"
        if reply.banned:
            text += f"; banned: {', '.join(reply.banned)}"
        if reply.muted:
            text += f"; muted: {', '.join(reply.muted)}"
        return text
    match req:
        case Register():
            return "your nick is now a registered account; sign in with its password from now on"
        case Password():
            return "your password was changed"
        case Kick(room=room, nick=nick):
            return f"you kicked {nick} from {room}"
        case Ban(room=room, nick=nick):
            return f"you banned {nick} from {room}"
        case Unban(room=room, nick=nick):
            return f"you lifted the ban on {nick} in {room}"
        case Invite(room=room, nick=nick):
            return f"you invited {nick} to {room}"
    tag = str(type(req).__struct_config__.tag)
    nick = getattr(req, "nick", "?")
    room = getattr(req, "room", "?")
    done = {
        "mute": f"{nick} is muted in {room}",
        "unmute": f"{nick} may speak again in {room}",
        "voice": f"{nick} has voice in {room}",
        "devoice": f"{nick} no longer has voice in {room}",
        "op": f"{nick} is now an operator of {room}",
        "deop": f"{nick} is no longer an operator of {room}",
    }
    return done.get(tag, "done")


def event_text(event: Kicked | MemberChanged | ModeChanged | Invited, me: str | None) -> str:
    """One line for a permission event, as a chat window shows it."""

    def who(nick: str) -> str:
        return "you" if me is not None and nick.casefold() == me.casefold() else nick

    match event:
        case Kicked():
            why = f" ({event.reason})" if event.reason else ""
            return f"{event.by} removed {who(event.nick)} from {event.room}{why}"
        case ModeChanged():
            return f"{event.by} set {event.room}: {modes_text(event.modes)}"
        case Invited():
            return f"{event.by} invited you to {event.room} — /join {event.room}"
        case MemberChanged():
            target = who(event.nick)
            text = {
                "op": f"made {target} an operator",
                "deop": f"took operator rights from {target}",
                "voice": f"gave {target} voice",
                "devoice": f"took voice from {target}",
                "mute": f"muted {target}",
                "unmute": f"unmuted {target}",
                "ban": f"banned {target}",
                "unban": f"lifted the ban on {target}",
            }.get(event.action, f"{event.action} {target}")
            return f"{event.by} {text} in {event.room}"
