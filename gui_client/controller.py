"""Turns what the user types and what the server sends into model updates.

No widgets here: the main window binds to the controller's models and
signals.  Requests run as tasks on the qasync loop; the controller keeps a
reference to each and reports a failed request as an error line in the
conversation it concerns, never as a traceback.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import Callable, Coroutine
from typing import Any

from PyQt6.QtCore import QObject, pyqtSignal

from chinwag_client import room_admin
from chinwag_client.client import ConnectionLost, RequestFailed
from chinwag_protocol.connection import ClientEvent, ServerError
from chinwag_protocol.constants import DEFAULT_HISTORY_PAGE, MAX_HISTORY_PAGE
from chinwag_protocol.errors import RequestError
from chinwag_protocol.messages import (
    Ban,
    Deop,
    Devoice,
    HelloOk,
    History,
    HistoryOk,
    Invited,
    Join,
    Joined,
    JoinOk,
    Kick,
    Kicked,
    Left,
    MemberChanged,
    Message,
    ModeChanged,
    Msg,
    Nick,
    NickChanged,
    NickOk,
    Notice,
    Ok,
    Op,
    Part,
    Private,
    RoomInfo,
    Rooms,
    RoomsOk,
    Say,
    SentOk,
    Topic,
    TopicChanged,
    Voice,
)
from chinwag_protocol.validation import nick_key, normalize_nick, normalize_room
from gui_client import commands
from gui_client.commands import Command, CommandError, Text
from gui_client.models.conversations import Conversation, ConversationModel, ConvKind
from gui_client.models.messages import Kind, Row, row_from_message
from gui_client.session import ChatSession, NotConnected
from gui_client.text import ACTION_PREFIX, mentions

#: how many messages one "load older" step asks for
OLDER_PAGE = 100


class ChatController(QObject):
    #: the conversation shown changed (Conversation | None)
    currentChanged = pyqtSignal(object)
    #: a conversation's members or topic changed (Conversation)
    conversationUpdated = pyqtSignal(object)
    #: (title, body): a DM or mention arrived while the window was not active
    notify = pyqtSignal(str, str)
    #: our own nick (after hello or /nick)
    nickChanged = pyqtSignal(str)
    #: /rooms was typed
    roomBrowserRequested = pyqtSignal()
    #: /quit was typed (after the session said quit)
    quitRequested = pyqtSignal()

    def __init__(
        self, session: ChatSession, *, autojoin: list[str], parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self.session = session
        self.convs = ConversationModel(self)
        self.current: Conversation | None = None
        self.me: str | None = None
        self.autojoin = list(autojoin)
        #: keys given with /join, reused when rejoining after a reconnect
        self.room_keys: dict[str, str] = {}
        #: the window tells us whether it is the active window (for unread and notifications)
        self.window_active: Callable[[], bool] = lambda: True
        self._tasks: set[asyncio.Task[Any]] = set()
        session.on_ready = self._on_ready
        session.eventReceived.connect(self._on_event)
        session.connectionLost.connect(self._on_lost)

    # ---- tasks ----------------------------------------------------------------

    def spawn(
        self, coro: Coroutine[Any, Any, Any], where: Conversation | None = None
    ) -> asyncio.Task[Any]:
        """Run ``coro``; a request that fails becomes an error line in ``where``."""
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)

        def done(t: asyncio.Task[Any]) -> None:
            self._tasks.discard(t)
            if t.cancelled():
                return
            exc = t.exception()
            if exc is None:
                return
            if isinstance(exc, RequestFailed):
                self.error(exc.message, where)
            elif isinstance(exc, NotConnected | ConnectionLost):
                self.error("Not connected — try again once the connection is back.", where)
            else:
                raise exc

        task.add_done_callback(done)
        return task

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    # ---- conversations --------------------------------------------------------

    def visible(self, conv: Conversation) -> bool:
        return conv is self.current and self.window_active()

    def set_current(self, conv: Conversation | None) -> None:
        if conv is self.current:
            return
        if self.current is not None:
            self.current.messages.set_marker(None)  # seen: the "new" line goes
        self.current = conv
        if conv is not None:
            self.mark_read(conv)
        self.currentChanged.emit(conv)

    def mark_read(self, conv: Conversation | None) -> None:
        if conv is not None and (conv.unread or conv.mention):
            conv.unread = 0
            conv.mention = False
            self.convs.changed(conv)

    def open_direct(self, nick: str, *, select: bool = True) -> Conversation | None:
        try:
            nick = normalize_nick(nick.strip())
        except RequestError as exc:
            self.error(exc.message)
            return None
        conv = self.convs.get(ConvKind.DIRECT, nick)
        if conv is None:
            conv = self.convs.ensure(ConvKind.DIRECT, nick)
            if self.session.connected:
                self.spawn(self.load_older(conv), conv)
        if select:
            self.set_current(conv)
        return conv

    def close_conversation(self, conv: Conversation | None = None) -> None:
        """Ctrl+W: leave a room, or close a direct chat."""
        conv = conv or self.current
        if conv is None:
            return
        if conv.kind is ConvKind.ROOM and conv.joined and self.session.connected:
            self.spawn(self._part(conv.name, None), conv)
        else:
            self._drop(conv)

    def _drop(self, conv: Conversation) -> None:
        convs = self.convs.conversations()
        pos = convs.index(conv) if conv in convs else 0
        self.convs.remove(conv)
        if conv is self.current:
            rest = self.convs.conversations()
            self.current = None
            self.set_current(rest[min(pos, len(rest) - 1)] if rest else None)
            if not rest:
                self.currentChanged.emit(None)

    def open_rooms(self) -> list[str]:
        return [c.name for c in self.convs.rooms() if c.joined]

    # ---- lines ----------------------------------------------------------------

    def add_line(self, conv: Conversation | None, row: Row) -> None:
        conv = conv or self.current
        if conv is None:
            return
        conv.messages.append(row)

    def info(self, text: str, conv: Conversation | None = None, kind: Kind = Kind.NOTICE) -> None:
        self.add_line(conv, Row(kind, text))

    def error(self, text: str, conv: Conversation | None = None) -> None:
        self.add_line(conv, Row(Kind.ERROR, text))

    def _count(self, conv: Conversation, rows: list[Row]) -> None:
        """Unread and mention bookkeeping for rows that just arrived."""
        if self.visible(conv):
            return
        fresh = [r for r in rows if not r.own and r.kind in (Kind.CHAT, Kind.ACTION)]
        if not fresh:
            return
        if not conv.unread and conv.messages.marker is None:
            conv.messages.set_marker(fresh[0])
        conv.unread += len(fresh)
        if conv.kind is ConvKind.DIRECT or any(r.mention for r in fresh):
            conv.mention = True
        self.convs.changed(conv)

    def _row(self, msg: Message | Private) -> Row:
        own = self.me is not None and nick_key(msg.from_) == nick_key(self.me)
        return row_from_message(msg, self.me, mention=not own and mentions(msg.text, self.me))

    # ---- input ----------------------------------------------------------------

    def submit(self, line: str) -> None:
        """Run one line typed in the input (a message or a slash command)."""
        try:
            parsed = commands.parse(line)
        except CommandError as exc:
            self.error(str(exc))
            return
        if parsed is None:
            return
        if isinstance(parsed, Text):
            self.send_text(parsed.text)
        else:
            self.run_command(parsed)

    def send_text(self, text: str, conv: Conversation | None = None) -> None:
        conv = conv or self.current
        if conv is None:
            self.error("Join a room first (/join lobby) or open a direct chat (/query nick).")
            return
        if not self.session.connected:
            self.error("Not connected — nothing was sent; try again once reconnected.", conv)
            return
        if conv.kind is ConvKind.ROOM and not conv.joined:
            self.error(f"You are not in #{conv.name} — /join {conv.name} to rejoin.", conv)
            return
        self.spawn(self._send(conv, text), conv)

    async def _send(self, conv: Conversation, text: str) -> None:
        if conv.kind is ConvKind.ROOM:
            ok = await self.session.call(Say(room=conv.name, text=text), SentOk)
            msg: Message | Private = Message(
                room=conv.name, from_=self.me or "", text=text, ts=ok.ts, msg_id=ok.msg_id
            )
        else:
            ok = await self.session.call(Msg(to=conv.name, text=text), SentOk)
            msg = Private(from_=self.me or "", to=conv.name, text=text, ts=ok.ts, msg_id=ok.msg_id)
        conv.messages.append(self._row(msg))

    def run_command(self, cmd: Command) -> None:
        handler = getattr(self, f"_cmd_{cmd.name}", None)
        if handler is None and cmd.name in room_admin.ADMIN_COMMANDS:
            self._room_admin(cmd)
            return
        if handler is None:
            self.error(f"/{cmd.name} is not available here.")
            return
        handler(*cmd.args)

    def _cmd_join(self, room: str, key: str | None = None) -> None:
        try:
            name = normalize_room(room.lstrip("#"))
        except RequestError as exc:
            self.error(exc.message)
            return
        existing = self.convs.get(ConvKind.ROOM, name)
        if existing is not None and existing.joined:
            self.set_current(existing)
            return
        if key is not None:
            self.room_keys[name] = key
        self.spawn(self.join(name, select=True))

    def _cmd_part(self, room: str | None = None, reason: str | None = None) -> None:
        conv = self.current
        if room is not None:
            conv = self.convs.get(ConvKind.ROOM, room.lstrip("#").casefold())
            if conv is None:
                self.error(f"You are not in #{room.lstrip('#')}.")
                return
        if conv is None or conv.kind is not ConvKind.ROOM:
            self.error("/part leaves a room; use /close for a direct chat.")
            return
        self.spawn(self._part(conv.name, reason), conv)

    def _cmd_msg(self, nick: str, text: str) -> None:
        conv = self.convs.get(ConvKind.DIRECT, nick)
        if conv is not None:
            self.send_text(text, conv)
            return
        # no conversation yet: open one only once the server accepted the message
        try:
            nick = normalize_nick(nick)
        except RequestError as exc:
            self.error(exc.message)
            return
        self.spawn(self._first_direct(nick, text), self.current)

    async def _first_direct(self, nick: str, text: str) -> None:
        ok = await self.session.call(Msg(to=nick, text=text), SentOk)
        conv = self.open_direct(nick, select=False)
        if conv is not None:
            msg = Private(from_=self.me or "", to=nick, text=text, ts=ok.ts, msg_id=ok.msg_id)
            conv.messages.append(self._row(msg))
            self.info(f"→ sent to {nick}: {text}", kind=Kind.SYSTEM)

    def _cmd_query(self, nick: str) -> None:
        self.open_direct(nick)

    def _cmd_nick(self, nick: str) -> None:
        self.spawn(self._nick(nick))

    def _cmd_topic(self, text: str | None = None) -> None:
        conv = self.current
        if conv is None or conv.kind is not ConvKind.ROOM:
            self.error("/topic works in a room.")
            return
        if text is None:
            self.info(f"Topic of #{conv.name}: {conv.topic or '(none)'}", conv)
            return
        self.spawn(self._topic(conv, text), conv)

    def _cmd_me(self, action: str) -> None:
        self.send_text(ACTION_PREFIX + action)

    def _cmd_rooms(self) -> None:
        self.roomBrowserRequested.emit()

    def _cmd_close(self) -> None:
        self.close_conversation()

    def _cmd_quit(self, reason: str | None = None) -> None:
        async def bye() -> None:
            await self.session.stop(reason)
            self.quitRequested.emit()

        self.spawn(bye())

    def _cmd_help(self, name: str | None = None) -> None:
        try:
            lines = commands.help_lines(name)
        except CommandError as exc:
            self.error(str(exc))
            return
        for line in lines:
            self.info(line)

    # ---- requests -------------------------------------------------------------

    async def join(self, name: str, *, select: bool = False) -> Conversation:
        ok = await self.session.call(Join(room=name, key=self.room_keys.get(name)), JoinOk)
        conv = self.convs.ensure(ConvKind.ROOM, ok.room)
        await self._apply_join(conv, ok)
        if select or self.current is None:
            self.set_current(conv)
        return conv

    async def _apply_join(self, conv: Conversation, ok: JoinOk) -> None:
        conv.joined = True
        conv.ops = {nick_key(n) for n in ok.ops or ()}
        conv.voiced = {nick_key(n) for n in ok.voiced or ()}
        conv.topic = ok.topic
        conv.set_members(ok.members)
        newest = conv.messages.newest_id
        rows = [self._row(m) for m in ok.history]
        if newest is not None and ok.history and _after(ok.history[0].msg_id, newest):
            # we were away longer than the replay covers: page forward from what we have
            rows = await self._fetch_after(conv, newest) + rows
        added = [r for r in rows if not conv.messages.has(r.msg_id or "")]
        conv.messages.merge(rows)
        if newest is not None:
            self._count(conv, added)
        self.conversationUpdated.emit(conv)

    async def _fetch_after(self, conv: Conversation, after: str) -> list[Row]:
        rows: list[Row] = []
        while True:
            if conv.kind is ConvKind.ROOM:
                req = History(room=conv.name, after=after, limit=MAX_HISTORY_PAGE)
            else:
                req = History(with_=conv.name, after=after, limit=MAX_HISTORY_PAGE)
            page = (await self.session.call(req, HistoryOk)).messages
            rows += [self._row(m) for m in page]
            if len(page) < MAX_HISTORY_PAGE:
                return rows
            after = page[-1].msg_id

    async def load_older(self, conv: Conversation) -> int:
        """Fetch the page of history before the oldest line we have."""
        if conv.loading_older or conv.history_done:
            return 0
        conv.loading_older = True
        try:
            before = conv.messages.oldest_id
            limit = OLDER_PAGE if before is not None else DEFAULT_HISTORY_PAGE
            if conv.kind is ConvKind.ROOM:
                req = History(room=conv.name, before=before, limit=limit)
            else:
                req = History(with_=conv.name, before=before, limit=limit)
            try:
                page = (await self.session.call(req, HistoryOk)).messages
            except RequestFailed as exc:
                if exc.code in ("no_such_room", "no_such_nick", "bad_nick"):
                    conv.history_done = True
                    return 0
                raise
            if len(page) < limit:
                conv.history_done = True
            return conv.messages.prepend([self._row(m) for m in page])
        finally:
            conv.loading_older = False

    async def _part(self, name: str, reason: str | None) -> None:
        conv = self.convs.get(ConvKind.ROOM, name)
        try:
            await self.session.call(Part(room=name, reason=reason), Ok)
        except RequestFailed as exc:
            if exc.code != "not_in_room":
                raise
        if conv is not None:
            conv.joined = False
            self._drop(conv)
        self.autojoin = [r for r in self.autojoin if r != name]

    async def _nick(self, nick: str) -> None:
        ok = await self.session.call(Nick(nick=nick), NickOk)
        old, self.me = self.me, ok.nick
        self.session.nick = ok.nick
        if self.session.target is not None:
            self.session.target = dataclasses.replace(self.session.target, nick=ok.nick)
        for conv in self.convs.rooms():
            if old is not None and conv.remove_member(old):
                conv.add_member(ok.nick)
                self.conversationUpdated.emit(conv)
        self.info(f"You are now known as {ok.nick}.", kind=Kind.SYSTEM)
        self.nickChanged.emit(ok.nick)

    async def _topic(self, conv: Conversation, text: str) -> None:
        await self.session.call(Topic(room=conv.name, topic=text), Ok)
        conv.topic = text.strip()
        self.info(f"You changed the topic to: {conv.topic}", conv, Kind.SYSTEM)
        self.conversationUpdated.emit(conv)

    async def list_rooms(self) -> list[RoomInfo]:
        return (await self.session.call(Rooms(), RoomsOk)).rooms

    # ---- connection life ------------------------------------------------------

    async def _on_ready(self, ok: HelloOk, reconnect: bool) -> None:
        """After every hello: (re)join rooms, catch up on direct chats."""
        if ok.nick != self.me:
            self.me = ok.nick
            self.nickChanged.emit(ok.nick)
        if reconnect:
            names = [c.name for c in self.convs.rooms()]
            self.info("Reconnected.", kind=Kind.SYSTEM)
        else:
            names = [c.name for c in self.convs.rooms()] or self.autojoin
        if ok.motd and not reconnect:
            self.info(ok.motd)
        for name in names:
            try:
                await self.join(name)
            except RequestFailed as exc:
                self.error(f"Could not join #{name}: {exc.message}")
        for conv in self.convs.directs():
            newest = conv.messages.newest_id
            if newest is not None:
                rows = await self._fetch_after(conv, newest)
                added = [r for r in rows if not conv.messages.has(r.msg_id or "")]
                conv.messages.merge(rows)
                self._count(conv, added)

    def _on_lost(self, reason: str) -> None:
        for conv in self.convs.rooms():
            conv.joined = False
        for conv in self.convs.conversations():
            self.info(f"Disconnected: {reason}. Reconnecting…", conv, Kind.ERROR)

    # ---- server events --------------------------------------------------------

    def _on_event(self, event: ClientEvent) -> None:
        if isinstance(event, Message):
            self._on_message(event)
        elif isinstance(event, Private):
            self._on_private(event)
        elif isinstance(event, Joined):
            conv = self.convs.get(ConvKind.ROOM, event.room)
            if conv is not None:
                conv.add_member(event.nick)
                self.info(f"→ {event.nick} joined #{conv.name}", conv, Kind.SYSTEM)
                self.conversationUpdated.emit(conv)
        elif isinstance(event, Left):
            self._on_left(event)
        elif isinstance(event, TopicChanged):
            conv = self.convs.get(ConvKind.ROOM, event.room)
            if conv is not None:
                conv.topic = event.topic
                said = "cleared the topic"
                if event.topic:
                    said = f"changed the topic to: {event.topic}"
                self.info(f"{event.by} {said}", conv, Kind.SYSTEM)
                self.conversationUpdated.emit(conv)
        elif isinstance(event, NickChanged):
            self._on_nick(event)
        elif isinstance(event, Notice):
            if event.code == "shutdown":
                text = "The server is restarting or shutting down; Chinwag will reconnect."
            else:
                text = f"Server notice: {event.text}"
            for conv in self.convs.conversations() or [None]:  # type: ignore[list-item]
                self.info(text, conv)
        elif isinstance(event, Kicked | MemberChanged | ModeChanged | Invited):
            self._on_room_admin(event)
        elif isinstance(event, ServerError):
            self.error(f"Server error ({event.code}): {event.message}")

    def _on_message(self, event: Message) -> None:
        conv = self.convs.get(ConvKind.ROOM, event.room)
        if conv is None:
            return
        row = self._row(event)
        if conv.messages.append(row):
            self._count(conv, [row])
            if row.mention and not self.window_active():
                self.notify.emit(f"{row.nick} in #{conv.name}", _preview(row))

    def _on_private(self, event: Private) -> None:
        mine = self.me is not None and nick_key(event.from_) == nick_key(self.me)
        peer = event.to if mine else event.from_
        conv = self.open_direct(peer, select=False)
        if conv is None:
            return
        row = self._row(event)
        if conv.messages.append(row):
            self._count(conv, [row])
            if not mine and not self.window_active():
                self.notify.emit(f"{row.nick} (direct message)", _preview(row))

    def _on_left(self, event: Left) -> None:
        conv = self.convs.get(ConvKind.ROOM, event.room)
        if conv is None:
            return
        if self.me is not None and nick_key(event.nick) == nick_key(self.me):
            conv.joined = False
            self.info(f"You left #{conv.name}", conv, Kind.SYSTEM)
            return
        conv.remove_member(event.nick)
        why = f" ({event.reason})" if event.reason else ""
        self.info(f"← {event.nick} left #{conv.name}{why}", conv, Kind.SYSTEM)
        self.conversationUpdated.emit(conv)

    def _on_nick(self, event: NickChanged) -> None:
        for conv in self.convs.rooms():
            if conv.remove_member(event.old):
                conv.add_member(event.new)
                self.info(f"{event.old} is now known as {event.new}", conv, Kind.SYSTEM)
                self.conversationUpdated.emit(conv)
        direct = self.convs.get(ConvKind.DIRECT, event.old)
        if direct is not None and self.convs.get(ConvKind.DIRECT, event.new) is None:
            self.convs.rekey(direct, event.new)
            self.info(f"{event.old} is now known as {event.new}", direct, Kind.SYSTEM)
            self.conversationUpdated.emit(direct)

    # ---- accounts and room operators -----------------------------------------

    def _room_admin(self, cmd: Command) -> None:
        conv = self.current
        room = conv.name if conv is not None and conv.kind is ConvKind.ROOM else None
        try:
            req = room_admin.build(cmd.name, list(cmd.args), room)
        except room_admin.AdminCommandError as exc:
            self.error(str(exc), conv)
            return

        async def run() -> None:
            reply = await self.session.call(req, room_admin.reply_type(req))
            self.info(room_admin.describe(req, reply), conv, Kind.SYSTEM)
            # the others get a "kicked" event; the actor only this reply
            gone = req.nick if isinstance(req, Kick | Ban) else None
            if gone is not None and conv is not None and conv.remove_member(gone):
                self.conversationUpdated.emit(conv)
            if conv is not None and isinstance(req, Op | Deop | Voice | Devoice):
                self._mark(conv, req.nick, str(type(req).__struct_config__.tag))

        self.spawn(run(), conv)

    def _on_room_admin(self, event: Kicked | MemberChanged | ModeChanged | Invited) -> None:
        conv = self.convs.get(ConvKind.ROOM, event.room)
        text = room_admin.event_text(event, self.me)
        if isinstance(event, MemberChanged) and conv is not None:
            self._mark(conv, event.nick, event.action)
        if isinstance(event, Kicked) and conv is not None:
            if self.me is not None and nick_key(event.nick) == nick_key(self.me):
                conv.joined = False
            else:
                conv.remove_member(event.nick)
            self.conversationUpdated.emit(conv)
        self.info(text, conv if conv is not None else self.current, Kind.SYSTEM)

    def _mark(self, conv: Conversation, nick: str, action: str) -> None:
        """Follow an op/deop/voice/devoice/ban of ``nick`` in the member list."""
        key = nick_key(nick)
        if action == "op":
            conv.ops.add(key)
        elif action == "voice":
            conv.voiced.add(key)
        elif action in ("deop", "ban"):
            conv.ops.discard(key)
            if action == "ban":
                conv.voiced.discard(key)
        elif action == "devoice":
            conv.voiced.discard(key)
        else:
            return
        self.conversationUpdated.emit(conv)


def _after(msg_id: str, other: str) -> bool:
    return (len(msg_id), msg_id) > (len(other), other)


def _preview(row: Row, limit: int = 140) -> str:
    text = f"* {row.nick} {row.text}" if row.kind is Kind.ACTION else row.text
    return text if len(text) <= limit else text[: limit - 1] + "…"
