"""Garbage collection on the GUI thread only.

Python's cyclic collector runs in whichever thread happens to allocate when
a threshold is crossed.  If a cycle holding a Qt object is collected in a
worker thread (asyncio's resolver pool, or in tests the server's history
writer), its C++ object is destroyed off the GUI thread, which can crash Qt.
So, like qutebrowser, we switch automatic collection off and collect from a
timer on the GUI thread instead, honouring the usual generation thresholds.
"""

from __future__ import annotations

import gc

from PyQt6.QtCore import QObject, QTimer

#: how often the GUI thread looks at the allocation counters
INTERVAL_MS = 500


class MainThreadCollector(QObject):
    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._was_enabled = gc.isenabled()
        self._timer = QTimer(self)
        self._timer.setInterval(INTERVAL_MS)
        self._timer.timeout.connect(self.collect)

    def start(self) -> None:
        gc.disable()
        self._timer.start()

    def stop(self) -> None:
        """Stop the timer, collect once more, and give collection back to Python."""
        self._timer.stop()
        gc.collect()
        if self._was_enabled:
            gc.enable()

    def collect(self) -> None:
        """Collect the oldest generation whose allocation count passed its threshold."""
        counts = gc.get_count()
        thresholds = gc.get_threshold()
        for generation in (2, 1, 0):
            if counts[generation] > thresholds[generation]:
                gc.collect(generation)
                return
