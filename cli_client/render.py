"""Turning events and replies into terminal lines: pure functions, no I/O.

Every function returns a list of lines (no newlines inside).  Text from the
network is never trusted: control characters (terminal escapes included) are
dropped, tabs become spaces and a multi-line message continues on indented
lines under its first one.  Times are shown as local ``HH:MM``.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from datetime import datetime, tzinfo
from typing import Any

import msgspec

from chinwag_protocol.actions import action_body, is_action
from chinwag_protocol.connection import ClientEvent, ReplyReceived, ServerError
from chinwag_protocol.messages import (
    Joined,
    JoinOk,
    Left,
    Message,
    NickChanged,
    Notice,
    PingEvent,
    Private,
    RoomInfo,
    TopicChanged,
)
from chinwag_protocol.timefmt import parse_ts

SYSTEM = "--"
ERROR = "!!"


def clock(ts: str | None = None, *, now: datetime | None = None, tz: tzinfo | None = None) -> str:
    """``HH:MM`` in local time (or ``tz``) of a wire timestamp, else of ``now``."""
    when: datetime | None = None
    if ts is not None:
        try:
            when = parse_ts(ts)
        except ValueError:
            when = None
    if when is None:
        when = now if now is not None else datetime.now().astimezone()
    return when.astimezone(tz).strftime("%H:%M")


def clean(text: str) -> str:
    """One line of network text made safe for a terminal."""
    out = []
    for ch in text.replace("\t", " "):
        cat = unicodedata.category(ch)
        if cat == "Cc" or (cat == "Cf" and ch not in "\u200d\u200c"):
            continue
        out.append(ch)
    return "".join(out)


def _block(prefix: str, text: str) -> list[str]:
    """``prefix`` then ``text``; further lines of ``text`` are indented below it."""
    parts = [clean(p) for p in text.replace("\r\n", "\n").split("\n")]
    indent = " " * len(prefix)
    return [prefix + parts[0]] + [indent + p for p in parts[1:]]


def room_message(msg: Message, *, tz: tzinfo | None = None) -> list[str]:
    if is_action(msg.text):
        prefix = f"{clock(msg.ts, tz=tz)} [{clean(msg.room)}] * {clean(msg.from_)} "
        return _block(prefix, action_body(msg.text))
    return _block(f"{clock(msg.ts, tz=tz)} [{clean(msg.room)}] <{clean(msg.from_)}> ", msg.text)


def private_message(msg: Private, me: str | None, *, tz: tzinfo | None = None) -> list[str]:
    """``*bob* psst`` from someone; ``-> *bob* psst`` for what we (or our other sessions) sent."""
    mine = me is not None and msg.from_.casefold() == me.casefold()
    head = f"{clock(msg.ts, tz=tz)} -> *{clean(msg.to)}* " if mine else f"{clock(msg.ts, tz=tz)} "
    if is_action(msg.text):
        return _block(f"{head}* {clean(msg.from_)} ", action_body(msg.text))
    if mine:
        return _block(head, msg.text)
    return _block(f"{head}*{clean(msg.from_)}* ", msg.text)


def system(text: str, *, now: datetime | None = None, tz: tzinfo | None = None) -> list[str]:
    return _block(f"{clock(now=now, tz=tz)} {SYSTEM} ", text)


def error(code: str, message: str) -> list[str]:
    return _block(f"{ERROR} ", f"{code}: {message}")


def problem(text: str) -> list[str]:
    """A local complaint (bad command, not in a room): nothing was sent."""
    return _block(f"{ERROR} ", text)


def topic_line(room: str, topic: str, by: str | None = None) -> str:
    if not topic:
        return f"{room} has no topic"
    return f"topic of {room}: {topic}" + (f" (set by {by})" if by else "")


def members_line(room: str, members: list[str]) -> str:
    return f"members of {room} ({len(members)}): {', '.join(sorted(members, key=str.casefold))}"


def history(
    messages: list[Message | Private], me: str | None, *, tz: tzinfo | None = None
) -> list[str]:
    lines: list[str] = []
    for m in messages:
        lines += room_message(m, tz=tz) if isinstance(m, Message) else private_message(m, me, tz=tz)
    return lines


def joined_room(
    ok: JoinOk, me: str | None, *, now: datetime | None = None, tz: tzinfo | None = None
) -> list[str]:
    """What we show after a successful join: replayed history, topic, members."""
    lines = history(list(ok.history), me, tz=tz)
    lines += system(f"joined {ok.room}", now=now, tz=tz)
    if ok.topic:
        lines += system(topic_line(ok.room, ok.topic), now=now, tz=tz)
    lines += system(members_line(ok.room, ok.members), now=now, tz=tz)
    return lines


def room_list(
    rooms: list[RoomInfo], *, now: datetime | None = None, tz: tzinfo | None = None
) -> list[str]:
    if not rooms:
        return system("no rooms", now=now, tz=tz)
    lines = system(f"{len(rooms)} room{'s' if len(rooms) != 1 else ''}:", now=now, tz=tz)
    width = max(len(r.name) for r in rooms)
    for r in rooms:
        topic = f"  {r.topic}" if r.topic else ""
        lines += system(f"  {r.name:<{width}}  {r.members:>4}{topic}", now=now, tz=tz)
    return lines


_MEMBER_ACTIONS = {
    "op": "made {nick} an operator of {room}",
    "deop": "took operator status in {room} from {nick}",
    "voice": "gave {nick} a voice in {room}",
    "devoice": "took the voice in {room} from {nick}",
    "mute": "muted {nick} in {room}",
    "unmute": "unmuted {nick} in {room}",
    "ban": "banned {nick} from {room}",
    "unban": "lifted the ban on {nick} in {room}",
}


def _kicked(f: dict[str, Any], me: str | None) -> str:
    who = "you were" if me and str(f["nick"]).casefold() == me.casefold() else f"{f['nick']} was"
    reason = f": {f['reason']}" if f.get("reason") else ""
    return f"{who} kicked from {f['room']} by {f['by']}{reason}"


def _member(f: dict[str, Any], me: str | None) -> str:
    action = _MEMBER_ACTIONS.get(str(f["action"]), str(f["action"]) + " {nick} in {room}")
    return f"{f['by']} " + action.format(nick=f["nick"], room=f["room"])


def _modes(f: dict[str, Any], me: str | None) -> str:
    modes = f.get("modes")
    fields = msgspec.structs.asdict(modes) if isinstance(modes, msgspec.Struct) else {}
    on = [name.replace("_", "-") for name, value in fields.items() if value is True]
    return f"{f['by']} set the modes of {f['room']}: {', '.join(on) or 'none'}"


def _invited(f: dict[str, Any], me: str | None) -> str:
    return f"{f['by']} invites you to {f['room']} (type /join {f['room']})"


#: protocol extensions, rendered by tag so this module needs no change when they evolve
_EXTENSIONS: dict[str, Callable[[dict[str, Any], str | None], str]] = {
    "kicked": _kicked,
    "member": _member,
    "mode": _modes,
    "invited": _invited,
}


def tag_of(event: msgspec.Struct) -> str:
    return str(event.__struct_config__.tag)


def event(
    ev: ClientEvent, me: str | None, *, now: datetime | None = None, tz: tzinfo | None = None
) -> list[str]:
    """The lines an incoming event prints (none for ``ping``)."""
    match ev:
        case Message():
            return room_message(ev, tz=tz)
        case Private():
            return private_message(ev, me, tz=tz)
        case Joined():
            return system(f"{ev.nick} joined {ev.room}", now=now, tz=tz)
        case Left():
            why = f" ({ev.reason})" if ev.reason else ""
            return system(f"{ev.nick} left {ev.room}{why}", now=now, tz=tz)
        case TopicChanged():
            return system(topic_line(ev.room, ev.topic, ev.by), now=now, tz=tz)
        case NickChanged():
            return system(f"{ev.old} is now {ev.new}", now=now, tz=tz)
        case PingEvent():
            return []
        case Notice():
            return system(ev.text, now=now, tz=tz)
        case ServerError():
            return error(ev.code, ev.message)
        case ReplyReceived():
            return []  # replies are shown by whoever asked
        case _:
            fields = msgspec.structs.asdict(ev)
            tag = tag_of(ev)
            show = _EXTENSIONS.get(tag)
            if show is not None:
                try:
                    return system(show(fields, me), now=now, tz=tz)
                except KeyError:
                    pass
            detail = ", ".join(f"{k}={v}" for k, v in fields.items())
            return system(f"{tag}: {detail}", now=now, tz=tz)
