"""A room: its members, topic and the recent messages replayed on join.

Fan-out is batched per room and paced per member.  :meth:`Room.broadcast`
only appends the encoded event to the room's log.  A small room (a period
under half a millisecond) is written at the end of the current loop
iteration: each member gets everything queued in one ``transport.write``.
A big room is written on a rolling schedule: its members are spread over
:data:`SLOTS` slots, one slot is written per tick, and each member gets
everything logged since its last write in one write.  So every member of a
busy room is written once per *period* (``fanout_window_per_member`` seconds
per member, at most ``fanout_window``), which bounds the room's fan-out cost,
and no event waits longer than one period: unlike writing all members at
once when a window closes, the last member of a 2,000-member room does not
also wait for the 1,999 writes before its own.

Order is kept: a room's events reach every member in the order they were
logged; before anything is sent to one session directly (replies, private
messages) that session is first handed what the room holds for it
(:meth:`Fanout.catch_up`), so a direct send never overtakes an earlier room
event; and a member who joins skips what was logged before they joined,
while one who leaves first takes what was logged before they left.
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import TYPE_CHECKING, cast

from chinwag_protocol.messages import Message

if TYPE_CHECKING:
    from server.session import Session

#: a big room's members are written in this many groups, one per tick
SLOTS = 16
#: a period shorter than this (seconds) is not worth a timer: write at the end
#: of the loop iteration
MIN_PERIOD = 0.0005
#: shortest time between ticks (the loop's timers have millisecond resolution):
#: a shorter period writes several slots per tick
MIN_TICK = 0.001


def slots_per_tick(period: float) -> int:
    """How many slots each tick writes for a room with this period."""
    return min(SLOTS, max(1, int(SLOTS * MIN_TICK / period + 0.999)))


def tick_interval(period: float) -> float:
    return period * slots_per_tick(period) / SLOTS


class Fanout:
    """One server's fan-out settings and the rooms that have events to write.

    A room's period grows with its size: each period costs about one write
    per member (the loopback send and the reader's wake-up are charged to
    the writer), so ``per_member`` seconds per member, at most ``window``,
    keeps a busy room's fan-out at a bounded share of the CPU.
    """

    __slots__ = ("loop", "pending", "per_member", "window")

    def __init__(self, loop: asyncio.AbstractEventLoop, window: float, per_member: float) -> None:
        self.loop = loop
        self.window = window
        self.per_member = per_member
        self.pending: set[Room] = set()

    def period(self, room: Room) -> float:
        return min(self.window, len(room.members) * self.per_member)

    def schedule(self, room: Room) -> None:
        """Start writing ``room``'s log: now-ish for a small room, tick by tick for a big one."""
        self.pending.add(room)
        period = self.period(room)
        if period < MIN_PERIOD:
            room.handle = self.loop.call_soon(room.flush)
        else:
            room.due = self.loop.time() + tick_interval(period)
            room.handle = self.loop.call_at(room.due, room.tick)

    def catch_up(self, session: Session) -> None:
        """Hand ``session`` what every room holds for it now (before a direct send)."""
        for room in self.pending:
            if session in room.members:
                room.catch_up(session)

    def flush(self) -> None:
        """Deliver every logged room event now (on shutdown)."""
        for room in list(self.pending):
            room.flush()


class Members(set["Session"]):
    """A room's sessions, each with a fan-out slot and a position in the room's log.

    Joining starts at the end of the log (skipping what was logged before);
    leaving first takes what was logged so far."""

    __slots__ = ("room",)

    def __init__(self, room: Room) -> None:
        super().__init__()
        self.room = room

    def add(self, session: Session) -> None:
        if session in self:
            return
        room = self.room
        room.cursors[session] = room.end
        room.slots[room.next_slot].add(session)
        room.slot_of[session] = room.next_slot
        room.next_slot = (room.next_slot + 1) % SLOTS
        super().add(session)

    def discard(self, session: object) -> None:
        if session not in self:
            return
        member = cast("Session", session)
        room = self.room
        room.catch_up(member)
        del room.cursors[member]
        room.slots[room.slot_of.pop(member)].discard(member)
        super().discard(session)

    def remove(self, session: object) -> None:
        if session not in self:
            raise KeyError(session)
        self.discard(session)

    def clear(self) -> None:
        self.room.flush()
        for member in list(self):
            self.discard(member)


class Room:
    __slots__ = (
        "base",
        "cursors",
        "due",
        "excluded",
        "fanout",
        "handle",
        "last_msg_id",
        "log",
        "mark",
        "members",
        "name",
        "next_slot",
        "persistent",
        "recent",
        "slot_of",
        "slots",
        "ticks",
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
        #: encoded events not yet written to every member, oldest first
        self.log: list[bytes] = []
        #: parallel to ``log``: the session each event skips (its sender) or None
        self.excluded: list[Session | None] = []
        #: how many events were dropped from the front of ``log`` (written to all)
        self.base = 0
        #: each member's position in the log: everything before it was written to them
        self.cursors: dict[Session, int] = {}
        #: members by fan-out slot, and each member's slot
        self.slots: list[set[Session]] = [set() for _ in range(SLOTS)]
        self.slot_of: dict[Session, int] = {}
        self.next_slot = 0
        #: ticks written in the current rotation, and the log's end when it began:
        #: after a full rotation every member has everything before ``mark``
        self.ticks = 0
        self.mark = 0
        #: when the next tick is due (loop time)
        self.due = 0.0
        #: the pending flush or tick (None: nothing to write)
        self.handle: asyncio.Handle | None = None
        self.members: set[Session] = Members(self)
        #: the last ``history_replay`` messages, oldest first
        self.recent: deque[Message] = deque(recent, maxlen=replay)
        self.last_msg_id = 0
        #: default rooms exist (and are listed) even when empty
        self.persistent = persistent

    @property
    def end(self) -> int:
        """The log position after the newest event."""
        return self.base + len(self.log)

    def broadcast(self, data: bytes, exclude: Session | None = None) -> int:
        """Log encoded bytes for every member but ``exclude``; return how many get them."""
        self.log.append(data)
        self.excluded.append(exclude)
        if self.handle is None:
            self.fanout.schedule(self)
        members = self.members
        if exclude is not None and exclude in members:
            return len(members) - 1
        return len(members)

    def _share(self, member: Session, start: int) -> bytes:
        """The logged events from position ``start`` on, less the ones ``member`` sent."""
        excluded = self.excluded
        log = self.log
        return b"".join(
            log[i] for i in range(start - self.base, len(log)) if excluded[i] is not member
        )

    def catch_up(self, member: Session) -> None:
        """Hand ``member`` what is logged for it now (before something sent to it directly)."""
        start = self.cursors.get(member)
        end = self.end
        if start is not None and start < end:
            self.cursors[member] = end
            data = self._share(member, start)
            if data:
                member.send_batch(data)

    def _write(self, members: set[Session] | Members) -> None:
        """Hand each of ``members`` what the log holds for it: one buffer, one write each."""
        end = self.end
        cursors = self.cursors
        # members written at the same tick share a position: join each suffix once
        shared: dict[int, tuple[bytes, set[Session | None]]] = {}
        for member in members:
            start = cursors[member]
            if start >= end:
                continue
            cursors[member] = end
            got = shared.get(start)
            if got is None:
                i = start - self.base
                log = self.log
                data = log[i] if i == len(log) - 1 else b"".join(log[i:])
                got = shared[start] = (data, set(self.excluded[i:]))
            if member in got[1]:
                own = self._share(member, start)
                if own:
                    member.send_batch(own)
            else:
                member.send_batch(got[0])

    def _trim(self, upto: int) -> None:
        """Forget the events before position ``upto`` (every member has them)."""
        n = upto - self.base
        if n > 0:
            del self.log[:n]
            del self.excluded[:n]
            self.base = upto

    def tick(self) -> None:
        """Write the next slots of a big room; after a full rotation, drop what all have."""
        self.handle = None
        period = self.fanout.period(self)
        stop = min(self.ticks + slots_per_tick(period), SLOTS)
        for i in range(self.ticks, stop):
            self._write(self.slots[i])
        self.ticks = stop
        if self.ticks == SLOTS:
            self.ticks = 0
            self._trim(self.mark)
            self.mark = self.end
            if not self.log:
                self.fanout.pending.discard(self)
                return
        if period < MIN_PERIOD:  # the room shrank: write the rest now
            self.flush()
            return
        # on a fixed timeline, so the time the writes take does not stretch the period
        loop = self.fanout.loop
        self.due = max(self.due + tick_interval(period), loop.time())
        self.handle = loop.call_at(self.due, self.tick)

    def flush(self) -> None:
        """Write everything logged to every member now."""
        if self.handle is not None:
            self.handle.cancel()
            self.handle = None
        self.fanout.pending.discard(self)
        if self.log:
            self._write(self.members)
            self._trim(self.end)
        self.ticks = 0
        self.mark = self.end

    def member_nicks(self) -> list[str]:
        # an account's several sessions are one member
        return sorted({m.nick for m in self.members}, key=str.casefold)
