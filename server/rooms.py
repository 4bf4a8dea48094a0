"""A room: its members, topic and the recent messages replayed on join."""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING

from chinwag_protocol.messages import Message

if TYPE_CHECKING:
    from server.session import Session


class Room:
    __slots__ = ("last_msg_id", "members", "name", "persistent", "recent", "topic", "topic_by")

    def __init__(
        self,
        name: str,
        *,
        topic: str,
        topic_by: str,
        recent: list[Message],
        replay: int,
        persistent: bool,
    ) -> None:
        self.name = name
        self.topic = topic
        self.topic_by = topic_by
        self.members: set[Session] = set()
        #: the last ``history_replay`` messages, oldest first
        self.recent: deque[Message] = deque(recent, maxlen=replay)
        self.last_msg_id = 0
        #: default rooms exist (and are listed) even when empty
        self.persistent = persistent

    def broadcast(self, data: bytes, exclude: Session | None = None) -> int:
        """Queue the same encoded bytes to every member but ``exclude``; return the count."""
        n = 0
        for member in self.members:
            if member is not exclude:
                member.send_raw(data)
                n += 1
        return n

    def member_nicks(self) -> list[str]:
        # an account's several sessions are one member
        return sorted({m.nick for m in self.members}, key=str.casefold)
