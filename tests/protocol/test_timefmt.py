"""Wire timestamps and message ids."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from chinwag_protocol.timefmt import (
    MSG_ID_WIDTH,
    format_msg_id,
    format_ts,
    now_ms,
    parse_msg_id,
    parse_ts,
)

TS_RE = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z")


def test_format_ts_known_values() -> None:
    assert format_ts(0) == "1970-01-01T00:00:00.000Z"
    assert format_ts(1_795_873_501_123) == "2026-11-28T13:45:01.123Z"
    assert format_ts(1_000_000_000_007) == "2001-09-09T01:46:40.007Z"


def test_format_matches_rfc3339_and_datetime() -> None:
    ms = now_ms()
    ts = format_ts(ms)
    assert TS_RE.fullmatch(ts)
    expected = datetime.fromtimestamp(ms / 1000, UTC).isoformat(timespec="milliseconds")
    assert ts == expected.replace("+00:00", "Z")


def test_parse_ts_round_trip() -> None:
    ts = format_ts(1_795_873_501_123)
    dt = parse_ts(ts)
    assert dt.tzinfo is UTC
    assert round(dt.timestamp() * 1000) == 1_795_873_501_123


def test_parse_ts_rejects_non_utc() -> None:
    with pytest.raises(ValueError):
        parse_ts("2026-11-24T13:45:01.123+01:00")
    with pytest.raises(ValueError):
        parse_ts("yesterdayZ")


def test_msg_id_is_zero_padded_and_orders_as_strings() -> None:
    assert MSG_ID_WIDTH == 12
    assert format_msg_id(42) == "000000000042"
    ids = [format_msg_id(n) for n in (1, 9, 10, 99, 100, 123456, 10**11)]
    assert all(len(i) == 12 for i in ids)
    assert sorted(ids) == ids
    assert [parse_msg_id(i) for i in ids] == [1, 9, 10, 99, 100, 123456, 10**11]


@pytest.mark.parametrize("bad", ["", "abc", "-1", "1.5", " 12", "１２", "1" * 21, "12a"])
def test_parse_msg_id_rejects(bad: str) -> None:
    with pytest.raises(ValueError):
        parse_msg_id(bad)
