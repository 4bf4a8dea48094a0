"""Hostile or broken input: a clear error, and nobody else notices."""

from __future__ import annotations

import asyncio
import contextlib
import socket

from tests.conftest import ClientFactory
from tests.helpers.wire import WireClient
from tests.server.waiting import eventually


async def room_pair(connect: ClientFactory, srv=None) -> tuple[WireClient, WireClient]:
    kw = {"srv": srv} if srv else {}
    a = await connect("alice", **kw)
    b = await connect("bob", **kw)
    await a.ok("join", room="lobby")
    await b.ok("join", room="lobby")
    await a.expect("joined", room="lobby", nick="bob")
    return a, b


async def assert_chat_works(a: WireClient, b: WireClient, text: str) -> None:
    await a.ok("say", room="lobby", text=text)
    assert (await b.expect("message", room="lobby"))["text"] == text


async def test_invalid_json_and_utf8(connect: ClientFactory) -> None:
    a, b = await room_pair(connect)
    evil = await connect("mallory")
    for raw in (
        b"this is not json\n",
        b'{"type":"say",\n',
        b"\xff\xfe\xfd\n",
        b'{"type":"say","room":"lobby","text":"\xc3\x28"}\n',
        b"[1,2,3]\n",
        b"[" * 5000 + b"\n",
    ):
        await evil.send_raw(raw)
        err = await evil.next()
        assert err["type"] == "error" and err["code"] in ("bad_frame", "bad_request"), err
        assert err["message"] and "Traceback" not in err["message"]
        assert "id" not in err
    assert (await evil.ok("ping"))["type"] == "ok"  # connection stays open
    await assert_chat_works(a, b, "unaffected")
    await a.silent(0.2, type="error")


async def test_bad_frame_before_hello(connect: ClientFactory) -> None:
    c = await connect()
    await c.send_raw(b"\x00\x01garbage\n")
    assert (await c.next())["code"] == "bad_frame"
    await c.hello("alice")


async def test_line_over_limit(make_server, connect: ClientFactory) -> None:
    srv = await make_server(max_line=1024, max_text=100_000)
    a, b = await room_pair(connect, srv)
    evil = await connect("mallory", srv=srv)
    await evil.ok("join", room="lobby")
    huge = b'{"type":"say","id":1,"room":"lobby","text":"' + b"x" * 50_000 + b'"}\n'
    await evil.send_raw(huge)
    err = await evil.next()
    assert err["type"] == "error" and err["code"] == "too_long" and "id" not in err
    # the line is discarded, not delivered; the connection carries on
    await evil.ok("ping")
    # a line of exactly the limit is accepted
    head = b'{"type":"say","id":"edge","room":"lobby","text":"'
    tail = b'"}'
    exact = head + b"y" * (1024 - len(head) - len(tail)) + tail
    assert len(exact) == 1024
    evil._sent_types["edge"] = "say"
    await evil.send_raw(exact + b"\n")
    assert (await evil.reply("edge"))["type"] == "ok"
    for mate in (a, b):
        msg = await mate.expect("message", room="lobby")
        assert msg["from"] == "mallory" and set(msg["text"]) == {"y"}
    await assert_chat_works(a, b, "still fine")


async def test_endless_line_does_not_grow_memory(make_server, connect: ClientFactory) -> None:
    srv = await make_server(max_line=1024)
    a, b = await room_pair(connect, srv)
    evil = await connect("mallory", srv=srv)
    for _ in range(200):  # 1 MB without a newline
        await evil.send_raw(b"z" * 5000)
    assert (await evil.next())["code"] == "too_long"
    session = next(s for s in srv.hub.sessions if s.nick == "mallory")
    assert session.proto._decoder.buffered <= 1024
    await evil.send_raw(b"\n")
    await evil.ok("ping")
    await evil.silent(0.2, type="error")  # one error for the whole line
    await assert_chat_works(a, b, "unaffected")


async def test_abrupt_disconnect_mid_line(connect: ClientFactory) -> None:
    a, b = await room_pair(connect)
    evil = await connect("mallory")
    await evil.ok("join", room="lobby")
    await evil.send_raw(b'{"type":"say","room":"lobby","te')
    sock = evil.writer.get_extra_info("socket")
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    evil.writer.transport.abort()  # RST
    await a.expect("left", room="lobby", nick="mallory")
    await assert_chat_works(a, b, "after reset")


async def test_slow_reader_is_disconnected_others_get_everything(
    make_server, connect: ClientFactory
) -> None:
    srv = await make_server(max_send_buffer=64 * 1024, max_text=60_000)
    sender = await connect("sender", srv=srv)
    reader = await connect("reader", srv=srv)
    # the slow client: a tiny receive window and it never reads
    raw = socket.socket()
    raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    raw.setblocking(False)
    await asyncio.get_running_loop().sock_connect(raw, (srv.host, srv.port))
    slow_r, slow_w = await asyncio.open_connection(sock=raw, limit=1 << 20)
    slow = WireClient(slow_r, slow_w)
    await slow.hello("slowpoke")
    await slow.ok("join", room="lobby")
    slow_r._transport.pause_reading()  # type: ignore[attr-defined]
    for c in (sender, reader):
        await c.ok("join", room="lobby")
    await sender.expect("joined", room="lobby", nick="reader")

    text = "x" * 50_000
    sent = 0
    received = 0
    dropped = False
    reader_saw_left: list[dict[str, object]] = []

    async def read_all() -> None:
        nonlocal received
        while True:
            msg = await reader.next(timeout=10)
            if msg["type"] == "message":
                received += 1
            elif msg["type"] == "left":
                reader_saw_left.append(msg)

    reading = asyncio.create_task(read_all())
    try:
        while sent < 2000 and not dropped:
            await sender.ok("say", room="lobby", text=text)
            sent += 1
            dropped = all(s.nick != "slowpoke" for s in srv.hub.sessions)
        assert dropped, f"slow reader still connected after {sent} messages"
        # a few more after the drop, then everyone left got every message
        for _ in range(5):
            await sender.ok("say", room="lobby", text="after the drop")
            sent += 1
        await eventually(lambda: received >= sent)
    finally:
        reading.cancel()
        with contextlib.suppress(asyncio.CancelledError, TimeoutError):
            await reading
        slow_w.close()
    assert received == sent
    assert [m["nick"] for m in reader_saw_left] == ["slowpoke"]
    left = await sender.expect("left", room="lobby", nick="slowpoke")
    assert "send buffer" in left["reason"]
    assert srv.hub.stats.disconnects["send_buffer_full"] == 1
