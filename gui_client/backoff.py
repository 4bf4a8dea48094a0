"""Reconnect delays: exponential backoff with jitter (pure, so it is testable)."""

from __future__ import annotations

import random
from dataclasses import dataclass, field


@dataclass
class Backoff:
    """Delays ``initial * factor**n`` capped at ``maximum``, each drawn uniformly from
    its upper half so a crowd of clients does not reconnect in lockstep."""

    initial: float = 0.5
    factor: float = 2.0
    maximum: float = 30.0
    rng: random.Random = field(default_factory=random.Random)
    attempt: int = 0

    def next(self) -> float:
        ceiling = min(self.maximum, self.initial * self.factor**self.attempt)
        self.attempt += 1
        return self.rng.uniform(ceiling / 2, ceiling)

    def reset(self) -> None:
        self.attempt = 0
