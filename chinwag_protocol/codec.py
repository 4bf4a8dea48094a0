"""Encoding and decoding of single lines, with precise error codes.

Decoding is strict about the fields each message defines and lenient about
extra ones (so the protocol can grow).  The fast path is one msgspec decode;
only a line that fails it is looked at again to pick the right error code and
to recover the request ``id`` for the error reply.
"""

from __future__ import annotations

from typing import Any

import msgspec

from chinwag_protocol.errors import ErrorCode, FrameError, ProtocolError, RequestError
from chinwag_protocol.messages import (
    CLIENT_REQUEST_TYPES,
    ClientRequest,
    Error,
    Ok,
    Reply,
    RequestId,
    ServerEvent,
)

_encoder = msgspec.json.Encoder()
_request_decoder: msgspec.json.Decoder[ClientRequest] = msgspec.json.Decoder(ClientRequest)
_server_decoder: msgspec.json.Decoder[ServerEvent | Error | Ok] = msgspec.json.Decoder(
    ServerEvent | Error | Ok
)
_any_decoder = msgspec.json.Decoder()


def _tag(t: type[msgspec.Struct]) -> str:
    return str(t.__struct_config__.tag)


REQUEST_TAGS: frozenset[str] = frozenset(_tag(t) for t in CLIENT_REQUEST_TYPES)


def encode(msg: msgspec.Struct) -> bytes:
    """One message as a wire line (JSON plus the terminating newline)."""
    return _encoder.encode(msg) + b"\n"


def encode_many(msgs: list[msgspec.Struct]) -> bytes:
    return b"".join(_encoder.encode(m) + b"\n" for m in msgs)


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def bad_frame() -> FrameError:
    return FrameError(ErrorCode.BAD_FRAME, "a line must be a JSON object in UTF-8")


def decode_request(line: bytes) -> ClientRequest:
    """Decode one client line.  Raises :class:`FrameError` or :class:`RequestError`."""
    try:
        return _request_decoder.decode(line)
    except msgspec.ValidationError as exc:
        raise _request_error(line, str(exc)) from None
    except (msgspec.DecodeError, UnicodeDecodeError, RecursionError):
        raise bad_frame() from None


def recover_id(obj: dict[str, Any]) -> RequestId | None:
    rid = obj.get("id")
    if isinstance(rid, bool) or not isinstance(rid, int | str):
        return None
    return rid


def _request_error(line: bytes, detail: str) -> ProtocolError:
    """Classify a line that is valid JSON (maybe) but not a valid request."""
    try:
        obj = _any_decoder.decode(line)
    except (msgspec.DecodeError, UnicodeDecodeError, RecursionError):
        return bad_frame()
    if not isinstance(obj, dict):
        return RequestError(ErrorCode.BAD_REQUEST, "a request is a JSON object")
    rid = recover_id(obj)
    kind = obj.get("type")
    if not isinstance(kind, str):
        return RequestError(ErrorCode.BAD_REQUEST, "a request needs a string field 'type'", rid)
    if kind not in REQUEST_TAGS:
        return RequestError(ErrorCode.UNKNOWN_TYPE, f"unknown request type {_short(kind)}", rid)
    return RequestError(ErrorCode.BAD_REQUEST, f"{kind}: {detail}", rid)


def decode_server_line(line: bytes) -> ServerEvent | Error | Ok:
    """Decode one server line.  An ``ok`` comes back as plain :class:`Ok`;
    :func:`decode_reply` turns it into the reply type its request expects."""
    try:
        return _server_decoder.decode(line)
    except msgspec.ValidationError as exc:
        raise FrameError(ErrorCode.BAD_FRAME, f"unexpected server message: {exc}") from None
    except (msgspec.DecodeError, UnicodeDecodeError, RecursionError):
        raise bad_frame() from None


def decode_reply(line: bytes, reply_type: type[Reply]) -> Reply:
    try:
        return msgspec.json.decode(line, type=reply_type)
    except (msgspec.DecodeError, UnicodeDecodeError, RecursionError) as exc:
        raise FrameError(ErrorCode.BAD_FRAME, f"malformed reply: {exc}") from None
