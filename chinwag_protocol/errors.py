"""Error codes and the package's exception tree.

ProtocolError                 base of everything this package raises
├── FrameError                a line that is not a JSON object (codes bad_frame, too_long)
└── RequestError              a well-formed line that is not a valid request
                              (bad_request, unknown_type, bad_nick, ...)

Every exception carries the wire ``code`` and a human ``message``; the
message never contains internal detail (tracebacks, paths).
"""

from __future__ import annotations

from enum import StrEnum


class ErrorCode(StrEnum):
    """Every ``code`` an ``error`` reply may carry.  Documented in docs/protocol.md."""

    # framing (core)
    BAD_FRAME = "bad_frame"
    TOO_LONG = "too_long"
    # request shape
    BAD_REQUEST = "bad_request"
    UNKNOWN_TYPE = "unknown_type"
    NOT_REGISTERED = "not_registered"
    ALREADY_REGISTERED = "already_registered"
    UNSUPPORTED_PROTOCOL = "unsupported_protocol"
    # names and text
    BAD_NICK = "bad_nick"
    NICK_TAKEN = "nick_taken"
    BAD_ROOM = "bad_room"
    BAD_TEXT = "bad_text"
    TEXT_TOO_LONG = "text_too_long"
    BAD_TOPIC = "bad_topic"
    # state
    NOT_IN_ROOM = "not_in_room"
    NO_SUCH_ROOM = "no_such_room"
    NO_SUCH_NICK = "no_such_nick"
    BAD_CURSOR = "bad_cursor"
    # accounts
    NICK_RESERVED = "nick_reserved"
    NICK_LOCKED = "nick_locked"
    ACCOUNT_REQUIRED = "account_required"
    ACCOUNT_EXISTS = "account_exists"
    NO_SUCH_ACCOUNT = "no_such_account"
    NOT_LOGGED_IN = "not_logged_in"
    BAD_PASSWORD = "bad_password"
    WEAK_PASSWORD = "weak_password"
    THROTTLED = "throttled"
    # room permissions and hub limits
    NOT_OPERATOR = "not_operator"
    BANNED = "banned"
    INVITE_ONLY = "invite_only"
    BAD_KEY = "bad_key"
    MODERATED = "moderated"
    MUTED = "muted"
    TOPIC_LOCKED = "topic_locked"
    ROOM_FULL = "room_full"
    TOO_MANY_ROOMS = "too_many_rooms"
    # transport abuse limits
    RATE_LIMITED = "rate_limited"
    TOO_MANY_CONNECTIONS = "too_many_connections"
    # server side
    STORAGE_FAILED = "storage_failed"
    SHUTTING_DOWN = "shutting_down"
    INTERNAL = "internal_error"


class ProtocolError(Exception):
    """Base class: a peer sent something the protocol does not allow."""

    def __init__(self, code: ErrorCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.code.value!r}, {self.message!r})"


class FrameError(ProtocolError):
    """The line itself is bad: too long, not UTF-8, not JSON, not an object."""


class RequestError(ProtocolError):
    """The line is a JSON object but not an acceptable request.

    ``request_id`` is the ``id`` the peer gave, when one could be recovered,
    so the error reply can still be matched to its request.
    """

    def __init__(self, code: ErrorCode, message: str, request_id: int | str | None = None) -> None:
        super().__init__(code, message)
        self.request_id = request_id
