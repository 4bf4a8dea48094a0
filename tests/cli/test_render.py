"""Events and replies as terminal lines, and the state the CLI keeps: pure, no server."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from chinwag_protocol.codec import decode_server_line
from chinwag_protocol.connection import ServerError
from chinwag_protocol.messages import (
    Error,
    Joined,
    JoinOk,
    Left,
    Message,
    NickChanged,
    Notice,
    Ok,
    PingEvent,
    Private,
    RoomInfo,
    TopicChanged,
)
from cli_client import render
from cli_client.state import ChatState

NOW = datetime(2026, 11, 24, 14, 3, 30, tzinfo=UTC)
TS = "2026-11-24T14:03:59.999Z"


def msg(text: str, sender: str = "alice", room: str = "lobby") -> Message:
    return Message(room=room, from_=sender, text=text, ts=TS, msg_id="000000000001")


def test_clock_is_local_time_of_the_timestamp() -> None:
    assert render.clock(TS, tz=UTC) == "14:03"
    assert render.clock(TS, tz=timezone(timedelta(hours=2))) == "16:03"
    assert render.clock(now=NOW, tz=UTC) == "14:03"
    assert render.clock("garbage", now=NOW, tz=UTC) == "14:03"  # unreadable ts: time of arrival


def test_room_and_private_messages() -> None:
    assert render.event(msg("hi"), "bob", tz=UTC) == ["14:03 [lobby] <alice> hi"]
    dm = Private(from_="bob", to="alice", text="psst", ts=TS, msg_id="2")
    assert render.event(dm, "alice", tz=UTC) == ["14:03 *bob* psst"]
    assert render.event(dm, "BOB", tz=UTC) == ["14:03 -> *alice* psst"]


def test_multiline_text_is_indented_and_escapes_are_dropped() -> None:
    lines = render.event(msg("one\r\ntwo\n\x1b[31mred\x07\tend"), "bob", tz=UTC)
    assert lines == [
        "14:03 [lobby] <alice> one",
        "                      two",
        "                      [31mred end",
    ]
    assert render.clean("a\u202eb\u200dc\x85d") == "ab\u200dcd"  # bidi override, C1 control


def test_presence_and_system_events() -> None:
    def one(ev: object, me: str | None = "me") -> list[str]:
        return render.event(ev, me, now=NOW, tz=UTC)  # type: ignore[arg-type]

    assert one(Joined(room="lobby", nick="bob")) == ["14:03 -- bob joined lobby"]
    assert one(Left(room="lobby", nick="bob")) == ["14:03 -- bob left lobby"]
    assert one(Left(room="lobby", nick="bob", reason="bye")) == ["14:03 -- bob left lobby (bye)"]
    assert one(NickChanged(old="alice", new="alicia")) == ["14:03 -- alice is now alicia"]
    assert one(TopicChanged(room="lobby", topic="news", by="x")) == [
        "14:03 -- topic of lobby: news (set by x)"
    ]
    assert one(TopicChanged(room="lobby", topic="", by="x")) == ["14:03 -- lobby has no topic"]
    assert one(Notice(text="server shutting down", code="shutdown")) == [
        "14:03 -- server shutting down"
    ]
    assert one(PingEvent()) == []
    assert one(ServerError("bad_frame", "not JSON")) == ["!! bad_frame: not JSON"]


def test_extension_events_render_by_tag() -> None:
    """Events added by protocol extensions print readably without code changes here."""
    kicked = decode_server_line(
        b'{"type":"kicked","room":"dev","nick":"me","by":"op","reason":"spam"}'
    )
    assert not isinstance(kicked, Ok | Error)
    assert render.event(kicked, "me", now=NOW, tz=UTC) == [
        "14:03 -- you were kicked from dev by op: spam"
    ]
    member = decode_server_line(
        b'{"type":"member","room":"dev","nick":"bob","by":"op","action":"voice"}'
    )
    assert not isinstance(member, Ok | Error)
    assert render.event(member, "me", now=NOW, tz=UTC) == ["14:03 -- op gave bob a voice in dev"]
    st = ChatState(nick="me")
    st.joined("dev", "")
    st.apply(kicked)
    assert "dev" not in st.rooms


def test_join_reply_shows_history_topic_and_members() -> None:
    ok = JoinOk(room="dev", topic="dev talk", members=["zoe", "alice", "Bob"], history=[msg("old")])
    assert render.joined_room(ok, "alice", now=NOW, tz=UTC) == [
        "14:03 [lobby] <alice> old",
        "14:03 -- joined dev",
        "14:03 -- topic of dev: dev talk",
        "14:03 -- members of dev (3): alice, Bob, zoe",
    ]


def test_room_list_and_errors() -> None:
    rooms = [
        RoomInfo(name="lobby", topic="hi", members=3),
        RoomInfo(name="dev", topic="", members=12),
    ]
    assert render.room_list(rooms, now=NOW, tz=UTC) == [
        "14:03 -- 2 rooms:",
        "14:03 --   lobby     3  hi",
        "14:03 --   dev      12",
    ]
    assert render.room_list([], now=NOW, tz=UTC) == ["14:03 -- no rooms"]
    assert render.error("nick_taken", "the nick bob is taken") == [
        "!! nick_taken: the nick bob is taken"
    ]


def current(st: ChatState) -> str | None:
    """Read through a call, so mypy's narrowing of earlier asserts does not stick."""
    return st.current


def test_state_follows_joins_parts_topics_and_nick() -> None:
    st = ChatState(nick="alice")
    st.joined("lobby", "")
    st.joined("dev", "dev talk")
    assert st.current == "dev"
    st.apply(TopicChanged(room="lobby", topic="news", by="bob"))
    assert (st.rooms["lobby"].topic, st.rooms["lobby"].topic_by) == ("news", "bob")
    st.apply(TopicChanged(room="elsewhere", topic="x", by="bob"))  # not ours: ignored
    assert "elsewhere" not in st.rooms
    st.apply(NickChanged(old="ALICE", new="alicia"))
    assert st.nick == "alicia"
    st.apply(NickChanged(old="bob", new="robert"))
    assert st.nick == "alicia"
    st.parted("dev")
    assert st.current == "lobby"
    st.apply(Left(room="lobby", nick="alicia"))
    assert current(st) is None
    assert not st.rooms
    assert not st.shutting_down
    st.apply(Notice(text="bye", code="shutdown"))
    assert st.shutting_down


def test_actions_render_as_star_lines() -> None:
    from chinwag_protocol.messages import Message, Private

    line = render.room_message(
        Message(
            room="lobby", from_="alice", text="/me waves", ts="2026-11-24T13:45:01.123Z", msg_id="1"
        ),
        tz=UTC,
    )
    assert line == ["13:45 [lobby] * alice waves"]
    dm = render.private_message(
        Private(
            from_="bob", to="alice", text="/me nods", ts="2026-11-24T13:45:01.123Z", msg_id="2"
        ),
        "alice",
        tz=UTC,
    )
    assert dm == ["13:45 * bob nods"]
