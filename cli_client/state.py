"""What the CLI remembers about the conversation: our nick, joined rooms, topics.

Plain synchronous bookkeeping, updated from our own successful requests and
from the server's events; no I/O, so it is tested on its own.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import msgspec

from chinwag_protocol.connection import ClientEvent
from chinwag_protocol.messages import Left, NickChanged, Notice, TopicChanged


@dataclass(slots=True)
class RoomState:
    name: str
    topic: str = ""
    topic_by: str | None = None


@dataclass(slots=True)
class ChatState:
    nick: str | None = None
    #: joined rooms in the order they were joined
    rooms: dict[str, RoomState] = field(default_factory=dict)
    current: str | None = None
    #: the server announced it is shutting down (its closing is then expected)
    shutting_down: bool = False

    def joined(self, room: str, topic: str) -> None:
        self.rooms[room] = RoomState(room, topic)
        self.current = room

    def parted(self, room: str) -> None:
        """Forget ``room``; if it was current, the most recently joined other room becomes so."""
        self.rooms.pop(room, None)
        if self.current == room:
            self.current = next(reversed(self.rooms), None)

    def set_topic(self, room: str, topic: str, by: str | None) -> None:
        state = self.rooms.get(room)
        if state is not None:
            state.topic = topic
            state.topic_by = by

    def apply(self, event: ClientEvent) -> None:
        """Follow an incoming event."""
        if isinstance(event, TopicChanged):
            self.set_topic(event.room, event.topic, event.by)
        elif isinstance(event, NickChanged):
            if self.nick is not None and event.old.casefold() == self.nick.casefold():
                self.nick = event.new
        elif isinstance(event, Left):
            if self._is_me(event.nick):
                self.parted(event.room)
        elif isinstance(event, Notice):
            if event.code == "shutdown":
                self.shutting_down = True
        elif isinstance(event, msgspec.Struct) and event.__struct_config__.tag == "kicked":
            fields = msgspec.structs.asdict(event)
            if self._is_me(str(fields.get("nick", ""))):
                self.parted(str(fields.get("room", "")))

    def _is_me(self, nick: str) -> bool:
        return self.nick is not None and nick.casefold() == self.nick.casefold()
