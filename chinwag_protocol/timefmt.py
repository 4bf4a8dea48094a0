"""Timestamps and message ids as they appear on the wire."""

from __future__ import annotations

import time
from datetime import UTC, datetime

#: msg_id width: zero-padded so string order equals numeric order.
MSG_ID_WIDTH = 12


def now_ms() -> int:
    """Milliseconds since the Unix epoch (wall clock)."""
    return time.time_ns() // 1_000_000


_last_second: list[tuple[int, str]] = [(-1, "")]


def format_ts(epoch_ms: int) -> str:
    """RFC 3339 UTC with milliseconds, e.g. ``2026-11-24T13:45:01.123Z``."""
    secs, ms = divmod(epoch_ms, 1000)
    # a busy server stamps thousands of messages within one second: format it once
    last_secs, prefix = _last_second[0]
    if secs != last_secs:
        t = time.gmtime(secs)
        prefix = (
            f"{t.tm_year:04d}-{t.tm_mon:02d}-{t.tm_mday:02d}T"
            f"{t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d}."
        )
        _last_second[0] = (secs, prefix)
    return f"{prefix}{ms:03d}Z"


def parse_ts(ts: str) -> datetime:
    """Parse a wire timestamp into an aware UTC datetime (raises ValueError)."""
    if not ts.endswith("Z"):
        raise ValueError(f"timestamp not in UTC: {ts!r}")
    return datetime.fromisoformat(ts[:-1]).replace(tzinfo=UTC)


def format_msg_id(n: int) -> str:
    return f"{n:0{MSG_ID_WIDTH}d}"


def parse_msg_id(msg_id: str) -> int:
    """The integer behind a msg_id; ValueError for anything we never issued."""
    if not (0 < len(msg_id) <= 20) or not msg_id.isascii() or not msg_id.isdigit():
        raise ValueError(f"not a message id: {msg_id!r}")
    return int(msg_id)
