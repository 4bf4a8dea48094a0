"""The sans-I/O connection state machines of both ends."""

from __future__ import annotations

import json

from chinwag_protocol.codec import encode
from chinwag_protocol.connection import (
    ClientConnection,
    ReplyReceived,
    ServerConnection,
    ServerError,
)
from chinwag_protocol.messages import (
    Error,
    Hello,
    HelloOk,
    History,
    HistoryOk,
    Join,
    Joined,
    JoinOk,
    Message,
    Ok,
    Ping,
    Pong,
    Rooms,
    RoomsOk,
    Say,
    SentOk,
)


def replies(conn: ServerConnection) -> list[dict[str, object]]:
    return [json.loads(line) for line in conn.data_to_send().splitlines()]


def drain(conn: ServerConnection) -> list[object]:
    out: list[object] = []
    while (req := conn.next_request()) is not None:
        out.append(req)
    return out


# ---- ServerConnection -------------------------------------------------------


def test_requests_before_hello_get_not_registered() -> None:
    conn = ServerConnection()
    conn.receive_data(b'{"type":"join","id":1,"room":"x"}\n{"type":"say","room":"x","text":"a"}\n')
    assert drain(conn) == []
    got = replies(conn)
    assert [r["code"] for r in got] == ["not_registered", "not_registered"]
    assert got[0]["id"] == 1 and "id" not in got[1]
    assert conn.data_to_send() == b""


def test_pong_before_hello_is_ignored_silently() -> None:
    conn = ServerConnection()
    conn.receive_data(b'{"type":"pong"}\n')
    assert drain(conn) == []
    assert conn.data_to_send() == b""


def test_pipelined_hello_and_join_in_one_packet() -> None:
    conn = ServerConnection()
    conn.receive_data(
        b'{"type":"hello","id":1,"nick":"a","protocol":1}\n{"type":"join","id":2,"room":"x"}\n'
    )
    assert conn.backlog == 2
    first = conn.next_request()
    assert isinstance(first, Hello)
    conn.registered = True  # what the server does once it accepts the hello
    assert conn.next_request() == Join(id=2, room="x")
    assert conn.next_request() is None
    assert conn.data_to_send() == b""


def test_bad_lines_become_queued_errors_in_order() -> None:
    conn = ServerConnection(max_line=64)
    conn.registered = True
    conn.receive_data(
        b"garbage\n"
        + b"x" * 100
        + b'\n{"type":"nope","id":5}\n\xff\n[1]\n{"type":"ping","id":6}\n{"type":"rooms","id":7}\n'
    )
    assert conn.next_request() == Ping(id=6)
    got = replies(conn)
    assert [r["code"] for r in got] == [
        "bad_frame",
        "too_long",
        "unknown_type",
        "bad_frame",
        "bad_request",
    ]
    assert got[2]["id"] == 5
    assert all(r["type"] == "error" and r["message"] for r in got)
    assert conn.protocol_errors == 5
    assert conn.next_request() == Rooms(id=7)


def test_eof_flushes_last_unterminated_line() -> None:
    conn = ServerConnection()
    conn.registered = True
    conn.receive_data(b'{"type":"ping","id":1}')
    assert conn.next_request() is None
    conn.receive_eof()
    assert conn.next_request() == Ping(id=1)


# ---- ClientConnection --------------------------------------------------------


def test_client_numbers_requests_and_matches_typed_replies() -> None:
    c = ClientConnection()
    hello, data = c.request(Hello(nick="a", protocol=1))
    join, _ = c.request(Join(room="lobby"))
    say, _ = c.request(Say(room="lobby", text="hi"))
    assert (hello.id, join.id, say.id) == (1, 2, 3)
    assert json.loads(data)["id"] == 1
    assert c.pending == 3
    msg = Message(room="lobby", from_="b", text="x", ts="t", msg_id="000000000001")
    wire = (
        encode(SentOk(id=3, msg_id="000000000002", ts="t"))  # out of order: durability
        + encode(HelloOk(id=1, nick="a", server="s", protocol=1))
        + encode(Joined(room="lobby", nick="b"))
        + encode(JoinOk(id=2, room="lobby", topic="", members=["a"], history=[msg]))
    )
    events = c.receive_data(wire)
    assert c.pending == 0
    assert isinstance(events[0], ReplyReceived) and events[0].request is say
    assert events[0].reply == SentOk(id=3, msg_id="000000000002", ts="t")
    assert isinstance(events[1], ReplyReceived) and isinstance(events[1].reply, HelloOk)
    assert events[2] == Joined(room="lobby", nick="b")
    assert isinstance(events[3], ReplyReceived) and events[3].ok
    assert events[3].reply == JoinOk(id=2, room="lobby", topic="", members=["a"], history=[msg])


def test_client_keeps_given_string_ids() -> None:
    c = ClientConnection()
    req, _ = c.request(Rooms(id="r1"))
    assert req.id == "r1"
    (ev,) = c.receive_data(encode(RoomsOk(id="r1", rooms=[])))
    assert isinstance(ev, ReplyReceived) and ev.reply == RoomsOk(id="r1", rooms=[])


def test_client_error_reply_matched() -> None:
    c = ClientConnection()
    req, _ = c.request(History(room="x"))
    (ev,) = c.receive_data(encode(Error(id=req.id, code="no_such_room", message="no")))
    assert isinstance(ev, ReplyReceived) and not ev.ok
    assert ev.reply == Error(id=1, code="no_such_room", message="no")
    assert c.pending == 0


def test_client_reports_unmatched_and_unreadable_lines() -> None:
    c = ClientConnection()
    events = c.receive_data(
        encode(Error(code="bad_frame", message="bad"))
        + encode(Ok(id=99))
        + b"not json\n"
        + b'{"type":"surprise"}\n'
    )
    assert all(isinstance(e, ServerError) for e in events)
    assert [e.code for e in events if isinstance(e, ServerError)] == [
        "bad_frame",
        "bad_frame",
        "bad_frame",
        "bad_frame",
    ]


def test_client_reply_of_wrong_shape_is_an_error_event() -> None:
    c = ClientConnection()
    c.request(History(room="x"))
    # an ok without `messages` cannot be a HistoryOk: reported, never raised
    (ev,) = c.receive_data(b'{"type":"ok","id":1}\n')
    assert isinstance(ev, ServerError) and ev.code == "bad_frame"


def test_client_send_without_reply() -> None:
    c = ClientConnection()
    assert c.send(Pong()) == b'{"type":"pong"}\n'
    assert c.pending == 0
    _ = HistoryOk  # imported for the typed-reply table
