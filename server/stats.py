"""Plain counters the server keeps for metrics and the status command.

Incrementing an attribute is all the hot path pays; the optional Prometheus
exporter reads these at scrape time.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field


@dataclass(slots=True)
class Stats:
    connections_total: int = 0
    messages_in: int = 0
    deliveries_out: int = 0
    bytes_in: int = 0
    bytes_out: int = 0
    protocol_errors: int = 0
    disconnects: Counter[str] = field(default_factory=Counter)
