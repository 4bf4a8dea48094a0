"""Slowloris and flood clients running while normal clients keep chatting."""

from __future__ import annotations

import asyncio
import contextlib
import json
from pathlib import Path

from server.app import ChinwagServer
from tests.conftest import ServerFactory
from tests.helpers.wire import WireClient
from tests.security.certs import make_cert

CHAT_MESSAGES = 100


async def chat_pair(srv: ChinwagServer) -> tuple[WireClient, WireClient]:
    alice = await WireClient.connect(srv.host, srv.port)
    bob = await WireClient.connect(srv.host, srv.port)
    await alice.hello("alice")
    await bob.hello("bob")
    await alice.ok("join", room="lobby")
    await bob.ok("join", room="lobby")
    return alice, bob


async def converse(alice: WireClient, bob: WireClient) -> None:
    """Alice says CHAT_MESSAGES lines, one at a time; bob must get every one, in order."""
    for i in range(CHAT_MESSAGES):
        assert (await alice.request("say", room="lobby", text=f"msg {i}", timeout=30))[
            "type"
        ] == "ok"
        msg = await bob.expect("message", room="lobby", timeout=30)
        assert (msg["from"], msg["text"]) == ("alice", f"msg {i}")


async def test_slowloris_connections_are_cut_while_others_chat(
    make_server: ServerFactory,
) -> None:
    # alice and bob wait while the dribblers are cut: an idle limit shorter than
    # that wait would (rightly) drop them, which is not what this test is about
    srv = await make_server(handshake_timeout=2.0, ping_interval=1.0, idle_timeout=15.0)
    alice, bob = await chat_pair(srv)
    dribblers = [await asyncio.open_connection(srv.host, srv.port) for _ in range(40)]
    hello = b'{"type":"hello","nick":"slow","protocol":1}'

    async def dribble(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bytes:
        """One byte of a hello every 100 ms, never the newline: what does the server say?"""
        with contextlib.suppress(ConnectionError):
            for byte in hello * 10:
                writer.write(bytes([byte]))
                await writer.drain()
                await asyncio.sleep(0.1)
                if reader.at_eof():
                    break
        with contextlib.suppress(ConnectionError):
            return await asyncio.wait_for(reader.read(), 30)
        return b""

    tasks = [asyncio.create_task(dribble(r, w)) for r, w in dribblers]
    await converse(alice, bob)
    answers = await asyncio.gather(*tasks)
    for answer in answers:  # all closed, after the notice (half-close lets them read it)
        notices = [json.loads(line) for line in answer.splitlines() if line.strip()]
        assert notices in ([], [{"type": "notice", "text": "no hello in time; closing",
                                 "code": "handshake_timeout"}])  # fmt: skip
    assert srv.hub is not None and srv.hub.stats.disconnects["handshake_timeout"] == 40
    assert (await alice.request("ping"))["type"] == "ok"
    for _, w in dribblers:
        w.close()


async def test_idle_registered_connection_is_cut(make_server: ServerFactory) -> None:
    """A connection that said hello and then holds the socket silently is dropped."""
    srv = await make_server(ping_interval=1.0, idle_timeout=2.0)
    reader, writer = await asyncio.open_connection(srv.host, srv.port)
    writer.write(b'{"type":"hello","id":1,"nick":"sleeper","protocol":1}\n')
    data = await asyncio.wait_for(reader.read(), 30)  # never answers the ping
    codes = [json.loads(line).get("code") for line in data.splitlines()]
    assert codes[-1] == "idle_timeout"
    writer.close()


async def test_stalled_tls_handshakes_are_cut(make_server: ServerFactory, tmp_path: Path) -> None:
    cert = make_cert(tmp_path / "certs")
    srv = await make_server(
        tls_cert=str(cert.cert), tls_key=str(cert.key), tls_port=0, handshake_timeout=2.0
    )
    assert srv.tls_port is not None
    stalled = [await asyncio.open_connection(srv.host, srv.tls_port) for _ in range(10)]
    alice, bob = await chat_pair(srv)
    await converse(alice, bob)
    for reader, writer in stalled:  # sent nothing, not even a ClientHello
        with contextlib.suppress(ConnectionError):
            assert await asyncio.wait_for(reader.read(), 30) == b""
        writer.close()


async def test_flooders_do_not_disturb_normal_clients(make_server: ServerFactory) -> None:
    """Three kinds of flood at once: valid says far over the rate, garbage lines, and
    over-long lines, all sent without reading a single reply."""
    srv = await make_server(rate_requests=50, rate_burst=100, rate_strikes=50)
    alice, bob = await chat_pair(srv)
    floods: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
    for n in range(3):
        r, w = await asyncio.open_connection(srv.host, srv.port)
        w.write(
            json.dumps({"type": "hello", "nick": f"flood{n}", "protocol": 1}).encode()
            + b'\n{"type":"join","room":"lobby"}\n'
        )
        floods.append((r, w))
    say = b'{"type":"say","id":1,"room":"lobby","text":"spam spam spam"}\n'
    lines = [say * 200, b"}{ not json \xff\n" * 200, b"x" * 70_000 + b"\n"]
    stop = asyncio.Event()

    async def flood(w: asyncio.StreamWriter, chunk: bytes) -> None:
        with contextlib.suppress(ConnectionError):
            while not stop.is_set() and not w.is_closing():
                w.write(chunk)
                await w.drain()
                await asyncio.sleep(0)

    tasks = [
        asyncio.create_task(flood(w, chunk)) for (_, w), chunk in zip(floods, lines, strict=True)
    ]
    try:
        while bob.inbox:
            bob.inbox.pop()
        for i in range(CHAT_MESSAGES):  # bob sees alice's lines in order among the spam
            assert (await alice.request("say", room="lobby", text=f"msg {i}", timeout=30))[
                "type"
            ] == "ok"
            msg = await bob.expect("message", room="lobby", **{"from": "alice"}, timeout=30)
            assert msg["text"] == f"msg {i}"
    finally:
        stop.set()
        await asyncio.gather(*tasks)
    # the say flooder was thrown out for flooding; nobody else was
    assert srv.hub is not None
    assert srv.hub.stats.disconnects["rate_limited"] >= 1
    assert "alice" in srv.hub.nicks and "bob" in srv.hub.nicks
    for _, w in floods:
        w.close()
