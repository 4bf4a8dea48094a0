"""The Prometheus endpoint, scraped over real HTTP while clients chat."""

from __future__ import annotations

import asyncio
import socket
import urllib.request

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.helpers.wire import WireClient
from tests.service.conftest import free_port


async def scrape(port: int) -> dict[str, float]:
    def get() -> str:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as resp:
            assert resp.status == 200
            assert resp.headers["Content-Type"].startswith("text/plain")
            return str(resp.read().decode())

    text = await asyncio.to_thread(get)
    out: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            key = sample.name + "".join(f"|{k}={v}" for k, v in sorted(sample.labels.items()))
            out[key] = sample.value
    return out


async def test_metrics_endpoint(make_server) -> None:
    port = free_port()
    srv = await make_server(metrics_port=port, handshake_timeout=0.5)
    assert srv.metrics is not None and srv.metrics.port == port
    before = await scrape(port)
    assert before["chinwag_connections"] == 0
    assert before["chinwag_info|version=0.1.0"] == 1

    alice = await WireClient.connect(srv.host, srv.port)
    bob = await WireClient.connect(srv.host, srv.port)
    await alice.hello("alice")
    await bob.hello("bob")
    await alice.ok("join", room="lobby")
    await bob.ok("join", room="lobby")
    await alice.ok("join", room="extra")
    for i in range(3):
        await alice.ok("say", room="lobby", text=f"m{i}")
    await alice.ok("msg", to="bob", text="dm")
    silent = await WireClient.connect(srv.host, srv.port)  # never says hello
    await silent.closed(timeout=10)

    m = await scrape(port)
    assert m["chinwag_connections"] == 2
    assert m["chinwag_users"] == 2
    assert m["chinwag_rooms"] == 2
    assert m["chinwag_accepted_connections_total"] == 3
    assert m["chinwag_messages_in_total"] == 4
    assert m["chinwag_messages_out_total"] == 4  # three to bob in the room, one private
    assert m["chinwag_requests_total"] == 9  # 2 hello, 3 join, 3 say, 1 msg
    assert m["chinwag_received_bytes_total"] > 0 and m["chinwag_sent_bytes_total"] > 0
    assert m["chinwag_disconnects_total|reason=handshake_timeout"] == 1
    assert m["chinwag_history_write_seconds_count"] >= 1
    assert (
        m["chinwag_history_write_seconds_bucket|le=+Inf"]
        == m["chinwag_history_write_seconds_count"]
    )
    assert m["chinwag_history_write_seconds_sum"] > 0
    for c in (alice, bob, silent):
        await c.close()
    await srv.close()
    with pytest.raises(OSError):
        await scrape(port)  # closed with the server


async def test_metrics_port_in_use_fails_cleanly(make_server) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        with pytest.raises(OSError):
            await make_server(metrics_port=busy.getsockname()[1])


def test_metrics_off_by_default(server_process) -> None:
    srv = server_process()
    assert "metrics on" not in srv.output
