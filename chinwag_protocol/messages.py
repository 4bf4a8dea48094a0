"""Every message of the wire protocol, as immutable typed structs.

This module is the single definition of each message shape: the codec decodes
into these types, the server and the clients build them, and
``python -m chinwag_protocol.schema`` derives docs/protocol.schema.json from
them.  Field names follow the wire (``from`` is spelt ``from_`` in Python).

Three families, each a tagged union on the ``type`` field:

* :data:`ClientRequest` - what a client sends;
* :data:`ServerEvent` - what the server pushes without an ``id``;
* replies - ``ok`` (one struct per request kind, see :data:`REPLY_TYPES`)
  and ``error``.
"""

from __future__ import annotations

from typing import Final, TypeAlias, cast, get_args

import msgspec

RequestId = int | str


class _Wire(msgspec.Struct, frozen=True, tag_field="type", omit_defaults=True, kw_only=True):
    """Common base: tagged on ``type``, unknown fields ignored, defaults omitted."""


# --------------------------------------------------------------------------
# client -> server
# --------------------------------------------------------------------------


class Request(_Wire, frozen=True, kw_only=True):
    """Base of all client requests.  With an ``id`` the server replies exactly once."""

    id: RequestId | None = None


class Hello(Request, tag="hello", frozen=True, kw_only=True):
    nick: str
    protocol: int
    password: str | None = None
    client: str | None = None


class Join(Request, tag="join", frozen=True, kw_only=True):
    room: str
    key: str | None = None


class Part(Request, tag="part", frozen=True, kw_only=True):
    room: str
    reason: str | None = None


class Say(Request, tag="say", frozen=True, kw_only=True):
    room: str
    text: str


class Msg(Request, tag="msg", frozen=True, kw_only=True):
    to: str
    text: str


class Topic(Request, tag="topic", frozen=True, kw_only=True):
    room: str
    topic: str


class Rooms(Request, tag="rooms", frozen=True, kw_only=True):
    pass


class Who(Request, tag="who", frozen=True, kw_only=True):
    room: str


class History(Request, tag="history", frozen=True, kw_only=True):
    """Page through stored messages of a room, or of the DMs ``with`` a nick.

    ``before`` pages backwards (older); ``after`` (an extension) pages forward,
    which clients use to fetch what they missed while disconnected.
    """

    room: str | None = None
    with_: str | None = msgspec.field(default=None, name="with")
    before: str | None = None
    after: str | None = None
    limit: int | None = None


class Nick(Request, tag="nick", frozen=True, kw_only=True):
    nick: str


class Ping(Request, tag="ping", frozen=True, kw_only=True):
    pass


class Pong(Request, tag="pong", frozen=True, kw_only=True):
    pass


class Quit(Request, tag="quit", frozen=True, kw_only=True):
    reason: str | None = None


# ---- accounts (extension) ----


class Register(Request, tag="register", frozen=True, kw_only=True):
    """Turn the guest nick this connection holds into an account with ``password``.

    ``nick``, when given, must be the connection's current nick (a safety check)."""

    password: str
    nick: str | None = None


class Password(Request, tag="password", frozen=True, kw_only=True):
    """Change the password of the account this connection is signed in to."""

    old: str
    new: str


# ---- room permissions (extension) ----


class Mode(Request, tag="mode", frozen=True, kw_only=True):
    """Read (no optional field) or change (operators only) a room's modes.

    ``key`` set to ``""`` removes the key."""

    room: str
    topic_lock: bool | None = None
    invite_only: bool | None = None
    moderated: bool | None = None
    key: str | None = None


class MemberRequest(Request, frozen=True, kw_only=True):
    """Base of operator actions on one member of a room."""

    room: str
    nick: str


class Invite(MemberRequest, tag="invite", frozen=True, kw_only=True):
    pass


class Kick(MemberRequest, tag="kick", frozen=True, kw_only=True):
    reason: str | None = None


class Op(MemberRequest, tag="op", frozen=True, kw_only=True):
    pass


class Deop(MemberRequest, tag="deop", frozen=True, kw_only=True):
    pass


class Voice(MemberRequest, tag="voice", frozen=True, kw_only=True):
    pass


class Devoice(MemberRequest, tag="devoice", frozen=True, kw_only=True):
    pass


class Mute(MemberRequest, tag="mute", frozen=True, kw_only=True):
    pass


class Unmute(MemberRequest, tag="unmute", frozen=True, kw_only=True):
    pass


class Ban(Request, tag="ban", frozen=True, kw_only=True):
    """Ban ``nick`` (whoever uses it now: their account, or the guest nick) or ``account``."""

    room: str
    nick: str | None = None
    account: str | None = None


class Unban(Request, tag="unban", frozen=True, kw_only=True):
    room: str
    nick: str | None = None
    account: str | None = None


ClientRequest: TypeAlias = (
    Hello
    | Join
    | Part
    | Say
    | Msg
    | Topic
    | Rooms
    | Who
    | History
    | Nick
    | Ping
    | Pong
    | Quit
    | Register
    | Password
    | Mode
    | Invite
    | Kick
    | Op
    | Deop
    | Voice
    | Devoice
    | Mute
    | Unmute
    | Ban
    | Unban
)
CLIENT_REQUEST_TYPES: Final = cast(tuple[type[Request], ...], get_args(ClientRequest))


# --------------------------------------------------------------------------
# server -> client events (no id)
# --------------------------------------------------------------------------


class Event(_Wire, frozen=True, kw_only=True):
    """Base of server-pushed events."""


class Message(Event, tag="message", frozen=True, kw_only=True):
    room: str
    from_: str = msgspec.field(name="from")
    text: str
    ts: str
    msg_id: str


class Private(Event, tag="private", frozen=True, kw_only=True):
    from_: str = msgspec.field(name="from")
    to: str
    text: str
    ts: str
    msg_id: str


class Joined(Event, tag="joined", frozen=True, kw_only=True):
    room: str
    nick: str


class Left(Event, tag="left", frozen=True, kw_only=True):
    room: str
    nick: str
    reason: str | None = None


class TopicChanged(Event, tag="topic", frozen=True, kw_only=True):
    room: str
    topic: str
    by: str


class NickChanged(Event, tag="nick", frozen=True, kw_only=True):
    old: str
    new: str


class PingEvent(Event, tag="ping", frozen=True, kw_only=True):
    pass


class Notice(Event, tag="notice", frozen=True, kw_only=True):
    """Server text for the user.  ``code`` (an extension) says why, when it matters
    to a program: ``shutdown``, ``send_buffer_full``, ``idle_timeout``, ``motd``."""

    text: str
    code: str | None = None


class RoomModes(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """A room's modes as everyone may see them (the key itself is not included)."""

    topic_lock: bool = False
    invite_only: bool = False
    moderated: bool = False
    keyed: bool = False


class ModeChanged(Event, tag="mode", frozen=True, kw_only=True):
    """An operator changed the room's modes; ``modes`` is the new full set."""

    room: str
    by: str
    modes: RoomModes


class MemberChanged(Event, tag="member", frozen=True, kw_only=True):
    """An operator acted on a member: ``action`` is one of ``op``, ``deop``, ``voice``,
    ``devoice``, ``mute``, ``unmute``, ``ban``, ``unban``."""

    room: str
    nick: str
    by: str
    action: str


class Kicked(Event, tag="kicked", frozen=True, kw_only=True):
    """``nick`` was removed from ``room`` by ``by`` (sent to the room, the target included)."""

    room: str
    nick: str
    by: str
    reason: str | None = None


class Invited(Event, tag="invited", frozen=True, kw_only=True):
    """Sent to the invitee: ``by`` invited you to ``room``."""

    room: str
    by: str


ServerEvent: TypeAlias = (
    Message
    | Private
    | Joined
    | Left
    | TopicChanged
    | NickChanged
    | PingEvent
    | Notice
    | ModeChanged
    | MemberChanged
    | Kicked
    | Invited
)
SERVER_EVENT_TYPES: Final = cast(tuple[type[Event], ...], get_args(ServerEvent))


# --------------------------------------------------------------------------
# replies
# --------------------------------------------------------------------------


class Reply(_Wire, frozen=True, kw_only=True):
    """Base of replies; ``id`` echoes the request's."""

    id: RequestId | None = None


class Error(Reply, tag="error", frozen=True, kw_only=True):
    code: str
    message: str
    #: (extension) with ``throttled``: whole seconds before trying again is useful
    retry_after: int | None = None


class Ok(Reply, tag="ok", frozen=True, kw_only=True):
    """The plain success reply, for requests whose reply carries nothing."""


class HelloOk(Reply, tag="ok", frozen=True, kw_only=True):
    nick: str
    server: str
    protocol: int
    motd: str | None = None
    #: the account this connection is signed in to (absent for guests)
    account: str | None = None
    #: how many DMs that arrived while the account was offline follow as ``private`` events
    offline: int | None = None


class JoinOk(Reply, tag="ok", frozen=True, kw_only=True):
    room: str
    topic: str
    members: list[str]
    history: list[Message]
    modes: RoomModes | None = None
    #: members who are operators / voiced (nicks)
    ops: list[str] | None = None
    voiced: list[str] | None = None


class SentOk(Reply, tag="ok", frozen=True, kw_only=True):
    """Reply to ``say`` and ``msg``, sent once the message is durable."""

    msg_id: str
    ts: str


class RoomInfo(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    topic: str
    members: int


class RoomsOk(Reply, tag="ok", frozen=True, kw_only=True):
    rooms: list[RoomInfo]


class WhoOk(Reply, tag="ok", frozen=True, kw_only=True):
    room: str
    members: list[str]


class HistoryOk(Reply, tag="ok", frozen=True, kw_only=True):
    messages: list[Message | Private]


class NickOk(Reply, tag="ok", frozen=True, kw_only=True):
    nick: str


class ModeOk(Reply, tag="ok", frozen=True, kw_only=True):
    """Reply to ``mode``.  ``key`` and the lists of banned/muted subjects are
    only sent to operators."""

    room: str
    modes: RoomModes
    ops: list[str]
    voiced: list[str]
    key: str | None = None
    banned: list[str] | None = None
    muted: list[str] | None = None


#: The ``ok`` reply type for each request type (requests absent here get :class:`Ok`).
REPLY_TYPES: Final[dict[type[Request], type[Reply]]] = {
    Hello: HelloOk,
    Join: JoinOk,
    Say: SentOk,
    Msg: SentOk,
    Rooms: RoomsOk,
    Who: WhoOk,
    History: HistoryOk,
    Nick: NickOk,
    Mode: ModeOk,
}

OK_REPLY_TYPES: Final[tuple[type[Reply], ...]] = (
    Ok,
    HelloOk,
    JoinOk,
    SentOk,
    RoomsOk,
    WhoOk,
    HistoryOk,
    NickOk,
    ModeOk,
)


def reply_type_for(request: type[Request]) -> type[Reply]:
    """The struct a successful reply to ``request`` decodes into."""
    return REPLY_TYPES.get(request, Ok)
