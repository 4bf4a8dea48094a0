"""Transport abuse limits from the outside: request and byte rates, connections per address."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import pytest

from server.config import ConfigError, Settings
from server.limits import AddressCounter, TokenBucket, peer_address
from tests.conftest import ServerFactory
from tests.helpers.wire import WireClient


async def connect(srv: object, nick: str | None = None) -> WireClient:
    c = await WireClient.connect(srv.host, srv.port)  # type: ignore[attr-defined]
    if nick is not None:
        await c.hello(nick)
    return c


def pings(first: int, count: int) -> bytes:
    return b"".join(
        json.dumps({"type": "ping", "id": i}).encode() + b"\n" for i in range(first, first + count)
    )


async def replies(client: WireClient, ids: range) -> dict[int, dict[str, object]]:
    """The replies to every id in ``ids`` (in whatever order they come)."""
    got: dict[int, dict[str, object]] = {}
    while len(got) < len(ids):
        msg = await client.next(timeout=10)
        if msg.get("id") in ids:
            got[msg["id"]] = msg
    return got


# ---- token bucket and counter (pure) ------------------------------------------


def test_token_bucket_allows_the_burst_then_the_rate() -> None:
    bucket = TokenBucket(rate=2.0, capacity=3)
    t0 = bucket.stamp
    assert [bucket.take(now=t0) for _ in range(4)] == [True, True, True, False]
    assert bucket.take(now=t0 + 0.5)  # half a second refills one token
    assert not bucket.take(now=t0 + 0.5)
    assert [bucket.take(now=t0 + 100) for _ in range(4)] == [True, True, True, False], "capped"


def test_token_bucket_debt_says_how_long_to_wait() -> None:
    bucket = TokenBucket(rate=100.0, capacity=100)
    t0 = bucket.stamp
    assert bucket.spend(50, now=t0) == 0
    assert bucket.spend(150, now=t0) == pytest.approx(1.0)
    assert bucket.spend(0, now=t0 + 1.0) == 0


def test_zero_rate_means_unlimited() -> None:
    bucket = TokenBucket(rate=0.0, capacity=0)
    assert all(bucket.take() for _ in range(10_000))
    assert bucket.spend(10**9) == 0


def test_address_counter(tmp_path: Path) -> None:
    s = Settings(max_connections_per_address=2, limit_exempt=("10.0.0.9",), data_dir=tmp_path)
    c = AddressCounter()
    assert c.admit("10.0.0.1", s) and c.admit("10.0.0.1", s)
    assert not c.admit("10.0.0.1", s)
    assert c.admit("10.0.0.2", s), "per address"
    assert all(c.admit("10.0.0.9", s) for _ in range(5)), "exempt"
    c.release("10.0.0.1")
    assert c.admit("10.0.0.1", s)
    c.release("10.0.0.1")
    c.release("10.0.0.1")
    c.release("10.0.0.2")
    assert not c.counts, "nothing left behind"


@pytest.mark.parametrize(
    "field",
    ["rate_requests", "rate_burst", "rate_strikes", "rate_bytes", "max_connections_per_address"],
)
def test_negative_limits_are_refused(field: str, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=field):
        Settings(data_dir=tmp_path, **{field: -1}).validate()  # type: ignore[arg-type]


# ---- request rate ----------------------------------------------------------------


async def test_requests_over_the_rate_are_dropped_with_rate_limited(
    make_server: ServerFactory,
) -> None:
    srv = await make_server(rate_requests=1, rate_burst=5, rate_strikes=0)
    c = await connect(srv, "flood")
    await c.send_raw(pings(1001, 50))
    got = await replies(c, range(1001, 1051))
    ok = [i for i, m in got.items() if m["type"] == "ok"]
    limited = [i for i, m in got.items() if m.get("code") == "rate_limited"]
    assert len(ok) + len(limited) == 50
    assert 4 <= len(ok) < 50 and limited, (ok, limited)
    assert ok[:4] == [1001, 1002, 1003, 1004], "the burst goes through first"
    assert all("slow down" in str(got[i]["message"]) for i in limited)
    # the connection stays usable: once the bucket refills, requests work again
    await asyncio.sleep(1.2)
    assert (await c.request("ping"))["type"] == "ok"


async def test_a_client_that_keeps_flooding_is_disconnected_with_a_notice(
    make_server: ServerFactory,
) -> None:
    srv = await make_server(rate_requests=1, rate_burst=5, rate_strikes=10)
    bystander = await connect(srv, "calm")
    await bystander.ok("join", room="lobby")
    flooder = await connect(srv, "flood")
    await flooder.ok("join", room="lobby")
    await bystander.expect("joined", nick="flood")
    await flooder.send_raw(pings(1000, 200))
    got = await flooder.closed(timeout=10)
    notices = [m for m in got if m["type"] == "notice"]
    assert notices and notices[-1]["code"] == "rate_limited", got
    left = await bystander.expect("left", nick="flood")
    assert left["room"] == "lobby"
    # the bystander noticed nothing else: it still chats
    assert (await bystander.request("say", room="lobby", text="still here"))["type"] == "ok"
    assert srv.hub is not None and srv.hub.stats.disconnects["rate_limited"] == 1


async def test_defaults_let_a_500_message_burst_through(make_server: ServerFactory) -> None:
    """A well-behaved heavy user (pasting, a benchmark sender) never meets the limits."""
    srv = await make_server()
    sender = await connect(srv, "paster")
    receiver = await connect(srv, "reader")
    await sender.ok("join", room="lobby")
    await receiver.ok("join", room="lobby")
    lines = b"".join(
        json.dumps({"type": "say", "id": 1000 + i, "room": "lobby", "text": f"line {i}"}).encode()
        + b"\n"
        for i in range(1, 501)
    )
    await sender.send_raw(lines)
    got = await replies(sender, range(1001, 1501))
    assert all(m["type"] == "ok" for m in got.values()), [
        m for m in got.values() if m["type"] != "ok"
    ][:3]
    texts: list[str] = []
    while len(texts) < 500:
        msg = await receiver.expect("message", timeout=10)
        texts.append(msg["text"])
    assert texts == [f"line {i}" for i in range(1, 501)]


# ---- byte rate ---------------------------------------------------------------------


async def test_byte_rate_slows_the_sender_without_losing_or_dropping(
    make_server: ServerFactory,
) -> None:
    srv = await make_server(rate_bytes=4000, max_line=1024)
    sender = await connect(srv, "bulk")
    receiver = await connect(srv, "reader")
    await sender.ok("join", room="lobby")
    await receiver.ok("join", room="lobby")
    text = "x" * 900
    line_bytes = 0
    started = time.monotonic()
    for i in range(1, 21):  # ~19 KB, one line at a time: 4 KB of burst, then 4 KB/s
        line = json.dumps({"type": "say", "id": 1000 + i, "room": "lobby", "text": text}).encode()
        line_bytes += len(line) + 1
        await sender.send_raw(line + b"\n")
        assert (await sender.reply(1000 + i, timeout=30))["type"] == "ok"
    elapsed = time.monotonic() - started
    for _ in range(20):
        assert (await receiver.expect("message", timeout=10))["text"] == text
    # bytes served by time t <= burst + rate * t + the line being read; so a lower
    # bound on the time (a loaded machine is only slower): reading was paused
    assert elapsed >= (line_bytes - 4000 - 1000) / 4000 * 0.9, elapsed
    assert srv.hub is not None and not srv.hub.stats.disconnects.get("rate_limited")


# ---- connections per address ----------------------------------------------------------


async def test_connections_per_address_are_capped(make_server: ServerFactory) -> None:
    srv = await make_server(max_connections_per_address=3, limit_exempt=())
    first = [await connect(srv, f"user{i}") for i in range(3)]
    extra = await connect(srv)
    got = await extra.closed(timeout=10)
    assert [m.get("code") for m in got] == ["too_many_connections"], got
    assert "too many connections" in str(got[0]["text"])
    # the three are unaffected, and closing one frees a slot
    for c in first:
        assert (await c.request("ping"))["type"] == "ok"
    await first[0].close()
    await asyncio.sleep(0.2)
    for _ in range(50):  # wait until the server has seen the close
        assert srv.hub is not None
        if len(srv.hub.sessions) == 2:
            break
        await asyncio.sleep(0.1)
    again = await connect(srv, "user9")
    assert (await again.request("ping"))["type"] == "ok"
    for c in (*first[1:], again):
        await c.close()


async def test_loopback_is_exempt_by_default(make_server: ServerFactory) -> None:
    srv = await make_server(max_connections_per_address=2)
    clients = [await connect(srv, f"local{i}") for i in range(5)]
    for c in clients:
        assert (await c.request("ping"))["type"] == "ok"
    for c in clients:
        await c.close()


async def test_bad_lines_draw_on_the_same_budget(make_server: ServerFactory) -> None:
    """Every bad line is answered, so a stream of them is a flood like any other."""
    srv = await make_server(rate_requests=5, rate_burst=20, rate_strikes=50)
    bystander = await connect(srv, "calm")
    await bystander.ok("join", room="lobby")
    junk = await connect(srv)
    await junk.send_raw(b"not json\n" * 10)  # within the burst: answered, connection stays
    for _ in range(10):
        assert (await junk.next())["code"] == "bad_frame"
    assert (await junk.request("ping"))["type"] == "error"  # not_registered, but answered
    await junk.send_raw(b"x\n" * 5000)
    got = await junk.closed(timeout=10)
    assert got[-1] == {
        "type": "notice",
        "text": "too many bad lines; closing",
        "code": "rate_limited",
    }
    assert srv.hub is not None and srv.hub.stats.disconnects["rate_limited"] == 1
    assert (await bystander.request("say", room="lobby", text="fine"))["type"] == "ok"


def test_take_up_to() -> None:
    bucket = TokenBucket(rate=1.0, capacity=10)
    t0 = bucket.stamp
    assert bucket.take_up_to(4, now=t0) == 4
    assert bucket.take_up_to(100, now=t0) == 6
    assert bucket.take_up_to(3, now=t0) == 0
    assert TokenBucket(rate=0.0, capacity=0).take_up_to(7) == 7


def test_peer_addresses_are_counted_by_ip() -> None:
    assert peer_address(("10.1.2.3", 5555)) == "10.1.2.3"
    assert peer_address(("::ffff:127.0.0.1", 5555, 0, 0)) == "127.0.0.1"
    assert peer_address(("2001:db8::1", 5555, 0, 0)) == "2001:db8::1"
    assert peer_address("/run/chinwag.sock") == ""
    assert peer_address(None) == ""
