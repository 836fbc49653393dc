"""The start-up heap leaves the cyclic collector once per process (shorter full collections), provider or GUI."""

from __future__ import annotations

import gc
import weakref

import pytest

from app import heap
from app.router.provider import node


def test_the_startup_heap_is_frozen_once_and_later_objects_stay_collectable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(heap, "_heap_frozen", False)
    gc.unfreeze()
    try:
        assert node.freeze_startup_heap()  # what ProviderNode.start calls
        frozen = gc.get_freeze_count()
        later = [[] for _ in range(1000)]  # lists are tracked by the collector
        assert not heap.freeze_startup_heap(collect_first=True)  # the GUI's call finds it done
        assert frozen > 1000  # every module, class and function alive at start-up
        assert gc.get_freeze_count() == frozen
        assert later
    finally:
        gc.unfreeze()


def test_collecting_first_frees_start_up_garbage_instead_of_pinning_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(heap, "_heap_frozen", False)
    gc.unfreeze()

    class Node:
        pass

    cycle = Node()
    cycle.self = cycle  # type: ignore[attr-defined]
    watcher = weakref.ref(cycle)
    del cycle
    try:
        assert heap.freeze_startup_heap(collect_first=True)
        assert watcher() is None
    finally:
        gc.unfreeze()
