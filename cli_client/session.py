"""Carrying out typed commands over a :class:`~chinwag_client.ChinwagClient`.

One command at a time: each request's reply is awaited before the next line
is looked at, so replies, errors and echoes print in the order typed and
nothing is lost when input is piped in faster than the server answers.
"""

from __future__ import annotations

import asyncio

from chinwag_client.client import ChinwagClient, RequestFailed
from chinwag_client.room_admin import AdminCommandError, build, describe, reply_type
from chinwag_protocol.connection import ClientEvent
from chinwag_protocol.errors import RequestError
from chinwag_protocol.messages import (
    History,
    HistoryOk,
    Join,
    JoinOk,
    Message,
    Msg,
    Nick,
    NickOk,
    Ok,
    Part,
    Private,
    Rooms,
    RoomsOk,
    Say,
    SentOk,
    Topic,
    Who,
    WhoOk,
)
from chinwag_protocol.validation import normalize_room
from cli_client import render
from cli_client.commands import (
    ChangeNick,
    Command,
    CommandError,
    JoinRoom,
    ListRooms,
    PartRoom,
    PrivateMsg,
    QuitChat,
    RoomAdmin,
    SayText,
    SetTopic,
    ShowHelp,
    ShowHistory,
    SwitchRoom,
    WhoIs,
    help_lines,
    parse,
)
from cli_client.state import ChatState
from cli_client.terminal import Output


class ChatSession:
    """The state of one chat and the handler of its events and commands."""

    def __init__(self, out: Output, *, timeout: float) -> None:
        self.out = out
        self.state = ChatState()
        self.timeout = timeout
        self.client: ChinwagClient | None = None

    # ---- incoming ----------------------------------------------------------

    def on_event(self, event: ClientEvent) -> None:
        """Callback for :class:`ChinwagClient`: follow the event, then print it."""
        try:
            self.state.apply(event)
            lines = render.event(event, self.state.nick)
        except Exception as exc:  # a malformed event must not kill the connection's reader
            lines = render.problem(f"could not show a {type(event).__name__} event: {exc!r}")
        self.update_prompt(redraw=not lines)
        self.out.lines(lines)

    def update_prompt(self, *, redraw: bool = True) -> None:
        self.out.set_prompt(f"[{self.state.current or '-'}]> ", redraw=redraw)

    # ---- outgoing ----------------------------------------------------------

    def _client(self) -> ChinwagClient:
        assert self.client is not None, "connect before running commands"
        return self.client

    def show(self, lines: list[str]) -> None:
        self.out.lines(lines)

    def system(self, text: str) -> None:
        self.out.lines(render.system(text))

    async def run_line(self, line: str) -> QuitChat | None:
        """Carry out one typed line; a :class:`QuitChat` when the user wants to leave."""
        try:
            cmd = parse(line)
        except CommandError as exc:
            self.show(render.problem(str(exc)))
            return None
        if cmd is None:
            return None
        if isinstance(cmd, QuitChat):
            return cmd
        try:
            await self.run(cmd)
        except RequestFailed as exc:
            self.show(render.error(exc.code, exc.message))
        except RequestError as exc:  # refused locally, e.g. a bad room name for /switch
            self.show(render.error(exc.code.value, exc.message))
        except CommandError as exc:
            self.show(render.problem(str(exc)))
        except TimeoutError:
            self.show(render.problem(f"no reply from the server within {self.timeout:g} s"))
        return None

    async def run(self, cmd: Command) -> None:
        client = self._client()
        st = self.state
        async with asyncio.timeout(self.timeout):
            match cmd:
                case SayText(text):
                    room = self._current()
                    sent = await client.call(Say(room=room, text=text), SentOk)
                    me = st.nick or "?"
                    msg = Message(room=room, from_=me, text=text, ts=sent.ts, msg_id=sent.msg_id)
                    self.show(render.room_message(msg))
                case JoinRoom(room, key):
                    await self.join(room, key)
                case PartRoom(room, reason):
                    name = normalize_room(room) if room is not None else self._current()
                    await client.call(Part(room=name, reason=reason), Ok)
                    st.parted(name)
                    self.system(f"you left {name}")
                    self._say_current()
                case PrivateMsg(nick, text):
                    sent = await client.call(Msg(to=nick, text=text), SentOk)
                    pm = Private(from_=st.nick or "?", to=nick, text=text, ts=sent.ts, msg_id="")
                    self.show(render.private_message(pm, st.nick))
                case ChangeNick(nick):
                    ok = await client.call(Nick(nick=nick), NickOk)
                    st.nick = ok.nick
                    self.system(f"you are now {ok.nick}")
                case ListRooms():
                    rooms = await client.call(Rooms(), RoomsOk)
                    self.show(render.room_list(rooms.rooms))
                case WhoIs(room):
                    name = normalize_room(room) if room is not None else self._current()
                    who = await client.call(Who(room=name), WhoOk)
                    self.system(render.members_line(who.room, who.members))
                case SetTopic(None):
                    name = self._current()
                    info = st.rooms[name]
                    self.system(render.topic_line(name, info.topic, info.topic_by))
                case SetTopic(str(text)):
                    name = self._current()
                    await client.call(Topic(room=name, topic=text), Ok)
                    st.set_topic(name, text, st.nick)
                    self.system(render.topic_line(name, text, st.nick))
                case ShowHistory(limit, room, nick):
                    if nick is not None:
                        query = History(with_=nick, limit=limit)
                        where = f"your private messages with {nick}"
                    else:
                        name = normalize_room(room) if room is not None else self._current()
                        query = History(room=name, limit=limit)
                        where = name
                    page = await client.call(query, HistoryOk)
                    if page.messages:
                        self.show(render.history(page.messages, st.nick))
                    else:
                        self.system(f"no messages in {where} yet")
                case SwitchRoom(room):
                    name = normalize_room(room)
                    if name not in st.rooms:
                        raise CommandError(f"you are not in {name}; /join {name} first")
                    st.current = name
                    self._say_current()
                case ShowHelp(command):
                    self.system("commands:" if command is None else "help:")
                    for line in help_lines(command):
                        self.system("  " + line)
                case RoomAdmin(name, args):
                    try:
                        req = build(name, list(args), st.current)
                    except AdminCommandError as exc:
                        raise CommandError(str(exc)) from None
                    reply = await client.call(req, reply_type(req))
                    self.system(describe(req, reply))
                case QuitChat():
                    pass
        self.update_prompt()

    async def join(self, room: str, key: str | None = None) -> None:
        ok = await self._client().call(Join(room=room, key=key), JoinOk)
        self.state.joined(ok.room, ok.topic)
        self.update_prompt(redraw=False)  # the lines below end with the new prompt
        self.show(render.joined_room(ok, self.state.nick))

    def _current(self) -> str:
        if self.state.current is None:
            raise CommandError("you are not in a room; /join one first")
        return self.state.current

    def _say_current(self) -> None:
        self.update_prompt(redraw=False)
        if self.state.current is None:
            self.system("you are in no room now; /join one")
        else:
            self.system(f"now talking in {self.state.current}")
