"""The compiled receiver counts, orders and times every marker, and answers pings.

Real sockets (socket pairs) and the real compiled ``bench/reader.c``: lines
split across reads, IRC prefixes that hold a ``~`` of their own, a duplicate,
and both protocols' pings.
"""

from __future__ import annotations

import asyncio
import socket
import time

from bench.reader import Reader


def _t() -> int:
    return time.monotonic_ns() // 1000


async def test_reader_counts_markers_across_split_lines_and_answers_pings() -> None:
    chinwag, chinwag_peer = socket.socketpair()
    irc, irc_peer = socket.socketpair()
    try:
        reader = await Reader.start(
            [(chinwag_peer.fileno(), 3), (irc_peer.fileno(), 2)],
            senders=2,
            per_sender=10,
            timeout=10.0,
        )
        t = _t() - 5000  # sent 5 ms ago
        first = b'{"type":"message","text":"~0.%d~ a"}\n{"type":"ping"}\n{"type":"mess' % t
        chinwag.sendall(first)
        await asyncio.sleep(0.05)
        chinwag.sendall(b'age","text":"~1.%d~ b"}\n{"type":"message","text":"~1.%d~ b"}\n' % (t, t))
        irc.sendall(b"PING :irc.test\r\n:s1!~s1@host PRIVMSG #bench :~10.%d~ c\r\n" % t)
        irc.sendall(b":s1!~s1@host PRIVMSG #bench :~11.%d~ d\r\n" % t)
        got = await reader.result()
        assert got.deliveries == 5
        assert got.out_of_order == 1  # the second ~1.~ is a duplicate
        assert got.g_sum == 0 + 1 + 1 + 10 + 11
        assert got.errors == 0
        assert sum(n for _, n in got.hist) == 5
        assert 5000 <= got.lat_max_us < 5_000_000
        chinwag.settimeout(5)
        irc.settimeout(5)
        assert chinwag.recv(100) == b'{"type":"pong"}\n'
        assert irc.recv(100) == b"PONG :irc.test\r\n"
    finally:
        for s in (chinwag, chinwag_peer, irc, irc_peer):
            s.close()


async def test_reader_reports_a_closed_connection() -> None:
    a, b = socket.socketpair()
    try:
        reader = await Reader.start([(b.fileno(), 1)], senders=1, per_sender=1, timeout=0.5)
        a.close()
        started = time.monotonic()
        got = await reader.result()
        assert got.deliveries == 0 and got.errors == 1
        assert "closed" in got.error_sample
        assert time.monotonic() - started < 5
    finally:
        b.close()
