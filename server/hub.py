"""The chat itself: who is connected, which rooms exist, and every request handler.

The hub is plain synchronous code driven by :class:`~server.session.Session`;
the only waiting it does is for history writes to become durable, which it
does with callbacks from :class:`~server.storage.HistoryStore` rather than
tasks, so the request path creates no task at all.

Event rules: an action's result goes to the actor as the reply; the event
describing it (``joined``, ``left``, ``topic``, ``nick``, ``message``) goes to
the *other* people who share the room.  ``private`` goes to the recipient's
sessions and the sender's other sessions.

One nick may have several sessions when it is an account (each signed in
with the password): a room lists the nick once, ``joined`` goes out when its
first session joins and ``left`` when its last one leaves, and what one
session says reaches its other sessions in the room like anyone else's.
Accounts and room permissions live in :mod:`server.login`,
:mod:`server.moderation` and :mod:`server.permissions`.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
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
from server.accounts import AccountStore, LoginThrottle, PasswordHashing
from server.config import Settings
from server.identity import account_ident, guest_ident
from server.login import Login
from server.moderation import Moderation
from server.permissions import Permissions, grant_subject, subjects_of
from server.rooms import Fanout, Room
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
        self.fanout = Fanout(loop, settings.fanout_window, settings.fanout_window_per_member)
        #: every open connection, registered or not
        self.sessions: set[Session] = set()
        #: registered sessions by case-folded nick (several only for an account)
        self.nicks: dict[str, list[Session]] = {}
        self.accounts = AccountStore(store)
        self.hashing = PasswordHashing(settings, loop)
        self.throttle = LoginThrottle()
        self.perms = Permissions(store)
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
        self.login = Login(self)
        self._handlers.update(self.login.handlers())
        self.moderation = Moderation(self)
        self._handlers.update(self.moderation.handlers())
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
            self._unlist(session)
            if not self.shutting_down:
                log.info("%s left (%s)", session.nick, reason)
            left_reason = clean_reason(reason)
            for room in list(session.rooms.values()):
                self.remove_member(room, session, left_reason, announce=not self.shutting_down)
            session.rooms.clear()

    def _unlist(self, session: Session) -> None:
        held = self.nicks.get(session.key)
        if held is not None and session in held:
            held.remove(session)
            if not held:
                del self.nicks[session.key]

    def sessions_of(self, key: str) -> list[Session]:
        return self.nicks.get(key, [])

    def remove_member(
        self, room: Room, session: Session, reason: str | None, *, announce: bool = True
    ) -> None:
        """Take one session out of a room; ``left`` only when it was the nick's last there."""
        room.members.discard(session)
        session.rooms.pop(room.name, None)
        # only an account can have another session still in the room
        if announce and not (session.is_account and self.user_in_room(room, session.key)):
            room.broadcast(encode(Left(room=room.name, nick=session.nick, reason=reason)))
        self._maybe_drop(room)

    @staticmethod
    def user_in_room(room: Room, key: str) -> bool:
        return any(m.key == key for m in room.members)

    @staticmethod
    def distinct_members(room: Room) -> int:
        return len({m.key for m in room.members})

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
            fanout=self.fanout,
        )
        if recent:
            room.last_msg_id = parse_msg_id(recent[-1].msg_id)
        self.rooms[name] = room
        return room

    def _maybe_drop(self, room: Room) -> None:
        """Forget an empty, non-default room once its messages are all on disk."""
        if not room.members:
            self.perms.release(room.name, lambda: self._room_empty(room.name))
        if not room.members and not room.persistent:
            # writes may still be queued: keep the replay cache until they land
            self.store.after_durable(lambda ok: self._drop_if_idle(room))

    def _room_empty(self, name: str) -> bool:
        """Nobody is in the room called ``name`` (in whichever Room object holds it now)."""
        current = self.rooms.get(name)
        return current is None or not current.members

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
        if req.password is not None:
            self.login.hello_with_password(session, req, key)
            return
        if self.settings.require_account:
            raise RequestError(
                ErrorCode.ACCOUNT_REQUIRED,
                "this server admits registered accounts only: send hello with your password",
            )
        if self.accounts.get(key) is not None:
            raise RequestError(
                ErrorCode.NICK_RESERVED,
                f"the nick {nick} is a registered account: send hello with its password",
            )
        if key in self.nicks:
            raise RequestError(ErrorCode.NICK_TAKEN, f"the nick {nick} is taken")
        self.admit(session, req.id, nick, key, guest_ident())

    def admit(
        self,
        session: Session,
        request_id: int | str | None,
        nick: str,
        key: str,
        ident: str,
        *,
        account: str | None = None,
        offline: int | None = None,
    ) -> None:
        """Register a session under ``nick`` and send its hello reply."""
        session.nick = nick
        session.key = key
        session.ident = ident
        session.proto.registered = True
        self.nicks.setdefault(key, []).append(session)
        log.info("%s connected from %s%s", nick, session.peer, " (account)" if account else "")
        session.send_reply(
            HelloOk(
                id=request_id,
                nick=nick,
                server=self.settings.server_name,
                protocol=PROTOCOL_VERSION,
                motd=self.settings.motd or None,
                account=account,
                offline=offline,
            )
        )

    def _join(self, session: Session, req: Join) -> None:
        name = normalize_room(req.room)
        if name not in session.rooms:
            self._admit_to_room(session, name, req.key)
        room = session.rooms[name]
        policy = self.perms.get(name)
        session.send_reply(
            JoinOk(
                id=req.id,
                room=name,
                topic=room.topic,
                members=room.member_nicks(),
                history=list(room.recent),
                modes=policy.modes(),
                ops=self.members_with(room, "op"),
                voiced=self.members_with(room, "voice"),
            )
        )

    def _admit_to_room(self, session: Session, name: str, key: str | None) -> None:
        """Check every rule for entering ``name`` and add the session to it."""
        if len(session.rooms) >= self.settings.max_rooms_per_user:
            raise RequestError(
                ErrorCode.TOO_MANY_ROOMS,
                f"you are in {len(session.rooms)} rooms, the most allowed "
                f"(max_rooms_per_user); part one first",
            )
        room = self._room(name, create=True)
        assert room is not None
        policy = self.perms.get(name)
        # another session of this account already inside?
        present = session.is_account and self.user_in_room(room, session.key)
        creator = False
        if not present:
            if not room.members and not policy.owned and not room.persistent:
                self.perms.reset(policy)  # an unowned room starts afresh with its creator
                creator = True
            else:
                try:
                    self._check_entry(session, room, key)
                except RequestError:
                    self._maybe_drop(room)
                    raise
            room.broadcast(encode(Joined(room=name, nick=session.nick)))
        room.members.add(session)
        session.rooms[name] = room
        if creator or (room.persistent and self._default_room_op(session)):
            self.perms.grant(policy, "op", (grant_subject(session),))

    def _default_room_op(self, session: Session) -> bool:
        """Default rooms belong to the server: only the accounts named in the
        ``default_room_ops`` setting are their operators (so the first guest
        into ``lobby`` cannot lock everyone else out of it)."""
        if not session.is_account:
            return False
        return session.key in {nick_key(n) for n in self.settings.default_room_ops}

    def _check_entry(self, session: Session, room: Room, key: str | None) -> None:
        policy = self.perms.get(room.name)
        if policy.has("ban", session):
            raise RequestError(ErrorCode.BANNED, f"you are banned from {room.name}")
        allowed = policy.is_op(session) or policy.has("invite", session)
        if policy.invite_only and not allowed:
            raise RequestError(
                ErrorCode.INVITE_ONLY, f"{room.name} is invite-only: ask an operator to invite you"
            )
        if policy.key is not None and not allowed and not _same_key(key, policy.key):
            raise RequestError(ErrorCode.BAD_KEY, f"{room.name} needs the right key")
        limit = self.settings.max_members_per_room
        if len(room.members) >= limit and self.distinct_members(room) >= limit:
            raise RequestError(
                ErrorCode.ROOM_FULL,
                f"{room.name} is full ({self.settings.max_members_per_room} members)",
            )

    def members_with(self, room: Room, kind: str) -> list[str]:
        """Nicks of the members holding right ``kind`` (each once, sorted)."""
        acl = self.perms.get(room.name).acl[kind]
        if not acl:
            return []
        nicks = {m.nick for m in room.members if not acl.isdisjoint(subjects_of(m))}
        return sorted(nicks, key=str.casefold)

    def _part(self, session: Session, req: Part) -> None:
        room = self._member_room(session, req.room)
        self.remove_member(room, session, clean_reason(req.reason))
        session.send_reply(Ok(id=req.id))

    def _say(self, session: Session, req: Say) -> None:
        room = self._member_room(session, req.room)
        text = clean_text(req.text, self.settings.max_text)
        policy = self.perms.get(room.name)
        if policy.acl["mute"] and policy.has("mute", session):
            raise RequestError(ErrorCode.MUTED, f"you are muted in {room.name}")
        if not policy.may_speak(session):
            raise RequestError(
                ErrorCode.MODERATED, f"{room.name} is moderated: only voiced members may speak"
            )
        store = self.store
        n, ts_ms, msg_id, ts = self._stamp()
        msg = Message(room=room.name, from_=session.nick, text=text, ts=ts, msg_id=msg_id)
        room.recent.append(msg)
        room.last_msg_id = n
        self.stats.deliveries_out += room.broadcast(encode(msg), exclude=session)
        store.append_room(
            n,
            room.name,
            session.nick,
            text,
            ts_ms,
            self._acker(session, req.id, msg_id, ts, room, msg),
        )

    def _stamp(self) -> tuple[int, int, str, str]:
        """A new message's number, time in ms, msg_id and ts; refused while shutting down."""
        if self.shutting_down:
            raise RequestError(ErrorCode.SHUTTING_DOWN, "the server is shutting down")
        n = self.store.next_id()
        ts_ms = now_ms()
        return n, ts_ms, format_msg_id(n), format_ts(ts_ms)

    def _acker(
        self,
        session: Session,
        request_id: int | str | None,
        msg_id: str,
        ts: str,
        room: Room | None = None,
        msg: Message | None = None,
    ) -> Callable[[bool], None] | None:
        """The callback run once the history write lands (or fails): the ``ok``
        (or ``storage_failed``) reply; a failed room message also leaves the
        room's join replay."""
        if request_id is None and room is None:
            return None

        def done(ok: bool) -> None:
            if not ok and room is not None and msg is not None:
                _forget(room, msg)
            if request_id is None:
                return
            if ok:
                session.send_reply(SentOk(id=request_id, msg_id=msg_id, ts=ts))
            else:
                session.send_error(
                    request_id, ErrorCode.STORAGE_FAILED, "the message could not be stored"
                )

        return done

    def _msg(self, session: Session, req: Msg) -> None:
        to = normalize_nick(req.to)
        target_key = nick_key(to)
        targets = self.nicks.get(target_key)
        offline_account = None
        if targets:
            target_nick, target_ident = targets[0].nick, targets[0].ident
        else:
            offline_account = self.accounts.get(target_key)
            if offline_account is None:
                raise RequestError(ErrorCode.NO_SUCH_NICK, f"nobody is called {to}")
            target_nick, target_ident = offline_account.nick, account_ident(target_key)
        text = clean_text(req.text, self.settings.max_text)
        store = self.store
        n, ts_ms, msg_id, ts = self._stamp()
        event = Private(from_=session.nick, to=target_nick, text=text, ts=ts, msg_id=msg_id)
        data = encode(event)
        # the recipient's sessions and the sender's other sessions (the same list
        # when writing to oneself)
        for peer in {*self.sessions_of(target_key), *self.sessions_of(session.key)}:
            if peer is not session:
                peer.send_raw(data)
                self.stats.deliveries_out += 1
        index = ((session.ident, target_key), (target_ident, session.key))
        store.append_dm(
            n,
            session.nick,
            target_nick,
            text,
            ts_ms,
            index,
            self._acker(session, req.id, msg_id, ts),
        )
        if offline_account is not None:
            self.accounts.queue_offline(offline_account.name, n)

    def _topic(self, session: Session, req: Topic) -> None:
        room = self._member_room(session, req.room)
        topic = clean_topic(req.topic)
        policy = self.perms.get(room.name)
        if policy.topic_lock and not policy.is_op(session):
            raise RequestError(
                ErrorCode.TOPIC_LOCKED, f"the topic of {room.name} is locked: operators only"
            )
        room.topic = topic
        room.topic_by = session.nick
        self.store.set_topic(room.name, topic, session.nick, now_ms())
        room.broadcast(
            encode(TopicChanged(room=room.name, topic=topic, by=session.nick)), exclude=session
        )
        session.send_reply(Ok(id=req.id))

    def _rooms(self, session: Session, req: Rooms) -> None:
        listed = [
            RoomInfo(name=r.name, topic=r.topic, members=self.distinct_members(r))
            for r in self.rooms.values()
            if (r.members or r.persistent) and self.may_see(session, r.name)
        ]
        listed.sort(key=lambda r: r.name)
        session.send_reply(RoomsOk(id=req.id, rooms=listed))

    def _who(self, session: Session, req: Who) -> None:
        name = normalize_room(req.room)
        room = self.rooms.get(name)
        if room is None or not (room.members or room.persistent):
            raise RequestError(ErrorCode.NO_SUCH_ROOM, f"there is no room {name}")
        self._check_private(session, name)
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
            self._check_private(session, name)

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

    def may_see(self, session: Session, name: str) -> bool:
        """Whether the session may see a room's topic, members and history."""
        return name in session.rooms or not self.perms.peek(name).secret

    def _check_private(self, session: Session, name: str) -> None:
        if not self.may_see(session, name):
            raise RequestError(
                ErrorCode.NOT_IN_ROOM, f"{name} is private: only its members can look inside"
            )

    def _nick(self, session: Session, req: Nick) -> None:
        new = normalize_nick(req.nick)
        key = nick_key(new)
        if session.is_account:
            if key != session.key:
                raise RequestError(
                    ErrorCode.NICK_LOCKED,
                    "you are signed in to an account: your nick is the account's name",
                )
            session.send_reply(NickOk(id=req.id, nick=session.nick))
            return
        if key != session.key and self.accounts.get(key) is not None:
            raise RequestError(ErrorCode.NICK_RESERVED, f"the nick {new} is a registered account")
        holder = self.nicks.get(key)
        if holder is not None and session not in holder:
            raise RequestError(ErrorCode.NICK_TAKEN, f"the nick {new} is taken")
        old = session.nick
        if new != old:
            self._unlist(session)
            session.nick = new
            session.key = key
            self.nicks[key] = [session]
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


def _same_key(given: str | None, key: str) -> bool:
    """Compare a room key in constant time (no timing hints for guessing it)."""
    return given is not None and hmac.compare_digest(given.encode(), key.encode())


def _forget(room: Room, msg: Message) -> None:
    """A message that could not be stored must not be replayed to later joiners."""
    with contextlib.suppress(ValueError):
        room.recent.remove(msg)
