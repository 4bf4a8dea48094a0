"""The chat itself: who is connected, which rooms exist, and every request handler.

The hub is plain synchronous code driven by :class:`~server.session.Session`;
the only waiting it does is for history writes to become durable, which it
does with callbacks from :class:`~server.storage.HistoryStore` rather than
tasks, so the request path creates no task at all.

Event rules: an action's result goes to the actor as the reply; the event
describing it (``joined``, ``left``, ``topic``, ``nick``, ``message``) goes to
the *other* people who share the room.  ``private`` goes to the recipient's
sessions and the sender's other sessions.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Callable
from typing import Any

from chinwag_protocol.codec import encode
from chinwag_protocol.constants import DEFAULT_HISTORY_PAGE, MAX_HISTORY_PAGE, PROTOCOL_VERSION
from chinwag_protocol.errors import ErrorCode, RequestError
from chinwag_protocol.messages import (
    ClientRequest,
    Hello,
    HelloOk,
    History,
    HistoryOk,
    Join,
    Joined,
    JoinOk,
    Left,
    Message,
    Msg,
    Nick,
    NickChanged,
    NickOk,
    Ok,
    Part,
    Ping,
    Pong,
    Private,
    Quit,
    RoomInfo,
    Rooms,
    RoomsOk,
    Say,
    SentOk,
    Topic,
    TopicChanged,
    Who,
    WhoOk,
)
from chinwag_protocol.timefmt import format_msg_id, format_ts, now_ms, parse_msg_id
from chinwag_protocol.validation import (
    clean_reason,
    clean_text,
    clean_topic,
    nick_key,
    normalize_nick,
    normalize_room,
)
from server.config import Settings
from server.rooms import Room
from server.session import Session
from server.stats import Stats
from server.storage import HistoryStore

log = logging.getLogger(__name__)

Handler = Callable[[Session, Any], None]


class Hub:
    def __init__(
        self, settings: Settings, store: HistoryStore, loop: asyncio.AbstractEventLoop
    ) -> None:
        self.settings = settings
        self.store = store
        self.loop = loop
        self.stats = Stats()
        #: every open connection, registered or not
        self.sessions: set[Session] = set()
        #: registered sessions by case-folded nick
        self.nicks: dict[str, Session] = {}
        self.rooms: dict[str, Room] = {}
        self.shutting_down = False
        self._all_gone = asyncio.Event()
        self._all_gone.set()
        self._handlers: dict[type, Handler] = {
            Hello: self._hello,
            Join: self._join,
            Part: self._part,
            Say: self._say,
            Msg: self._msg,
            Topic: self._topic,
            Rooms: self._rooms,
            Who: self._who,
            History: self._history,
            Nick: self._nick,
            Ping: self._ping,
            Pong: self._pong,
            Quit: self._quit,
        }
        for name in settings.default_rooms:
            self._room(name, create=True)

    # ---- connection bookkeeping -------------------------------------------

    def attach(self, session: Session) -> None:
        self.sessions.add(session)
        self._all_gone.clear()
        self.stats.connections_total += 1
        if self.shutting_down:
            session.close("server shutting down")

    def forget(self, session: Session) -> None:
        self.sessions.discard(session)
        if not self.sessions:
            self._all_gone.set()

    async def wait_all_gone(self) -> None:
        await self._all_gone.wait()

    def metrics_disconnect(self, reason: str) -> None:
        self.stats.disconnects[reason] += 1

    def detach(self, session: Session, reason: str) -> None:
        """A session is going away: leave its rooms, free its nick."""
        if session.registered:
            if self.nicks.get(session.key) is session:
                del self.nicks[session.key]
            if not self.shutting_down:
                log.info("%s left (%s)", session.nick, reason)
            left_reason = clean_reason(reason)
            for room in list(session.rooms.values()):
                room.members.discard(session)
                if not self.shutting_down:
                    room.broadcast(
                        encode(Left(room=room.name, nick=session.nick, reason=left_reason))
                    )
                self._maybe_drop(room)
            session.rooms.clear()

    # ---- dispatch ---------------------------------------------------------

    def handle(self, session: Session, req: ClientRequest) -> None:
        self.stats.messages_in += 1
        try:
            self._handlers[type(req)](session, req)
        except RequestError as exc:
            session.send_error(req.id, exc.code, exc.message)
        except Exception:
            log.exception("internal error handling %s from %r", type(req).__name__, session)
            session.send_error(req.id, ErrorCode.INTERNAL, "internal server error")

    # ---- rooms -------------------------------------------------------------

    def _room(self, name: str, *, create: bool) -> Room | None:
        room = self.rooms.get(name)
        if room is not None or not create:
            return room
        meta = self.store.room_meta(name)
        recent = self.store.room_page(name, limit=self.settings.history_replay)
        room = Room(
            name,
            topic=meta.topic if meta else "",
            topic_by=meta.topic_by if meta else "",
            recent=recent,
            replay=self.settings.history_replay,
            persistent=name in self.settings.default_rooms,
        )
        if recent:
            room.last_msg_id = parse_msg_id(recent[-1].msg_id)
        self.rooms[name] = room
        return room

    def _maybe_drop(self, room: Room) -> None:
        """Forget an empty, non-default room once its messages are all on disk."""
        if not room.members and not room.persistent:
            # writes may still be queued: keep the replay cache until they land
            self.store.after_durable(lambda ok: self._drop_if_idle(room))

    def _drop_if_idle(self, room: Room) -> None:
        if not room.members and not room.persistent and self.rooms.get(room.name) is room:
            del self.rooms[room.name]

    def _member_room(self, session: Session, raw_name: str) -> Room:
        name = normalize_room(raw_name)
        room = session.rooms.get(name)
        if room is None:
            raise RequestError(ErrorCode.NOT_IN_ROOM, f"you are not in {name}")
        return room

    # ---- handlers --------------------------------------------------------------

    def _hello(self, session: Session, req: Hello) -> None:
        if session.registered:
            raise RequestError(ErrorCode.ALREADY_REGISTERED, "you already said hello")
        if req.protocol != PROTOCOL_VERSION:
            raise RequestError(
                ErrorCode.UNSUPPORTED_PROTOCOL,
                f"this server speaks protocol {PROTOCOL_VERSION}, not {req.protocol}",
            )
        if self.shutting_down:
            raise RequestError(ErrorCode.SHUTTING_DOWN, "the server is shutting down")
        nick = normalize_nick(req.nick)
        key = nick_key(nick)
        if key in self.nicks:
            raise RequestError(ErrorCode.NICK_TAKEN, f"the nick {nick} is taken")
        session.nick = nick
        session.key = key
        session.ident = "g:" + secrets.token_hex(8)
        session.proto.registered = True
        self.nicks[key] = session
        log.info("%s connected from %s", nick, session.peer)
        session.send_reply(
            HelloOk(
                id=req.id,
                nick=nick,
                server=self.settings.server_name,
                protocol=PROTOCOL_VERSION,
                motd=self.settings.motd or None,
            )
        )

    def _join(self, session: Session, req: Join) -> None:
        name = normalize_room(req.room)
        room = self._room(name, create=True)
        assert room is not None
        if session not in room.members:
            room.broadcast(encode(Joined(room=name, nick=session.nick)))
            room.members.add(session)
            session.rooms[name] = room
        session.send_reply(
            JoinOk(
                id=req.id,
                room=name,
                topic=room.topic,
                members=room.member_nicks(),
                history=list(room.recent),
            )
        )

    def _part(self, session: Session, req: Part) -> None:
        room = self._member_room(session, req.room)
        room.members.discard(session)
        del session.rooms[room.name]
        room.broadcast(
            encode(Left(room=room.name, nick=session.nick, reason=clean_reason(req.reason)))
        )
        self._maybe_drop(room)
        session.send_reply(Ok(id=req.id))

    def _say(self, session: Session, req: Say) -> None:
        room = self._member_room(session, req.room)
        text = clean_text(req.text, self.settings.max_text)
        if self.shutting_down:
            raise RequestError(ErrorCode.SHUTTING_DOWN, "the server is shutting down")
        store = self.store
        n = store.next_id()
        ts_ms = now_ms()
        msg_id = format_msg_id(n)
        ts = format_ts(ts_ms)
        msg = Message(room=room.name, from_=session.nick, text=text, ts=ts, msg_id=msg_id)
        room.recent.append(msg)
        room.last_msg_id = n
        self.stats.deliveries_out += room.broadcast(encode(msg), exclude=session)
        store.append_room(
            n, room.name, session.nick, text, ts_ms, self._acker(session, req.id, msg_id, ts)
        )

    def _acker(
        self, session: Session, request_id: int | str | None, msg_id: str, ts: str
    ) -> Callable[[bool], None] | None:
        if request_id is None:
            return None

        def done(ok: bool) -> None:
            if ok:
                session.send_reply(SentOk(id=request_id, msg_id=msg_id, ts=ts))
            else:
                session.send_error(
                    request_id, ErrorCode.STORAGE_FAILED, "the message could not be stored"
                )

        return done

    def _msg(self, session: Session, req: Msg) -> None:
        to = normalize_nick(req.to)
        target = self.nicks.get(nick_key(to))
        if target is None:
            raise RequestError(ErrorCode.NO_SUCH_NICK, f"nobody is called {to}")
        text = clean_text(req.text, self.settings.max_text)
        if self.shutting_down:
            raise RequestError(ErrorCode.SHUTTING_DOWN, "the server is shutting down")
        store = self.store
        n = store.next_id()
        ts_ms = now_ms()
        msg_id = format_msg_id(n)
        ts = format_ts(ts_ms)
        event = Private(from_=session.nick, to=target.nick, text=text, ts=ts, msg_id=msg_id)
        if target is not session:
            target.send_raw(encode(event))
            self.stats.deliveries_out += 1
        index = ((session.ident, target.key), (target.ident, session.key))
        store.append_dm(
            n,
            session.nick,
            target.nick,
            text,
            ts_ms,
            index,
            self._acker(session, req.id, msg_id, ts),
        )

    def _topic(self, session: Session, req: Topic) -> None:
        room = self._member_room(session, req.room)
        topic = clean_topic(req.topic)
        room.topic = topic
        room.topic_by = session.nick
        self.store.set_topic(room.name, topic, session.nick, now_ms())
        room.broadcast(
            encode(TopicChanged(room=room.name, topic=topic, by=session.nick)), exclude=session
        )
        session.send_reply(Ok(id=req.id))

    def _rooms(self, session: Session, req: Rooms) -> None:
        listed = [
            RoomInfo(name=r.name, topic=r.topic, members=len(r.members))
            for r in self.rooms.values()
            if r.members or r.persistent
        ]
        listed.sort(key=lambda r: r.name)
        session.send_reply(RoomsOk(id=req.id, rooms=listed))

    def _who(self, session: Session, req: Who) -> None:
        name = normalize_room(req.room)
        room = self.rooms.get(name)
        if room is None or not (room.members or room.persistent):
            raise RequestError(ErrorCode.NO_SUCH_ROOM, f"there is no room {name}")
        session.send_reply(WhoOk(id=req.id, room=name, members=room.member_nicks()))

    def _history(self, session: Session, req: History) -> None:
        if (req.room is None) == (req.with_ is None):
            raise RequestError(
                ErrorCode.BAD_REQUEST, "history needs exactly one of 'room' or 'with'"
            )
        if req.before is not None and req.after is not None:
            raise RequestError(ErrorCode.BAD_REQUEST, "history takes 'before' or 'after', not both")
        limit = DEFAULT_HISTORY_PAGE if req.limit is None else req.limit
        if not 1 <= limit <= MAX_HISTORY_PAGE:
            raise RequestError(ErrorCode.BAD_REQUEST, f"limit must be 1 to {MAX_HISTORY_PAGE}")
        try:
            before = parse_msg_id(req.before) if req.before is not None else None
            after = parse_msg_id(req.after) if req.after is not None else None
        except ValueError:
            raise RequestError(ErrorCode.BAD_CURSOR, "before/after must be a msg_id") from None
        if req.room is not None:
            name = normalize_room(req.room)
            if name not in self.rooms and not self.store.room_exists(name):
                raise RequestError(ErrorCode.NO_SUCH_ROOM, f"there is no room {name}")

            def answer(ok: bool) -> None:
                msgs: list[Message | Private] = list(
                    self.store.room_page(name, before=before, after=after, limit=limit)
                )
                session.send_reply(HistoryOk(id=req.id, messages=msgs))

        else:
            assert req.with_ is not None
            peer = nick_key(normalize_nick(req.with_))
            owner = session.ident

            def answer(ok: bool) -> None:
                msgs: list[Message | Private] = list(
                    self.store.dm_page(owner, peer, before=before, after=after, limit=limit)
                )
                session.send_reply(HistoryOk(id=req.id, messages=msgs))

        # read only once everything already acknowledged or fanned out is on disk
        self.store.after_durable(answer)

    def _nick(self, session: Session, req: Nick) -> None:
        new = normalize_nick(req.nick)
        key = nick_key(new)
        holder = self.nicks.get(key)
        if holder is not None and holder is not session:
            raise RequestError(ErrorCode.NICK_TAKEN, f"the nick {new} is taken")
        old = session.nick
        if new != old:
            del self.nicks[session.key]
            session.nick = new
            session.key = key
            self.nicks[key] = session
            data = encode(NickChanged(old=old, new=new))
            seen: set[Session] = {session}
            for room in session.rooms.values():
                for member in room.members:
                    if member not in seen:
                        seen.add(member)
                        member.send_raw(data)
            log.info("%s is now %s", old, new)
        session.send_reply(NickOk(id=req.id, nick=new))

    def _ping(self, session: Session, req: Ping) -> None:
        session.send_reply(Ok(id=req.id))

    def _pong(self, session: Session, req: Pong) -> None:
        pass  # receiving anything already reset the idle clock

    def _quit(self, session: Session, req: Quit) -> None:
        session.send_reply(Ok(id=req.id))
        session.close(clean_reason(req.reason) or "quit")
