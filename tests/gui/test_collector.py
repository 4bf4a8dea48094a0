"""Cyclic garbage is collected on the GUI thread, never in a worker thread."""

from __future__ import annotations

import gc
import threading
import weakref

import pytest

from gui_client.collector import MainThreadCollector

pytestmark = pytest.mark.gui


class Node:
    def __init__(self) -> None:
        self.me = self  # a reference cycle: only the cyclic collector frees it


def test_collector_owns_collection_and_gives_it_back(qapp) -> None:
    was_enabled = gc.isenabled()
    collector = MainThreadCollector()
    collector.start()
    try:
        assert not gc.isenabled()
        ref = weakref.ref(Node())
        # a worker thread allocating a lot triggers no collection now
        worker = threading.Thread(target=lambda: [[[]] for _ in range(100_000)])
        worker.start()
        worker.join()
        assert ref() is not None
        thresholds = gc.get_threshold()
        gc.set_threshold(1, 1, 1)
        try:
            collector.collect()  # what the timer does on the GUI thread
        finally:
            gc.set_threshold(*thresholds)
        assert ref() is None
    finally:
        collector.stop()
        collector.deleteLater()
    assert gc.isenabled() == was_enabled
