"""Hypothesis properties: hostile byte streams never break the state machines,
and every valid message survives encode/decode unchanged."""

from __future__ import annotations

import contextlib
import json
import types
import typing
from typing import Any

import msgspec
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chinwag_protocol.codec import decode_reply, decode_request, decode_server_line, encode
from chinwag_protocol.connection import ClientConnection, ServerConnection
from chinwag_protocol.errors import FrameError, ProtocolError
from chinwag_protocol.framing import LineDecoder
from chinwag_protocol.messages import (
    CLIENT_REQUEST_TYPES,
    OK_REPLY_TYPES,
    SERVER_EVENT_TYPES,
    Error,
    Hello,
    History,
    Join,
    Say,
)

# Fragments that make random streams interesting: real requests, replies and
# events, framing characters, broken UTF-8 and JSON, deep nesting.
_FRAGMENTS = [
    b'{"type":"hello","id":1,"nick":"alice","protocol":1}\n',
    b'{"type":"join","id":2,"room":"lobby"}\n',
    b'{"type":"say","room":"lobby","text":"hi"}\n',
    b'{"type":"ok","id":1,"nick":"a","server":"s","protocol":1}\n',
    b'{"type":"ok","id":2}\n',
    b'{"type":"error","id":3,"code":"x","message":"y"}\n',
    b'{"type":"message","room":"r","from":"a","text":"t","ts":"t","msg_id":"1"}\n',
    b'{"type":"ping"}\n',
    b"\n",
    b"\r\n",
    b"\r",
    b"\xff\xfe",
    b"\xc3",
    b'{"type":',
    b"[" * 50,
    b'"id":',
    b"null",
    b"{}",
]
chunks_st = st.lists(st.one_of(st.binary(max_size=80), st.sampled_from(_FRAGMENTS)), max_size=40)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(chunks=chunks_st, limit=st.integers(1, 120))
def test_line_decoder_survives_anything(chunks: list[bytes], limit: int) -> None:
    d = LineDecoder(limit)
    for chunk in chunks:
        for item in d.feed(chunk):
            if isinstance(item, bytes):
                assert 0 < len(item) <= limit and b"\n" not in item
            else:
                assert isinstance(item, FrameError)
        assert d.buffered <= limit
    for item in d.feed_eof():
        assert isinstance(item, bytes) and len(item) <= limit
    assert d.buffered == 0


@settings(max_examples=200, deadline=None)
@given(data=st.binary(max_size=2000), cuts=st.lists(st.integers(0, 2000), max_size=10))
def test_line_decoder_chunking_does_not_matter(data: bytes, cuts: list[int]) -> None:
    whole = LineDecoder(64)
    expected = [x if isinstance(x, bytes) else x.code for x in whole.feed(data)]
    parts = LineDecoder(64)
    got: list[object] = []
    prev = 0
    for cut in sorted({*cuts, len(data)}):
        cut = min(cut, len(data))
        got += [x if isinstance(x, bytes) else x.code for x in parts.feed(data[prev:cut])]
        prev = cut
    assert got == expected


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(chunks=chunks_st, registered=st.booleans(), limit=st.integers(8, 200))
def test_server_connection_never_raises(chunks: list[bytes], registered: bool, limit: int) -> None:
    conn = ServerConnection(max_line=limit)
    conn.registered = registered
    for chunk in chunks:
        conn.receive_data(chunk)
        while conn.next_request() is not None:
            pass
        assert conn._decoder.buffered <= limit
    conn.receive_eof()
    while conn.next_request() is not None:
        pass
    for line in conn.data_to_send().splitlines():
        err = msgspec.json.decode(line, type=Error)
        assert err.code and err.message


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(chunks=chunks_st)
def test_client_connection_raises_only_protocol_errors(chunks: list[bytes]) -> None:
    c = ClientConnection(max_line=256)
    c.request(Hello(nick="alice", protocol=1))
    c.request(Join(room="lobby"))
    c.request(Say(room="lobby", text="x"))
    for chunk in chunks:
        with contextlib.suppress(ProtocolError):
            c.receive_data(chunk)


# ---- round trips -------------------------------------------------------------

_text = st.text(max_size=30)
_none = st.none()


def _strategy(tp: Any) -> st.SearchStrategy[Any]:
    """A strategy for a field type of a message struct."""
    origin = typing.get_origin(tp)
    if tp is str:
        return _text
    if tp is bool:
        return st.booleans()
    if tp is int:
        return st.integers(-(2**53), 2**53)
    if tp is type(None):
        return _none
    if origin in (typing.Union, types.UnionType):
        return st.one_of(*(_strategy(a) for a in typing.get_args(tp)))
    if origin is list:
        return st.lists(_strategy(typing.get_args(tp)[0]), max_size=3)
    if isinstance(tp, type) and issubclass(tp, msgspec.Struct):
        return struct_strategy(tp)
    raise AssertionError(f"no strategy for {tp!r}")


def struct_strategy(cls: type[msgspec.Struct]) -> st.SearchStrategy[Any]:
    fields = {f.name: _strategy(f.type) for f in msgspec.structs.fields(cls)}
    return st.builds(cls, **fields)


requests_st = st.one_of(*(struct_strategy(t) for t in CLIENT_REQUEST_TYPES))
_EVENT_TYPES: tuple[type[msgspec.Struct], ...] = (*SERVER_EVENT_TYPES, Error)
events_st = st.one_of(*(struct_strategy(t) for t in _EVENT_TYPES))


@settings(max_examples=400, deadline=None)
@given(req=requests_st)
def test_requests_round_trip(req: msgspec.Struct) -> None:
    line = encode(req)
    assert line.count(b"\n") == 1  # JSON escapes every newline inside strings
    assert decode_request(line[:-1]) == req


@settings(max_examples=400, deadline=None)
@given(ev=events_st)
def test_events_round_trip(ev: msgspec.Struct) -> None:
    line = encode(ev)
    assert line.count(b"\n") == 1
    assert decode_server_line(line[:-1]) == ev


@settings(max_examples=300, deadline=None)
@given(data=st.data(), cls=st.sampled_from(OK_REPLY_TYPES))
def test_replies_round_trip(data: st.DataObject, cls: type[Any]) -> None:
    reply = data.draw(struct_strategy(cls))
    line = encode(reply)
    assert json.loads(line)["type"] == "ok"
    assert decode_reply(line[:-1], cls) == reply


def test_history_with_is_spelt_with_on_the_wire() -> None:
    assert b'"with":"b"' in encode(History(with_="b"))
