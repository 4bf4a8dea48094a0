"""The codec: every request round-trips; every failure gets its precise code."""

from __future__ import annotations

import json

import msgspec
import pytest

from chinwag_protocol import messages as msgs
from chinwag_protocol.codec import (
    decode_reply,
    decode_request,
    decode_server_line,
    encode,
    encode_many,
)
from chinwag_protocol.errors import ErrorCode, FrameError, ProtocolError, RequestError
from chinwag_protocol.messages import (
    CLIENT_REQUEST_TYPES,
    Error,
    Hello,
    HelloOk,
    History,
    HistoryOk,
    Join,
    Message,
    Msg,
    Nick,
    NickChanged,
    Notice,
    Ok,
    Part,
    Ping,
    Pong,
    Private,
    Quit,
    Rooms,
    Say,
    SentOk,
    Topic,
    TopicChanged,
    Who,
)

SAMPLE_REQUESTS = [
    Hello(id=1, nick="alice", protocol=1, client="test/1", password="pw"),
    Join(id="j", room="lobby", key="k"),
    Part(id=3, room="lobby", reason="bye"),
    Say(id=4, room="lobby", text="hi\nthere"),
    Msg(id=5, to="bob", text="psst"),
    Topic(id=6, room="lobby", topic="t"),
    Rooms(id=7),
    Who(id=8, room="lobby"),
    History(id=9, room="lobby", before="000000000001", limit=5),
    History(id=10, with_="bob", after="000000000002"),
    Nick(id=11, nick="alice2"),
    Ping(id=12),
    Pong(),
    Quit(id=14, reason="done"),
    # accounts and room permissions
    msgs.Register(id=15, password="correct horse", nick="alice"),
    msgs.Password(id=16, old="a", new="b"),
    msgs.Mode(id=17, room="lobby", invite_only=True, key=""),
    msgs.Invite(id=18, room="lobby", nick="bob"),
    msgs.Kick(id=19, room="lobby", nick="bob", reason="spam"),
    msgs.Ban(id=20, room="lobby", account="bob"),
    msgs.Unban(id=21, room="lobby", nick="bob"),
    msgs.Op(id=22, room="lobby", nick="bob"),
    msgs.Deop(id=23, room="lobby", nick="bob"),
    msgs.Voice(id=24, room="lobby", nick="bob"),
    msgs.Devoice(id=25, room="lobby", nick="bob"),
    msgs.Mute(id=26, room="lobby", nick="bob"),
    msgs.Unmute(id=27, room="lobby", nick="bob"),
]


def test_samples_cover_every_request_type() -> None:
    assert {type(r) for r in SAMPLE_REQUESTS} == set(CLIENT_REQUEST_TYPES)


@pytest.mark.parametrize("req", SAMPLE_REQUESTS, ids=lambda r: type(r).__name__)
def test_request_round_trip(req: msgspec.Struct) -> None:
    line = encode(req)
    assert line.endswith(b"\n") and line.count(b"\n") == 1
    assert decode_request(line[:-1]) == req


def test_wire_names() -> None:
    obj = json.loads(encode(History(id=1, with_="bob")))
    assert obj == {"type": "history", "id": 1, "with": "bob"}
    msg = json.loads(encode(Message(room="r", from_="a", text="t", ts="x", msg_id="1")))
    assert msg["from"] == "a" and "from_" not in msg
    assert json.loads(encode(Pong())) == {"type": "pong"}  # defaults omitted


def test_extra_fields_are_ignored() -> None:
    req = decode_request(b'{"type":"join","id":1,"room":"x","future":[1,2]}')
    assert req == Join(id=1, room="x")


def test_encode_many() -> None:
    data = encode_many([Ping(id=1), Pong()])
    assert data == b'{"type":"ping","id":1}\n{"type":"pong"}\n'


def expect(line: bytes, code: ErrorCode, rid: object = None) -> ProtocolError:
    with pytest.raises(ProtocolError) as info:
        decode_request(line)
    err = info.value
    assert err.code is code, err
    assert err.message
    if isinstance(err, RequestError):
        assert err.request_id == rid
    return err


@pytest.mark.parametrize(
    "line",
    [
        b"not json",
        b'{"type":"ping"',
        b'{"type":"ping"}}',
        b"\xff\xfe{}",
        b'{"type":"say","room":"r","text":"\xc3\x28"}',
        b"[" * 100_000,
        b"",
    ],
    ids=[
        "garbage",
        "truncated",
        "trailing",
        "bad-utf8-start",
        "bad-utf8-in-string",
        "deep",
        "empty",
    ],
)
def test_bad_frame(line: bytes) -> None:
    err = expect(line, ErrorCode.BAD_FRAME)
    assert isinstance(err, FrameError)


@pytest.mark.parametrize("line", [b"[1,2]", b"42", b'"type"', b"null", b"true"])
def test_non_object_is_bad_request(line: bytes) -> None:
    expect(line, ErrorCode.BAD_REQUEST)


def test_missing_or_non_string_type() -> None:
    expect(b'{"id":7}', ErrorCode.BAD_REQUEST, 7)
    expect(b'{"id":"x","type":5}', ErrorCode.BAD_REQUEST, "x")


def test_unknown_type_recovers_id() -> None:
    err = expect(b'{"type":"dance","id":"abc"}', ErrorCode.UNKNOWN_TYPE, "abc")
    assert "dance" in err.message
    # event names are not requests either
    expect(b'{"type":"message","id":3}', ErrorCode.UNKNOWN_TYPE, 3)


def test_unknown_type_message_is_short() -> None:
    err = expect(json.dumps({"type": "x" * 10_000, "id": 1}).encode(), ErrorCode.UNKNOWN_TYPE, 1)
    assert len(err.message) < 100


@pytest.mark.parametrize(
    ("line", "rid"),
    [
        (b'{"type":"say","id":4,"room":"lobby"}', 4),
        (b'{"type":"say","id":4,"room":"lobby","text":5}', 4),
        (b'{"type":"hello","id":"h","nick":"a","protocol":"1"}', "h"),
        (b'{"type":"history","id":9,"limit":"lots"}', 9),
        (b'{"type":"join","room":"x","id":[1]}', None),
        (b'{"type":"join","room":"x","id":true}', None),
        (b'{"type":"join","room":"x","id":1.5}', None),
    ],
)
def test_bad_request_with_id_recovery(line: bytes, rid: object) -> None:
    expect(line, ErrorCode.BAD_REQUEST, rid)


def test_error_names_request_type_without_internals() -> None:
    err = expect(b'{"type":"say","id":1,"room":"r"}', ErrorCode.BAD_REQUEST, 1)
    assert err.message.startswith("say:")
    assert "Traceback" not in err.message


def test_server_lines_decode() -> None:
    ev = Notice(text="bye", code="shutdown")
    assert decode_server_line(encode(ev)[:-1]) == ev
    err = Error(id=3, code="bad_nick", message="no")
    assert decode_server_line(encode(err)[:-1]) == err
    ok = decode_server_line(b'{"type":"ok","id":1,"msg_id":"000000000001","ts":"t"}')
    assert ok == Ok(id=1)
    for ev2 in (
        NickChanged(old="a", new="b"),
        TopicChanged(room="r", topic="t", by="a"),
        Private(from_="a", to="b", text="x", ts="t", msg_id="000000000001"),
    ):
        assert decode_server_line(encode(ev2)[:-1]) == ev2


def test_server_line_errors_are_frame_errors() -> None:
    for line in (b"nope", b'{"type":"dance"}', b'{"type":"message","room":"r"}', b"\xff"):
        with pytest.raises(FrameError) as info:
            decode_server_line(line)
        assert info.value.code is ErrorCode.BAD_FRAME


def test_decode_reply_typed() -> None:
    line = encode(SentOk(id=1, msg_id="000000000001", ts="t"))[:-1]
    assert decode_reply(line, SentOk) == SentOk(id=1, msg_id="000000000001", ts="t")
    hist = HistoryOk(
        id=2,
        messages=[
            Message(room="r", from_="a", text="x", ts="t", msg_id="000000000001"),
            Private(from_="a", to="b", text="y", ts="t", msg_id="000000000002"),
        ],
    )
    assert decode_reply(encode(hist)[:-1], HistoryOk) == hist
    with pytest.raises(FrameError):
        decode_reply(b'{"type":"ok","id":1}', HelloOk)
