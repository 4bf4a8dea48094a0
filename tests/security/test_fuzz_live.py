"""Hypothesis fuzzing of a live server over real sockets.

One server runs (in its own thread and event loop) for the whole module, with
two bystanders chatting in ``lobby``.  Each example opens a fresh connection,
throws random bytes or structurally invalid frames at it, then checks:

* the fuzzed connection still answers ``ping`` (no crash, no hang), unless the
  example legitimately closed it (a ``quit``), in which case a new connection must;
* every line the server sent anyone is a valid server message (schema);
* the bystanders are not disturbed: a fresh message from one reaches the other.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chinwag_protocol.messages import CLIENT_REQUEST_TYPES
from server.app import ChinwagServer
from server.config import Settings
from tests.helpers.wire import check_server_message

TIMEOUT = 15.0
MAX_LINE = 4096
REQUEST_TAGS = [str(t.__struct_config__.tag) for t in CLIENT_REQUEST_TYPES]
REQUEST_FIELDS = sorted(
    {f.encode_name for t in CLIENT_REQUEST_TYPES for f in msgspec.structs.fields(t)} | {"from"}
)
_counter = itertools.count()


class LineSocket:
    """A blocking line client that schema-checks everything it reads."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)
        self.buf = b""

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def send_json(self, **fields: Any) -> None:
        self.send(json.dumps(fields).encode() + b"\n")

    def read(self) -> dict[str, Any] | None:
        """The next message, or None at EOF."""
        while b"\n" not in self.buf:
            try:
                chunk = self.sock.recv(65536)
            except ConnectionResetError:
                return None
            if not chunk:
                return None
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        msg = json.loads(line)
        assert isinstance(msg, dict), line
        check_server_message(msg)
        if msg["type"] == "ping":
            self.send_json(type="pong")
        return msg

    def until(self, **match: Any) -> dict[str, Any] | None:
        while True:
            msg = self.read()
            if msg is None or all(msg.get(k) == v for k, v in match.items()):
                return msg

    def close(self) -> None:
        self.sock.close()


class LiveServer:
    def __init__(self, data_dir: Path) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        cfg = Settings(
            port=0, data_dir=data_dir, history_sync="normal", max_line=MAX_LINE
        ).validate()
        self.server = ChinwagServer(cfg)
        self.call(self.server.start())
        self.port = self.server.port

    def call(self, coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(60)

    def close(self) -> None:
        self.call(self.server.close())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer, Any]]:
    srv = LiveServer(tmp_path_factory.mktemp("fuzz") / "data")
    talker, listener = LineSocket(srv.port), LineSocket(srv.port)
    for c, nick in ((talker, "talker"), (listener, "listener")):
        c.send_json(type="hello", id=1, nick=nick, protocol=1)
        assert c.until(id=1) is not None
        c.send_json(type="join", id=2, room="lobby")
        assert (c.until(id=2) or {}).get("type") == "ok"
    yield srv, (talker, listener)
    talker.close()
    listener.close()
    srv.close()


def check_alive_and_undisturbed(live: tuple[LiveServer, Any], fuzzed: LineSocket) -> None:
    srv, (talker, listener) = live
    n = next(_counter)
    fuzzed.send_json(type="ping", id=f"probe{n}")
    reply = fuzzed.until(id=f"probe{n}")
    if reply is None:  # the example closed its own connection (quit): the server must not be
        fresh = LineSocket(srv.port)
        fresh.send_json(type="hello", id="h", nick=f"fresh{n}", protocol=1)
        reply = fresh.until(id="h")
        fresh.close()
    assert reply is not None, "no answer"
    answered = reply["type"] == "ok" or reply.get("code") == "not_registered"
    assert answered, reply
    text = f"still chatting {n}"
    talker.send_json(type="say", id=f"s{n}", room="lobby", text=text)
    assert (talker.until(id=f"s{n}") or {}).get("type") == "ok"
    msg = listener.until(type="message", text=text)
    assert msg is not None and msg["from"] == "talker"
    assert srv.server.hub is not None and not srv.server.hub.stats.disconnects.get("internal")


def fuzz_connection(live: tuple[LiveServer, Any], payload: bytes, *, hello: bool) -> None:
    srv, _ = live
    c = LineSocket(srv.port)
    try:
        if hello:
            nick = f"fz{next(_counter)}"
            c.send_json(type="hello", id="hello", nick=nick, protocol=1)
            assert (c.until(id="hello") or {}).get("type") == "ok"
        c.send(payload + b"\n")
        check_alive_and_undisturbed(live, c)
    finally:
        c.close()


# ---- strategies ------------------------------------------------------------------

weird_text = st.one_of(
    st.text(max_size=40),
    st.sampled_from(
        [
            "",
            " ",
            "\u202e",
            "\u200b",
            "\x00",
            "\ud800",
            "\ufffd",
            "e\u0301" * 10,
            "x" * 5000,
            "lobby",
            "talker",
            "listener",
            "../../etc/passwd",
            "'; DROP TABLE messages; --",
            "%s%n",
        ]
    ),
)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False),
    weird_text,
)
json_values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


@st.composite
def mutated_requests(draw: st.DrawFn) -> bytes:
    """A request of every known (and some unknown) type with random or missing fields."""
    obj: dict[str, Any] = {}
    if draw(st.booleans()):
        obj["type"] = draw(st.sampled_from([*REQUEST_TAGS, "ok", "message", "error", "TYPE"]))
    else:
        obj["type"] = draw(json_values)
    for name in draw(st.lists(st.sampled_from(REQUEST_FIELDS), max_size=6, unique=True)):
        obj[name] = draw(json_values)
    if obj.get("type") == "quit" and draw(st.booleans()):
        obj["type"] = "ping"
    return json.dumps(obj, ensure_ascii=draw(st.booleans())).encode("utf-8", "surrogatepass")


EDGE_FRAMES = [
    b"[" * 3000 + b"]" * 3000,
    b'{"a":' * 1500 + b"1" + b"}" * 1500,
    b'{"type":"ping","id":' + b"9" * 400 + b"}",
    b'{"type":"ping","id":1e999}',
    b'{"type":"ping","id":-0.0}',
    b'{"type":"say","room":"lobby","text":"\\ud800"}',
    b'{"type":"say","room":"lobby","text":"a","text":"b"}',
    b'{"type":"hello","nick":"x","protocol":1}' * 3,
    b"\xef\xbb\xbf" + b'{"type":"ping"}',
    b"\xff\xfe\x00\x00",
    b"\x00" * 100,
    b"\r\r\r\n\n\n",
    b"x" * (MAX_LINE + 10),
    b'{"type":"history","room":"lobby","limit":99999999999999999999}',
    b'{"type":"history","with":"talker","before":"' + b"9" * 100 + b'"}',
    b"null",
    b"[]",
    b'"type"',
    b"{}",
]
edge_frames = st.sampled_from(EDGE_FRAMES)

FUZZ = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    derandomize=False,
)


@FUZZ
@given(payload=st.binary(max_size=2000), hello=st.booleans())
def test_random_bytes(live: tuple[LiveServer, Any], payload: bytes, hello: bool) -> None:
    fuzz_connection(live, payload, hello=hello)


@FUZZ
@given(
    frames=st.lists(st.one_of(mutated_requests(), edge_frames), min_size=1, max_size=8),
    hello=st.booleans(),
)
def test_structured_invalid_frames(
    live: tuple[LiveServer, Any], frames: list[bytes], hello: bool
) -> None:
    fuzz_connection(live, b"\n".join(frames), hello=hello)


@pytest.mark.parametrize("frame", EDGE_FRAMES)
def test_every_edge_frame(live: tuple[LiveServer, Any], frame: bytes) -> None:
    fuzz_connection(live, frame, hello=True)
