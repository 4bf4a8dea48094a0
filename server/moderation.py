"""Operator requests: ``mode``, ``invite``, ``kick``, ``ban``/``unban``,
``mute``/``unmute``, ``voice``/``devoice`` and ``op``/``deop``.

Every one needs the actor to be in the room; all but reading the modes need
the actor to be one of its operators.  The actor gets the reply; the room's
other members (the actor's other sessions included) get the event
(``mode``, ``member``, ``kicked``); an invitee gets ``invited``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar

from chinwag_protocol.codec import encode
from chinwag_protocol.errors import ErrorCode, RequestError
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
    Ok,
    Op,
    Unban,
    Unmute,
    Voice,
)
from chinwag_protocol.validation import clean_reason, nick_key, normalize_nick
from server.identity import account_ident
from server.permissions import RoomPolicy, nick_subject

if TYPE_CHECKING:
    from server.hub import Hub
    from server.rooms import Room
    from server.session import Session

MAX_KEY = 64


def check_key(key: str) -> str | None:
    """A new room key: ``""`` removes it; otherwise 1-64 visible characters, no spaces."""
    if key == "":
        return None
    if len(key) > MAX_KEY or not key.isprintable() or any(c.isspace() for c in key):
        raise RequestError(
            ErrorCode.BAD_REQUEST,
            f"a room key is 1 to {MAX_KEY} visible characters without spaces",
        )
    return key


class Moderation:
    def __init__(self, hub: Hub) -> None:
        self.hub = hub

    def handlers(self) -> dict[type, Callable[[Session, Any], None]]:
        return {
            Mode: self._mode,
            Invite: self._invite,
            Kick: self._kick,
            Ban: self._ban,
            Unban: self._unban,
            Op: self._member_right,
            Deop: self._member_right,
            Voice: self._member_right,
            Devoice: self._member_right,
            Mute: self._member_right,
            Unmute: self._member_right,
        }

    # ---- helpers -------------------------------------------------------------

    def _as_operator(self, session: Session, raw_room: str) -> tuple[Room, RoomPolicy]:
        room = self.hub._member_room(session, raw_room)
        policy = self.hub.perms.get(room.name)
        if not policy.is_op(session):
            raise RequestError(ErrorCode.NOT_OPERATOR, f"you are not an operator of {room.name}")
        return room, policy

    def _target(
        self, nick: str | None, account: str | None, *, grant: bool
    ) -> tuple[str, set[str]]:
        """Display name and subjects that a right for ``nick``/``account`` goes to.

        ``grant`` (op, voice, invite): only an online nick or an account - a
        right given to an absent guest nick would go to whoever takes it next.
        Otherwise (ban, mute) an absent guest nick is recorded as such."""
        hub = self.hub
        if (nick is None) == (account is None):
            raise RequestError(ErrorCode.BAD_REQUEST, "give exactly one of 'nick' or 'account'")
        if account is not None:
            key = nick_key(normalize_nick(account))
            found = hub.accounts.get(key)
            if found is None:
                raise RequestError(ErrorCode.NO_SUCH_ACCOUNT, f"no account is called {account}")
            return found.nick, {account_ident(key)}
        assert nick is not None
        name = normalize_nick(nick)
        key = nick_key(name)
        online = hub.sessions_of(key)
        if online:
            first = online[0]
            if first.is_account or grant:
                return first.nick, {first.ident}
            return first.nick, {first.ident, nick_subject(key)}
        found = hub.accounts.get(key)
        if found is not None:
            return found.nick, {account_ident(key)}
        if grant:
            raise RequestError(ErrorCode.NO_SUCH_NICK, f"nobody is called {name}")
        return name, {nick_subject(key)}

    def _all_subjects(self, nick: str | None, account: str | None) -> tuple[str, set[str]]:
        """Every subject a nick/account may be recorded under (for taking rights away)."""
        if (nick is None) == (account is None):
            raise RequestError(ErrorCode.BAD_REQUEST, "give exactly one of 'nick' or 'account'")
        raw = account if account is not None else nick
        assert raw is not None
        name = normalize_nick(raw)
        key = nick_key(name)
        subjects = {account_ident(key)}
        if account is None:
            subjects.add(nick_subject(key))
            subjects.update(s.ident for s in self.hub.sessions_of(key))
        online = self.hub.sessions_of(key)
        return (online[0].nick if online else name), subjects

    def _announce(self, room: Room, session: Session, data: bytes) -> None:
        room.broadcast(data, exclude=session)

    def _names(self, room: Room, subjects: set[str]) -> list[str]:
        """Subjects as people read them: account and guest nicks, online guests."""
        names: set[str] = set()
        for subject in subjects:
            kind, _, rest = subject.partition(":")
            if kind in ("a", "n"):
                online = self.hub.sessions_of(rest)
                names.add(online[0].nick if online else rest)
            else:
                names.update(m.nick for m in self.hub.sessions if m.ident == subject)
        return sorted(names, key=str.casefold)

    def _evict(
        self, room: Room, session: Session, target_key: str, nick: str, reason: str | None
    ) -> None:
        """Remove every session of ``target_key`` from the room, with a ``kicked`` event."""
        hub = self.hub
        data = encode(Kicked(room=room.name, nick=nick, by=session.nick, reason=reason))
        room.broadcast(data, exclude=session)
        for member in [m for m in room.members if m.key == target_key]:
            hub.remove_member(room, member, reason, announce=False)

    # ---- handlers ------------------------------------------------------------

    def _mode(self, session: Session, req: Mode) -> None:
        hub = self.hub
        room = hub._member_room(session, req.room)
        policy = hub.perms.get(room.name)
        changing = (req.topic_lock, req.invite_only, req.moderated, req.key) != (None,) * 4
        if changing:
            if not policy.is_op(session):
                raise RequestError(
                    ErrorCode.NOT_OPERATOR, f"you are not an operator of {room.name}"
                )
            key = check_key(req.key) if req.key is not None else policy.key
            if req.topic_lock is not None:
                policy.topic_lock = req.topic_lock
            if req.invite_only is not None:
                policy.invite_only = req.invite_only
            if req.moderated is not None:
                policy.moderated = req.moderated
            policy.key = key
            hub.perms.save_modes(policy)
            self._announce(
                room,
                session,
                encode(ModeChanged(room=room.name, by=session.nick, modes=policy.modes())),
            )
        is_op = policy.is_op(session)
        session.send_reply(
            ModeOk(
                id=req.id,
                room=room.name,
                modes=policy.modes(),
                ops=hub.members_with(room, "op"),
                voiced=hub.members_with(room, "voice"),
                key=policy.key if is_op else None,
                banned=self._names(room, policy.acl["ban"]) if is_op else None,
                muted=self._names(room, policy.acl["mute"]) if is_op else None,
            )
        )

    def _invite(self, session: Session, req: Invite) -> None:
        hub = self.hub
        room, policy = self._as_operator(session, req.room)
        nick, subjects = self._target(req.nick, None, grant=True)
        if policy.has_any("ban", subjects):
            raise RequestError(ErrorCode.BANNED, f"{nick} is banned from {room.name}: unban first")
        hub.perms.grant(policy, "invite", subjects)
        data = encode(Invited(room=room.name, by=session.nick))
        for target in hub.sessions_of(nick_key(nick)):
            target.send_raw(data)
        session.send_reply(Ok(id=req.id))

    def _kick(self, session: Session, req: Kick) -> None:
        hub = self.hub
        room, policy = self._as_operator(session, req.room)
        key = nick_key(normalize_nick(req.nick))
        present = [m for m in room.members if m.key == key]
        if not present:
            raise RequestError(ErrorCode.NOT_IN_ROOM, f"{req.nick} is not in {room.name}")
        nick = present[0].nick
        _, subjects = self._all_subjects(nick, None)
        hub.perms.revoke(policy, "invite", subjects)  # must be invited again
        self._evict(room, session, key, nick, clean_reason(req.reason))
        session.send_reply(Ok(id=req.id))

    def _ban(self, session: Session, req: Ban) -> None:
        hub = self.hub
        room, policy = self._as_operator(session, req.room)
        nick, subjects = self._target(req.nick, req.account, grant=False)
        key = nick_key(nick)
        if key == session.key:
            raise RequestError(ErrorCode.BAD_REQUEST, "you cannot ban yourself")
        hub.perms.grant(policy, "ban", subjects)
        _, every = self._all_subjects(nick, None)
        for kind in ("op", "voice", "invite"):
            hub.perms.revoke(policy, kind, every)
        self._announce(
            room,
            session,
            encode(MemberChanged(room=room.name, nick=nick, by=session.nick, action="ban")),
        )
        if hub.user_in_room(room, key):
            self._evict(room, session, key, nick, "banned")
        session.send_reply(Ok(id=req.id))

    def _unban(self, session: Session, req: Unban) -> None:
        hub = self.hub
        room, policy = self._as_operator(session, req.room)
        nick, subjects = self._all_subjects(req.nick, req.account)
        if hub.perms.revoke(policy, "ban", subjects):
            self._announce(
                room,
                session,
                encode(MemberChanged(room=room.name, nick=nick, by=session.nick, action="unban")),
            )
        session.send_reply(Ok(id=req.id))

    _RIGHTS: ClassVar[dict[type, tuple[str, bool]]] = {
        Op: ("op", True),
        Deop: ("op", False),
        Voice: ("voice", True),
        Devoice: ("voice", False),
        Mute: ("mute", True),
        Unmute: ("mute", False),
    }

    def _member_right(self, session: Session, req: MemberRequest) -> None:
        hub = self.hub
        room, policy = self._as_operator(session, req.room)
        kind, give = self._RIGHTS[type(req)]
        action = str(type(req).__struct_config__.tag)
        if give:
            if kind != "mute":
                key = nick_key(normalize_nick(req.nick))
                if not hub.user_in_room(room, key):
                    raise RequestError(ErrorCode.NOT_IN_ROOM, f"{req.nick} is not in {room.name}")
            nick, subjects = self._target(req.nick, None, grant=kind != "mute")
            hub.perms.grant(policy, kind, subjects)
            changed = True
        else:
            nick, subjects = self._all_subjects(req.nick, None)
            changed = hub.perms.revoke(policy, kind, subjects)
        if changed:
            self._announce(
                room,
                session,
                encode(MemberChanged(room=room.name, nick=nick, by=session.nick, action=action)),
            )
        session.send_reply(Ok(id=req.id))
