"""The benchmark must keep working: tiny runs of every scenario, exact counts, no timing.

Each run starts a real ``python -m server`` (and ngircd when it is installed),
real worker processes and real sockets, so a broken harness, a lost or
duplicated delivery, or an acknowledged message missing from the database
fails here rather than on the day someone needs the figures.
"""

from __future__ import annotations

import pytest

from bench.__main__ import main
from bench.run import fanout, history, idle
from bench.servers import ngircd_available, raise_nofile

TARGETS = [
    "chinwag",
    pytest.param(
        "ngircd",
        marks=pytest.mark.skipif(
            not ngircd_available(), reason="ngircd not installed (Debian package ngircd)"
        ),
    ),
]


@pytest.fixture(autouse=True, scope="module")
def _nofile() -> None:
    raise_nofile()


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize(
    ("reader", "exact"),
    [("python", True), ("python", False), ("c", True)],
    ids=["python-exact", "python-light", "compiled"],
)
def test_burst_counts_every_delivery(target: str, reader: str, exact: bool) -> None:
    res = fanout(
        "smoke-a",
        target,
        receivers=5,
        senders=2,
        messages=20,
        exact=exact,
        reader=reader,
        timeout=60,
    )
    t = res.tally
    assert res.extra["connections"] == 7
    # every receiver gets 2 x 20, each sender the other sender's 20
    assert t.expected == 5 * 40 + 2 * 20
    assert t.deliveries == t.expected
    assert t.lost == 0 and t.out_of_order == 0 and t.errors == 0
    assert t.g_sum == t.g_expected_sum
    assert sum(t.hist) == t.deliveries
    assert res.cpu_s >= 0 and res.peak_rss_kib > 0


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("reader", ["python", "c"])
def test_paced_run_counts_every_delivery(target: str, reader: str) -> None:
    res = fanout(
        "b",
        target,
        receivers=4,
        senders=2,
        messages=10,
        rate=50.0,
        exact=False,
        reader=reader,
        timeout=60,
    )
    t = res.tally
    assert t.expected == 4 * 20 + 2 * 10
    assert t.deliveries == t.expected and t.lost == 0 and t.g_sum == t.g_expected_sum
    assert sum(t.hist) == t.deliveries and res.extra["harness_cpu_s"] >= 0


@pytest.mark.parametrize("target", TARGETS)
def test_idle_connections_are_measured(target: str) -> None:
    res = idle("c", target, connections=50)
    assert res.extra["connections"] == 50
    assert res.extra["rss_after_kib"] > 0


@pytest.mark.parametrize("sync", ["full", "normal"])
def test_every_acknowledged_message_is_in_the_database(sync: str) -> None:
    res = history("d", senders=2, duration=0.3, window=20, history_sync=sync)
    t = res.tally
    assert t.acked > 0 and t.errors == 0
    # the bench waits for every ack before stopping the server
    assert t.acked == t.sent == res.extra["rows_in_db"]


def test_cli_rejects_bad_sizes(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--scenario", "a", "--receivers", "0"]) == 2
    assert "--receivers must be at least 1" in capsys.readouterr().err


def test_cli_smoke_scenario_runs(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--scenario", "smoke", "--target", "chinwag", "--json"]) == 0
    out = capsys.readouterr().out
    assert '"lost": 0' in out and '"checksum_ok": true' in out
