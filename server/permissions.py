"""Room permissions: modes and per-member rights, kept in memory and in SQLite.

Rights are held by *subjects*, strings naming who they apply to:

* ``a:<account>`` - a registered account (every session of it; persisted);
* ``n:<nick key>`` - a guest nick (used for ``ban`` and ``mute`` only, so a
  guest cannot shake them off by reconnecting; persisted);
* ``g:<random>`` - one guest connection (its identity; in memory only and
  meaningless once it disconnects, so a later guest with the same nick never
  inherits an operator's rights).

Kinds: ``op``, ``voice``, ``mute``, ``ban``, ``invite``.

A room whose operators include no account is *unowned*: when it empties, its
modes and rights are wiped, and whoever joins it next creates it afresh and
becomes its operator.  A room with an account operator keeps everything
across restarts.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from chinwag_protocol.messages import RoomModes
from server.identity import ACCOUNT_PREFIX, is_account_ident
from server.storage import HistoryStore

if TYPE_CHECKING:
    from server.session import Session

KINDS = ("op", "voice", "mute", "ban", "invite")


def subjects_of(session: Session) -> frozenset[str]:
    """Every subject a session answers to."""
    if session.is_account:
        return frozenset((session.ident,))
    return frozenset((session.ident, nick_subject(session.key)))


#: subjects naming a guest nick (``ban`` and ``mute`` only)
NICK_PREFIX = "n:"


def nick_subject(key: str) -> str:
    return NICK_PREFIX + key


def grant_subject(session: Session) -> str:
    """The subject a right given to this session is recorded under."""
    return session.ident


def _persisted(subject: str) -> bool:
    return subject.startswith((ACCOUNT_PREFIX, NICK_PREFIX))


class RoomPolicy:
    __slots__ = ("acl", "invite_only", "key", "moderated", "room", "topic_lock")

    def __init__(self, room: str) -> None:
        self.room = room
        self.topic_lock = False
        self.invite_only = False
        self.moderated = False
        self.key: str | None = None
        self.acl: dict[str, set[str]] = {kind: set() for kind in KINDS}

    @property
    def secret(self) -> bool:
        """Invite-only or keyed: nothing of it is shown to non-members."""
        return self.invite_only or self.key is not None

    @property
    def owned(self) -> bool:
        return any(is_account_ident(s) for s in self.acl["op"])

    def has(self, kind: str, session: Session) -> bool:
        return not self.acl[kind].isdisjoint(subjects_of(session))

    def has_any(self, kind: str, subjects: Iterable[str]) -> bool:
        return not self.acl[kind].isdisjoint(subjects)

    def is_op(self, session: Session) -> bool:
        return self.has("op", session)

    def may_speak(self, session: Session) -> bool:
        return not self.moderated or self.is_op(session) or self.has("voice", session)

    def modes(self) -> RoomModes:
        return RoomModes(
            topic_lock=self.topic_lock,
            invite_only=self.invite_only,
            moderated=self.moderated,
            keyed=self.key is not None,
        )


class Permissions:
    """Policies of the rooms in use, loaded on demand and written through."""

    def __init__(self, store: HistoryStore) -> None:
        self._store = store
        self._cache: dict[str, RoomPolicy] = {}

    def get(self, room: str) -> RoomPolicy:
        policy = self._cache.get(room)
        if policy is None:
            policy = self._cache[room] = self._load(room)
        return policy

    def peek(self, room: str) -> RoomPolicy:
        """The policy without caching it (for rooms nobody is in)."""
        return self._cache.get(room) or self._load(room)

    def cached(self) -> Iterable[RoomPolicy]:
        return self._cache.values()

    def _load(self, room: str) -> RoomPolicy:
        policy = RoomPolicy(room)
        rows = self._store.read(
            "SELECT topic_lock, invite_only, moderated, key FROM room_modes WHERE room = ?",
            (room,),
        )
        if rows:
            lock, invite, moderated, key = rows[0]
            policy.topic_lock, policy.invite_only = bool(lock), bool(invite)
            policy.moderated, policy.key = bool(moderated), key
        for kind, subject in self._store.read(
            "SELECT kind, subject FROM room_acl WHERE room = ?", (room,)
        ):
            if kind in policy.acl:
                policy.acl[kind].add(subject)
        return policy

    # ---- changes (written through to the database) --------------------------

    def save_modes(self, policy: RoomPolicy) -> None:
        self._store.execute(
            "INSERT INTO room_modes (room, topic_lock, invite_only, moderated, key) "
            "VALUES (?,?,?,?,?) ON CONFLICT(room) DO UPDATE SET topic_lock=excluded.topic_lock, "
            "invite_only=excluded.invite_only, moderated=excluded.moderated, key=excluded.key",
            (
                policy.room,
                int(policy.topic_lock),
                int(policy.invite_only),
                int(policy.moderated),
                policy.key,
            ),
        )

    def grant(self, policy: RoomPolicy, kind: str, subjects: Iterable[str]) -> None:
        for subject in subjects:
            if subject not in policy.acl[kind]:
                policy.acl[kind].add(subject)
                if _persisted(subject):
                    self._store.execute(
                        "INSERT OR IGNORE INTO room_acl (room, kind, subject) VALUES (?,?,?)",
                        (policy.room, kind, subject),
                    )

    def revoke(self, policy: RoomPolicy, kind: str, subjects: Iterable[str]) -> bool:
        """Remove rights; True if any was there."""
        removed = False
        for subject in subjects:
            if subject in policy.acl[kind]:
                removed = True
                policy.acl[kind].discard(subject)
                if _persisted(subject):
                    self._store.execute(
                        "DELETE FROM room_acl WHERE room = ? AND kind = ? AND subject = ?",
                        (policy.room, kind, subject),
                    )
        return removed

    def reset(self, policy: RoomPolicy) -> None:
        """Forget every mode and right of the room (an unowned room being recreated)."""
        if not (
            policy.topic_lock or policy.invite_only or policy.moderated or policy.key
        ) and not any(policy.acl.values()):
            return
        policy.topic_lock = policy.invite_only = policy.moderated = False
        policy.key = None
        for subjects in policy.acl.values():
            subjects.clear()
        self._store.execute("DELETE FROM room_modes WHERE room = ?", (policy.room,))
        self._store.execute("DELETE FROM room_acl WHERE room = ?", (policy.room,))

    def release(self, room: str, still_empty: Callable[[], bool]) -> None:
        """The room just emptied: wipe it if unowned, and stop caching it once
        its writes are on disk (a reload before that would read stale rows)."""
        policy = self._cache.get(room)
        if policy is None:
            return
        if not policy.owned:
            self.reset(policy)

        def evict(ok: bool) -> None:
            if self._cache.get(room) is policy and still_empty():
                del self._cache[room]

        self._store.after_durable(evict)

    def rebind(self, old: str, new: str) -> None:
        """A guest registered: rights held by its connection now belong to the account."""
        for policy in self._cache.values():
            for kind, subjects in policy.acl.items():
                if old in subjects:
                    self.revoke(policy, kind, (old,))
                    self.grant(policy, kind, (new,))
