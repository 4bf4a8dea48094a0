"""A room: its members, topic and the recent messages replayed on join.

Fan-out is batched per room: :meth:`Room.broadcast` only queues the encoded
event; when the room's fan-out window closes (``fanout_window_per_member``
seconds per member, at most ``fanout_window``, after the first queued event;
for a small room, the end of the current loop iteration) the room joins
everything it queued into one buffer and hands that to each member with a
single ``transport.write``.  A busy room then costs one write
per member per window instead of one per member per message.

Order is kept: a room's events reach every member in the order they were
queued; before anything is sent to one session directly (replies, private
messages) that session is first handed its share of every queued room batch
(:meth:`Fanout.catch_up`), so a direct send never overtakes an earlier room event;
and a member who joins mid-window skips what was queued before they joined,
while one who leaves first takes what was queued before they left.
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import TYPE_CHECKING, cast

from chinwag_protocol.messages import Message

if TYPE_CHECKING:
    from server.session import Session


class Fanout:
    """One server's fan-out windows and the rooms that have events queued.

    A room's window grows with its size: each window costs about one write per
    member, so a window of ``per_member`` seconds per member (at most
    ``window``) keeps the fan-out cost of a busy room at a bounded share of
    the CPU, while a small room (window under half a millisecond) is written
    at the end of the current loop iteration.
    """

    __slots__ = ("loop", "pending", "per_member", "window")

    def __init__(self, loop: asyncio.AbstractEventLoop, window: float, per_member: float) -> None:
        self.loop = loop
        self.window = window
        self.per_member = per_member
        self.pending: set[Room] = set()

    def schedule(self, room: Room) -> None:
        self.pending.add(room)
        delay = min(self.window, len(room.members) * self.per_member)
        if delay >= 0.0005:
            room.handle = self.loop.call_later(delay, room.flush)
        else:
            room.handle = self.loop.call_soon(room.flush)

    def catch_up(self, session: Session) -> None:
        """Hand ``session`` its share of every queued room batch (before a direct send)."""
        for room in self.pending:
            if room.batch is not None and session in room.members:
                room.catch_up(session)

    def flush(self) -> None:
        """Deliver every queued room event now (on shutdown)."""
        for room in list(self.pending):
            room.flush()


class Members(set["Session"]):
    """A room's sessions.  Joining mid-window skips the events queued before;
    leaving mid-window first takes the events queued so far."""

    __slots__ = ("room",)

    def __init__(self, room: Room) -> None:
        super().__init__()
        self.room = room

    def add(self, session: Session) -> None:
        room = self.room
        if room.batch is not None and session not in self:
            room.offsets[session] = len(room.batch)
        super().add(session)

    def discard(self, session: object) -> None:
        if self.room.batch is not None and session in self:
            member = cast("Session", session)
            self.room.catch_up(member)
            self.room.offsets.pop(member, None)
        super().discard(session)

    def remove(self, session: object) -> None:
        if session not in self:
            raise KeyError(session)
        self.discard(session)

    def clear(self) -> None:
        self.room.flush()
        super().clear()


class Room:
    __slots__ = (
        "batch",
        "excluded",
        "fanout",
        "handle",
        "last_msg_id",
        "members",
        "name",
        "offsets",
        "persistent",
        "recent",
        "topic",
        "topic_by",
    )

    def __init__(
        self,
        name: str,
        *,
        topic: str,
        topic_by: str,
        recent: list[Message],
        replay: int,
        persistent: bool,
        fanout: Fanout,
    ) -> None:
        self.name = name
        self.fanout = fanout
        self.topic = topic
        self.topic_by = topic_by
        self.members: set[Session] = Members(self)
        #: encoded events queued for the next fan-out (None: nothing queued)
        self.batch: list[bytes] | None = None
        #: parallel to ``batch``: the session each event skips (its sender) or None
        self.excluded: list[Session | None] = []
        #: the timer of the next fan-out (while ``batch`` is not None)
        self.handle: asyncio.Handle | None = None
        #: members that need the batch only from an index on (joined mid-window,
        #: or already handed the start of it before a direct send)
        self.offsets: dict[Session, int] = {}
        #: the last ``history_replay`` messages, oldest first
        self.recent: deque[Message] = deque(recent, maxlen=replay)
        self.last_msg_id = 0
        #: default rooms exist (and are listed) even when empty
        self.persistent = persistent

    def broadcast(self, data: bytes, exclude: Session | None = None) -> int:
        """Queue encoded bytes for every member but ``exclude``; return how many get them."""
        batch = self.batch
        if batch is None:
            self.batch = batch = []
            self.fanout.schedule(self)
        batch.append(data)
        self.excluded.append(exclude)
        members = self.members
        if exclude is not None and exclude in members:
            return len(members) - 1
        return len(members)

    def _share(self, member: Session, start: int) -> bytes:
        """The queued events from ``start`` on, less the ones ``member`` sent itself."""
        batch = self.batch
        assert batch is not None
        excluded = self.excluded
        return b"".join(batch[i] for i in range(start, len(batch)) if excluded[i] is not member)

    def catch_up(self, member: Session) -> None:
        """Hand ``member`` what is queued for it now (before something sent to it directly)."""
        batch = self.batch
        if batch is None:
            return
        start = self.offsets.get(member, 0)
        if start < len(batch):
            data = self._share(member, start)
            self.offsets[member] = len(batch)
            if data:
                member.send_batch(data)

    def flush(self) -> None:
        """Write the queued events: one buffer, one write per member."""
        batch = self.batch
        if batch is None:
            return
        if self.handle is not None:
            self.handle.cancel()
            self.handle = None
        self.fanout.pending.discard(self)
        data = batch[0] if len(batch) == 1 else b"".join(batch)
        offsets = self.offsets
        special = {s for s in self.excluded if s is not None}
        if offsets:
            special.update(offsets)
        if not special:
            for member in self.members:
                member.send_batch(data)
        else:
            for member in self.members:
                if member in special:
                    own = self._share(member, offsets.get(member, 0))
                    if own:
                        member.send_batch(own)
                else:
                    member.send_batch(data)
        self.batch = None
        self.excluded = []
        if offsets:
            self.offsets = {}

    def member_nicks(self) -> list[str]:
        # an account's several sessions are one member
        return sorted({m.nick for m in self.members}, key=str.casefold)
