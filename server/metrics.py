"""The optional Prometheus endpoint (``metrics_port``; off by default).

Nothing here runs on the request path: the hub and the history store keep
plain counters (:class:`server.stats.Stats`, ``HistoryStore.commit_times``),
and :class:`ChinwagCollector` turns them into metric families when
Prometheus scrapes.  prometheus-client serves HTTP from its own thread; the
collector only reads integers and copies small dicts there, which the GIL
makes safe without locking the event loop.
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import logging
import threading
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from prometheus_client import start_http_server
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    InfoMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector, CollectorRegistry

from server import __version__

if TYPE_CHECKING:
    from server.app import ChinwagServer

log = logging.getLogger(__name__)

#: history commit latency buckets (seconds): group commits with fsync are ~0.1-20 ms
LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)


class LatencyHistogram:
    """Cumulative histogram fed from the store's sample deque (drained, thread-safe)."""

    def __init__(self, buckets: tuple[float, ...] = LATENCY_BUCKETS) -> None:
        self.bounds = buckets
        self.counts = [0] * (len(buckets) + 1)  # last slot: +Inf
        self.total = 0.0
        self._lock = threading.Lock()

    def drain(self, samples: Any) -> None:
        with self._lock:
            while True:
                try:
                    value = samples.popleft()
                except IndexError:
                    return
                self.counts[bisect.bisect_left(self.bounds, value)] += 1
                self.total += value

    def family(self, name: str, doc: str) -> HistogramMetricFamily:
        with self._lock:
            cumulative: list[tuple[str, float]] = []
            running = 0
            for bound, count in zip((*map(str, self.bounds), "+Inf"), self.counts, strict=True):
                running += count
                cumulative.append((bound, running))
            return HistogramMetricFamily(name, doc, buckets=cumulative, sum_value=self.total)


class ChinwagCollector(Collector):
    def __init__(self, server: ChinwagServer) -> None:
        self.server = server
        self.latency = LatencyHistogram()
        self.started = time.time()

    def collect(self) -> Iterator[Metric]:
        info = InfoMetricFamily("chinwag", "Chinwag server version")
        info.add_metric([], {"version": __version__})
        yield info
        yield GaugeMetricFamily(
            "chinwag_start_time_seconds", "Unix time the server started", value=self.started
        )
        hub = self.server.hub
        if hub is None:
            return
        stats = hub.stats
        store = self.server.store
        yield GaugeMetricFamily(
            "chinwag_connections",
            "Open client connections",
            value=sum(1 for s in hub.sessions if not s.closing),
        )
        yield GaugeMetricFamily(
            "chinwag_users", "Connections that said hello (online nicks)", value=len(hub.nicks)
        )
        yield GaugeMetricFamily("chinwag_rooms", "Rooms that exist now", value=len(hub.rooms))
        yield CounterMetricFamily(
            "chinwag_accepted_connections", "Connections accepted", value=stats.connections_total
        )
        yield CounterMetricFamily(
            "chinwag_requests", "Requests received from clients", value=stats.messages_in
        )
        yield CounterMetricFamily(
            "chinwag_messages_in",
            "Chat messages (say and msg) received and stored",
            value=store.rows_written,
        )
        yield CounterMetricFamily(
            "chinwag_messages_out",
            "Chat messages (message and private events) delivered to clients",
            value=stats.deliveries_out,
        )
        yield CounterMetricFamily(
            "chinwag_received_bytes", "Bytes received from clients", value=stats.bytes_in
        )
        yield CounterMetricFamily(
            "chinwag_sent_bytes", "Bytes sent to clients", value=stats.bytes_out
        )
        disconnects = CounterMetricFamily(
            "chinwag_disconnects", "Connections closed by the server, by reason", labels=["reason"]
        )
        for reason, count in sorted(dict.copy(stats.disconnects).items()):
            disconnects.add_metric([reason], count)
        yield disconnects
        yield CounterMetricFamily(
            "chinwag_history_commits", "History group commits", value=store.commits
        )
        yield GaugeMetricFamily(
            "chinwag_history_backlog",
            "History writes queued and not yet durable",
            value=store.backlog,
        )
        self.latency.drain(store.commit_times)
        yield self.latency.family(
            "chinwag_history_write_seconds", "Time to write and commit one history batch"
        )


class MetricsExporter:
    """Serves ``/metrics`` for one :class:`ChinwagServer` from prometheus-client's thread."""

    def __init__(self, server: ChinwagServer, host: str, port: int) -> None:
        self.host = host
        self.port = port
        self.collector = ChinwagCollector(server)
        self.registry = CollectorRegistry(auto_describe=False)
        self.registry.register(self.collector)
        self._httpd: Any = None
        self._thread: threading.Thread | None = None
        self._drainer: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Bind and serve; raises OSError if the port is unusable."""
        self._httpd, self._thread = start_http_server(self.port, self.host, self.registry)
        self.port = int(self._httpd.server_address[1])
        self._drainer = asyncio.create_task(self._drain(), name="chinwag-metrics")
        log.info("metrics on http://%s:%d/metrics", self.host, self.port)

    async def _drain(self) -> None:
        """Fold latency samples in every second so none fall off the store's bounded deque."""
        store = self.collector.server.store
        while True:
            await asyncio.sleep(1.0)
            self.collector.latency.drain(store.commit_times)

    async def close(self) -> None:
        if self._drainer is not None:
            self._drainer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._drainer
            self._drainer = None
        if self._httpd is not None:
            httpd, self._httpd = self._httpd, None
            await asyncio.to_thread(httpd.shutdown)
            httpd.server_close()
        if self._thread is not None:
            await asyncio.to_thread(self._thread.join, 5.0)
            self._thread = None
